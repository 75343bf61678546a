#!/usr/bin/env python3
"""A small client for the tracker's API, in one file and the standard library only.

Copy it next to your own scripts. It does the four things a desk's scripts need:

- `pull(type)`: every published record of a list, page after page;
- `sync(mirror, since)`: keep a local copy of the published record up to date;
- `put_by_key(type, system, key, body)`: write a record under the script's own key, so that a
  script can be run again (after a crash, say) without making duplicates;
- `get(type, id)` and `update(type, id, body, etag)`: edit a record without overwriting
  somebody else's change made in between.

From the shell (the token, for writes and drafts, from TRACKER_TOKEN):

    python tracker_client.py pull organizations > organizations.jsonl
    python tracker_client.py sync mirror/
    python tracker_client.py put-by-key organizations my-desk ORG-3 org.json
"""

import argparse
import email.utils
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

# The lists a mirror keeps, by their names in the URL.
TYPES = ("persons", "events", "organizations", "places", "facilities", "batches", "sources")
# The changes feed names a record's type in the singular.
SINGULAR = ("person", "event", "organization", "place", "facility", "batch", "source")
LIST_OF_CHANGE = dict(zip(SINGULAR, TYPES, strict=True))
# A change is visible only once its transaction commits, so a run starts its next watermark a
# few minutes before it started; seeing a change twice is harmless.
SAFETY_MARGIN = timedelta(minutes=5)

Mirror = dict[str, dict[str, dict]]  # type -> record id -> the record as its list gives it


class ApiError(Exception):
    """A 4xx or 5xx answer: `status`, the parsed JSON `body` and the `url` asked.

    A 400's body names each field at fault, `{"kind": ["..."]}` (a part of a list by its
    position: `{"names": {"1": {"kind": ["..."]}}}`); every other error is `{"detail": "..."}`.
    """

    def __init__(self, status: int, body: Any, url: str, method: str = "GET"):
        self.status, self.body, self.url, self.method = status, body, url, method
        super().__init__(f"{method} {url}: {status} {json.dumps(body, ensure_ascii=False)}")


class PreconditionFailed(ApiError):
    """412 on an edit: someone changed the record since you read it. `current` and `etag` are
    the record as it is now: apply your change to it and send it again with that ETag."""

    def __init__(self, error: ApiError, current: dict, etag: str):
        super().__init__(error.status, error.body, error.url, error.method)
        self.current, self.etag = current, etag


class Written(NamedTuple):
    """A write's answer: the record, whether it was created (201) or replaced (200), its ETag."""

    record: dict
    created: bool
    etag: str


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]  # names in lower case
    body: Any


class TrackerClient:
    """The API at `base_url` (`http://127.0.0.1:8000`), with a token for writes and drafts."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        page_size: int = 200,
        max_retries: int = 4,
        max_wait: float = 60.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.page_size = page_size
        self.max_retries, self.max_wait = max_retries, max_wait
        self.timeout = timeout
        self.sleep = sleep
        # The Date of the first answer since `sync` began: the server's clock, which stamps
        # the records' `updated` times, rather than this machine's.
        self.first_date: datetime | None = None

    # --- HTTP ---------------------------------------------------------------------------------

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = path if "://" in path else f"{self.base_url}/api/v1/{path.lstrip('/')}"
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request; retry a 429 or 503 after its Retry-After (at most `max_retries`
        times, each wait at most `max_wait` seconds); raise ApiError for any other 4xx or 5xx."""
        url = self.url(path, params)
        sent = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, data=data, headers=sent, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    answer = Answer(response.status, lower(response.headers), read_json(response))
            except urllib.error.HTTPError as exc:
                answer = Answer(exc.code, lower(exc.headers), read_json(exc))
            if self.first_date is None:
                self.first_date = http_date(answer.headers.get("date", ""))
            if answer.status in (429, 503) and attempt < self.max_retries:
                self.sleep(self.retry_after(answer.headers, attempt))
                continue
            if answer.status >= 400:
                raise ApiError(answer.status, answer.body, url, method)
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def retry_after(self, headers: dict[str, str], attempt: int) -> float:
        """Seconds to wait: the Retry-After header (seconds or a date), else 1, 2, 4... s."""
        value = headers.get("retry-after", "").strip()
        wait = float(2**attempt)
        if value.isdigit():
            wait = float(value)
        elif when := http_date(value):
            wait = (when - datetime.now(UTC)).total_seconds()
        return min(max(wait, 0.0), self.max_wait)

    # --- Reads --------------------------------------------------------------------------------

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict]:
        """Every row of a keyset-paged list: `{"next": url or null, "results": [...]}`."""
        url: str | None = self.url(path, {"page_size": self.page_size, **params})
        while url:
            page = self.request("GET", url).body
            yield from page["results"]
            url = page["next"]  # the same query, with the next page's cursor

    def pull(self, type: str, **params: Any) -> Iterator[dict]:
        """Every published record of the list `type` (`persons`, `events`...), in the order
        they were created: a record edited while the pull runs cannot move past the cursor, as
        it could in an order by name. Filters go in `params` (`updated_since=...`)."""
        return self.pages(f"{type}/", {"ordering": "created", **params})

    def changes(self, since: datetime) -> Iterator[dict]:
        """Published records withdrawn or deleted since `since`: `{"type", "id", "change",
        "reason", "at"}`, oldest first."""
        return self.pages("changes/", {"since": iso(since)})

    def sync(
        self,
        mirror: Mirror,
        since: datetime | None = None,
        types: tuple[str, ...] = TYPES,
        log: Callable[[str], None] = lambda line: None,
    ) -> datetime:
        """Bring `mirror` up to date and return the watermark to pass as `since` next time.

        Without `since`, each list is pulled whole. With it: first drop every record the
        changes feed lists since then, then store every row each list changed since then. In
        that order a record withdrawn and published again ends up in the mirror, as publishing
        moves its `updated` time. The watermark is when this run started, by the server's clock
        where its answers say it, less SAFETY_MARGIN.

        A row's `updated` moves whenever anything it shows changes, other records' names and
        a person's dates from their events included, so those rows come back in the second
        step too.
        """
        self.first_date = None
        started = datetime.now(UTC)
        if since is not None:
            dropped = 0
            for change in self.changes(since):
                name = LIST_OF_CHANGE.get(change["type"])
                if name in types and mirror.get(name, {}).pop(change["id"], None) is not None:
                    dropped += 1
            log(f"changes since {iso(since)}: {dropped} dropped")
        for name in types:
            if since is None:
                mirror[name] = {row["id"]: row for row in self.pull(name)}
                log(f"{name}: {len(mirror[name])} pulled")
                continue
            stored = 0
            for row in self.pull(name, updated_since=iso(since)):
                mirror.setdefault(name, {})[row["id"]] = row
                stored += 1
            log(f"{name}: {stored} stored")
        return (self.first_date or started) - SAFETY_MARGIN

    def get(self, type: str, id: str) -> tuple[dict, str]:
        """One record (drafts too, with a staff token) and its ETag, for `update`."""
        answer = self.request("GET", f"{type}/{id}/")
        return answer.body, answer.headers.get("etag", "")

    # --- Writes -------------------------------------------------------------------------------

    def update(self, type: str, id: str, body: dict, etag: str) -> Written:
        """Replace the record with `body` (a GET's body, edited, may be sent back as it is),
        only if it still has `etag`. If someone changed it in between, raise PreconditionFailed
        holding the record as it is now: nothing is overwritten."""
        try:
            answer = self.request("PUT", f"{type}/{id}/", body=body, headers={"If-Match": etag})
        except ApiError as exc:
            if exc.status != 412:
                raise
            current, current_etag = self.get(type, id)
            raise PreconditionFailed(exc, current, current_etag) from exc
        return Written(answer.body, False, answer.headers.get("etag", ""))

    def put_by_key(self, type: str, system: str, key: str, body: dict) -> Written:
        """Create or replace the record the script knows as `key` in its `system`: 201 the
        first time, 200 after. Running a script again writes the same records, no new ones."""
        path = f"{type}/by-key/{quote(system)}/{quote(key)}/"
        answer = self.request("PUT", path, body=body)
        return Written(answer.body, answer.status == 201, answer.headers.get("etag", ""))


