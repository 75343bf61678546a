"""Time a bulk write through the API against the importer writing the same records.

    python -m bench.bulk_api [--people 10000] [--role Researcher] [--keep]

Builds N people, each with a primary name, a capture and their link to it (4 records a person),
as a script sends them: the script's own keys, linked by them. Sends them as one JSON Lines body
to `POST /api/v1/bulk/` with django.test.Client and a token of a user in `--role`, counting the
queries; then hands the same body to the importer (`import_rows`, as `manage.py import_records`
does) and times that. Each run is inside a transaction rolled back at the end (unless `--keep`),
so the local database is left as it was. Prints one line per path: records, seconds, queries.
"""

import argparse
import json
import os
import sys
import time
import uuid


def body(people: int, prefix: str) -> bytes:
    lines = []
    for i in range(people):
        key = f"{prefix}-P{i:06d}"
        lines += [
            {"table": "persons", "id": key, "gender": "male", "birth": "1980"},
            {
                "table": "person_names",
                "id": f"{key}-N",
                "person": key,
                "name": f"Bench Bulk {prefix} {i}",
                "family": "Bulk",
                "is_primary": True,
            },
            {"table": "events", "id": f"{key}-E", "kind": "capture", "date": "2011-04"},
            {"table": "event_people", "id": f"{key}-EP", "event": f"{key}-E", "person": key},
        ]
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()


class Rollback(Exception):
    pass


def measure(label: str, run, keep: bool) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                records = run()
                seconds = time.perf_counter() - started
            print(f"{label:<28} {records:>7} records {seconds:>8.1f} s {len(queries):>7} queries")
            if not keep:
                raise Rollback
    except Rollback:
        pass


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--role", default="Researcher", help="Researcher, Editor or Admin.")
    parser.add_argument("--keep", action="store_true", help="Commit what the API writes.")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.authtoken.models import Token

    from detainees.write.history import acting
    from detainees.write.importers.generic import import_rows, read_jsonl

    setup_test_environment()
    settings.API_BULK_MAX_RECORDS = max(settings.API_BULK_MAX_RECORDS, 4 * args.people)
    settings.API_BULK_MAX_BYTES = max(settings.API_BULK_MAX_BYTES, 300 * 4 * args.people)
    prefix = uuid.uuid4().hex[:8]
    content = body(args.people, prefix)
    print(f"{args.people} people, {len(content) / 1e6:.1f} MB of JSON Lines, as a {args.role}")

    def user():
        account = get_user_model().objects.create_user(f"bench-bulk-{prefix}", is_staff=True)
        account.groups.add(Group.objects.get(name=args.role))
        return account

    def api() -> int:
        token = Token.objects.create(user=user())
        client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
        response = client.post(
            f"/api/v1/bulk/?system=bench-{prefix}", content, content_type="application/x-ndjson"
        )
        if response.status_code != 201:
            sys.exit(f"{response.status_code}: {response.content[:2000]!r}")
        return sum(t["created"] for t in response.json()["tables"].values())

    def importer() -> int:
        account = user()
        rows = read_jsonl("body", content, [])
        with acting(account, "bench"):
            report = import_rows(rows, system=f"bench-{prefix}", user=account)
        return sum(created for _, created, _, _ in report.rows())

    measure("POST /api/v1/bulk/", api, args.keep)
    measure("import_rows (same records)", importer, keep=False)


if __name__ == "__main__":
    main()