def read_json(response: Any) -> Any:
    raw = response.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode("utf-8", "replace")  # a proxy's HTML error page, say


def http_date(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- The mirror on disk: one JSON file per type, and the watermark ------------------------------


def load_mirror(directory: Path) -> tuple[Mirror, datetime | None]:
    mirror = {}
    for name in TYPES:
        path = directory / f"{name}.json"
        if path.exists():
            mirror[name] = json.loads(path.read_text())
    state = directory / "state.json"
    since = json.loads(state.read_text())["watermark"] if state.exists() else None
    return mirror, datetime.fromisoformat(since) if since else None


def save_mirror(directory: Path, mirror: Mirror, watermark: datetime) -> None:
    """Write each type, then the watermark last: a run stopped half-way starts again from the
    previous watermark, and applying a change twice is harmless."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {f"{name}.json": rows for name, rows in mirror.items()}
    files["state.json"] = {"watermark": watermark.isoformat()}
    for filename, content in files.items():
        temporary = directory / f".{filename}.tmp"
        temporary.write_text(json.dumps(content, ensure_ascii=False, indent=1, sort_keys=True))
        temporary.replace(directory / filename)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("TRACKER_URL", "http://127.0.0.1:8000"),
        help="the tracker (default: TRACKER_URL or http://127.0.0.1:8000)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    pull = commands.add_parser("pull", help="print every published record as JSON Lines")
    pull.add_argument("type", choices=TYPES)
    sync = commands.add_parser("sync", help="keep a mirror (a JSON file per type) up to date")
    sync.add_argument("mirror", type=Path, metavar="MIRROR_DIR")
    sync.add_argument("--full", action="store_true", help="pull every list whole again")
    put = commands.add_parser("put-by-key", help="create or replace a record by your own key")
    put.add_argument("type", choices=TYPES)
    put.add_argument("system")
    put.add_argument("key")
    put.add_argument("file", type=Path, metavar="FILE.json")
    args = parser.parse_args(argv)

    client = TrackerClient(args.url, os.environ.get("TRACKER_TOKEN") or None)
    try:
        if args.command == "pull":
            for record in client.pull(args.type):
                print(json.dumps(record, ensure_ascii=False))
        elif args.command == "sync":
            mirror, since = load_mirror(args.mirror)
            since = None if args.full else since
            watermark = client.sync(mirror, since, log=lambda line: print(line, file=sys.stderr))
            save_mirror(args.mirror, mirror, watermark)
            print(f"next run from {iso(watermark)}", file=sys.stderr)
        else:
            body = json.loads(args.file.read_text())
            written = client.put_by_key(args.type, args.system, args.key, body)
            print("created" if written.created else "updated", written.etag, file=sys.stderr)
            print(json.dumps(written.record, ensure_ascii=False))
    except ApiError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
