"""The example client (examples/api_client/tracker_client.py) against a running server.

Each test runs the client as a desk's script would, over HTTP against pytest-django's live
server, so the records it reads are committed: every test writes its own (transactional).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from detainees.domain.models import Event, ExternalId, Organization, Person
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent
CLIENT_PATH = ROOT / "examples" / "api_client" / "tracker_client.py"

pytestmark = pytest.mark.django_db(transaction=True)


def load_client_module():
    """The example as a module, imported from its file as a reader who copied it would."""
    spec = importlib.util.spec_from_file_location("tracker_client", CLIENT_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tc = load_client_module()
PUBLISHED = {"status": "published"}


def token_of(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def counting(client):
    """`client`, counting the requests it sends in `client.sent`."""
    client.sent = 0
    request = client.request

    def counted(*args, **kwargs):
        client.sent += 1
        return request(*args, **kwargs)

    client.request = counted
    return client


def fresh_pull(client) -> dict[str, dict[str, dict]]:
    return {name: {row["id"]: row for row in client.pull(name)} for name in tc.TYPES}


@pytest.fixture
def published_and_drafts():
    """Published people (with names), events and organizations, and a draft of each."""
    people = [f.PersonFactory(name=n, **PUBLISHED) for n in ("Qari Bilal", "Abdul Rahman")]
    people.append(f.PersonFactory(name="Mullah Omar Akhund", **PUBLISHED))
    organizations = [f.OrganizationFactory(**PUBLISHED) for _ in range(5)]
    events = [f.EventFactory(date=f"2011-04-{day}", **PUBLISHED) for day in (10, 20, 30)]
    for person, event in zip(people, events, strict=True):
        f.EventPersonFactory(person=person, event=event)
    drafts = [
        f.PersonFactory(name="Draft person"),
        f.OrganizationFactory(name="Draft organization"),
        f.EventFactory(summary="Draft event"),
    ]
    return {
        "persons": people,
        "organizations": organizations,
        "events": events,
        "drafts": drafts,
    }


def ids(records) -> set[str]:
    return {str(record.public_id) for record in records}


def test_pull_follows_the_pages_to_exactly_the_published_records(live_server, published_and_drafts):
    client = counting(tc.TrackerClient(live_server.url, page_size=2))
    for name in ("persons", "organizations", "events"):
        client.sent = 0
        rows = list(client.pull(name))
        assert {row["id"] for row in rows} == ids(published_and_drafts[name]), name
        assert len(rows) == len(published_and_drafts[name])  # none twice across pages
        assert client.sent == -(-len(rows) // 2), name  # two a page
    names = {row["name"] for row in client.pull("persons")}
    assert names == {"Qari Bilal", "Abdul Rahman", "Mullah Omar Akhund"}
    everything = [row for name in tc.TYPES for row in client.pull(name)]
    assert not ids(published_and_drafts["drafts"]) & {row["id"] for row in everything}
    assert "Draft" not in json.dumps(everything)


def test_sync_keeps_a_mirror_equal_to_a_fresh_pull(live_server, published_and_drafts, editor):
    reader = tc.TrackerClient(live_server.url, page_size=2)
    desk = tc.TrackerClient(live_server.url, token_of(editor))
    mirror = {}
    watermark = reader.sync(mirror)
    assert mirror == fresh_pull(reader)
    assert len(mirror["persons"]) == 3 and len(mirror["organizations"]) == 5

    edited, withdrawn = published_and_drafts["organizations"][:2]
    body, etag = desk.get("organizations", str(edited.public_id))
    desk.update("organizations", body["id"], {**body, "description": "Renamed in 2012."}, etag)
    body, etag = desk.get("organizations", str(withdrawn.public_id))
    body.update(status="withdrawn", withdrawal_reason="A duplicate of another record.")
    desk.update("organizations", body["id"], body, etag)
    haqqani = {"name": "Haqqani network", "kind": "armed_group", **PUBLISHED}
    created = desk.put_by_key("organizations", "desk", "ORG-9", haqqani).record

    log = []
    following = reader.sync(mirror, watermark, log=log.append)
    assert mirror == fresh_pull(reader)
    organizations = mirror["organizations"]
    assert str(withdrawn.public_id) not in organizations
    assert organizations[str(edited.public_id)]["description"] == "Renamed in 2012."
    assert organizations[created["id"]]["name"] == "Haqqani network"
    assert "changes since" in log[0] and log[0].endswith(": 1 dropped")
    assert following >= watermark


def test_sync_from_the_command_line_keeps_a_file_per_type(
    live_server, published_and_drafts, tmp_path
):
    directory = tmp_path / "mirror"
    assert tc.main(["--url", live_server.url, "sync", str(directory)]) == 0
    first, since = tc.load_mirror(directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [*(f"{name}.json" for name in tc.TYPES), "state.json"]
    )
    gone = published_and_drafts["organizations"].pop()
    gone.delete()
    assert tc.main(["--url", live_server.url, "sync", str(directory)]) == 0
    mirror, following = tc.load_mirror(directory)
    assert following >= since
    assert set(first["organizations"]) - set(mirror["organizations"]) == {str(gone.public_id)}
    assert mirror == fresh_pull(tc.TrackerClient(live_server.url))


class Crash(Exception):
    """The script stopping half-way (a lost connection, a bug, a killed process)."""


ORGANIZATIONS = {
    "ORG-1": {"name": "Islamic Movement of Uzbekistan", "kind": "armed_group", "country": "UZ"},
    "ORG-2": {"name": "Tehrik-i-Taliban Pakistan", "kind": "armed_group", "country": "PK"},
    "ORG-3": {"name": "National Directorate of Security", "kind": "state_authority"},
}


def desk_script(client, crash_after: int | None = None) -> list:
    """Three organizations, a person and the capture linking them, each by the desk's key."""
    written = []

    def put(type, key, body):
        written.append(client.put_by_key(type, "lwj-desk", key, body))
        if len(written) == crash_after:
            raise Crash
        return written[-1].record["id"]

    orgs = {key: put("organizations", key, body) for key, body in ORGANIZATIONS.items()}
    person = put(
        "persons",
        "P-17",
        {"gender": "male", "names": [{"name": "Qari Bilal", "is_primary": True}]},
    )
    put(
        "events",
        "E-17-capture",
        {
            "kind": "capture",
            "date": "spring 2011",
            "people": [{"person": person, "role": "subject"}],
            "organizations": [
                {"organization": orgs["ORG-3"], "role": "capturing_force"},
                {"organization": orgs["ORG-1"], "role": "custodian"},
            ],
        },
    )
    return written


def test_a_script_writing_by_key_converges_after_a_crash(live_server, researcher):
    client = tc.TrackerClient(live_server.url, token_of(researcher))
    with pytest.raises(Crash):
        desk_script(client, crash_after=2)
    assert Organization.objects.count() == 2

    rerun = desk_script(client)
    assert [w.created for w in rerun] == [False, False, True, True, True]
    assert Organization.objects.count() == 3
    assert Person.objects.count() == 1 and Event.objects.count() == 1
    assert ExternalId.objects.filter(system="lwj-desk").count() == 5
    event = Event.objects.get()
    assert event.people.get().person.public_id == Person.objects.get().public_id
    assert event.organizations.count() == 2

    again = desk_script(client)
    assert [w.created for w in again] == [False] * 5
    # The capture written after the person put it in the person's timeline: the person's
    # `updated`, and so its ETag, moved then; no other record's did.
    assert [w.etag == r.etag for w, r in zip(again, rerun, strict=True)] == [
        True,
        True,
        True,
        False,
        True,
    ]
    once_more = desk_script(client)
    assert [w.etag for w in once_more] == [w.etag for w in again]
    # The same records, down to their `updated` times: a write that changes nothing is none.
    assert [w.record for w in once_more] == [w.record for w in again]
    assert Organization.objects.count() == 3 and Person.objects.count() == 1


def test_a_refused_body_raises_with_the_field_message(live_server, researcher):
    client = tc.TrackerClient(live_server.url, token_of(researcher))
    with pytest.raises(tc.ApiError) as refused:
        client.put_by_key("organizations", "desk", "ORG-1", {"name": "IMU", "kind": "militia"})
    error = refused.value
    assert error.status == 400
    assert error.body == {"kind": ['"militia" is not a valid choice.']}
    assert error.url == f"{live_server.url}/api/v1/organizations/by-key/desk/ORG-1/"
    assert "militia" in str(error)
    assert not Organization.objects.exists() and not ExternalId.objects.exists()

    with pytest.raises(tc.ApiError) as anonymous:
        tc.TrackerClient(live_server.url).put_by_key("organizations", "desk", "ORG-1", {})
    assert anonymous.value.status == 401
    assert "detail" in anonymous.value.body


def test_a_stale_etag_is_refused_and_the_record_as_it_is_now_handed_back(live_server, editor):
    organization = f.OrganizationFactory(name="Haqqani network", **PUBLISHED)
    first = tc.TrackerClient(live_server.url, token_of(editor))
    second = tc.TrackerClient(live_server.url, token_of(editor))
    record_id = str(organization.public_id)
    body, etag = first.get("organizations", record_id)
    theirs, their_etag = second.get("organizations", record_id)
    assert etag == their_etag

    saved = second.update("organizations", record_id, {**theirs, "abbreviation": "HQN"}, etag)
    with pytest.raises(tc.PreconditionFailed) as stale:
        first.update("organizations", record_id, {**body, "description": "Mine."}, etag)
    assert stale.value.status == 412
    assert stale.value.current["abbreviation"] == "HQN"
    assert stale.value.etag == saved.etag != etag
    organization.refresh_from_db()
    assert (organization.abbreviation, organization.description) == ("HQN", "")

    # The caller applies its change to the record as it is now: both changes are kept.
    mine = {**stale.value.current, "description": "Mine."}
    first.update("organizations", record_id, mine, stale.value.etag)
    organization.refresh_from_db()
    assert (organization.abbreviation, organization.description) == ("HQN", "Mine.")


def test_rate_limited_reads_wait_as_long_as_retry_after_says(live_server, settings):
    for _ in range(3):
        f.OrganizationFactory(**PUBLISHED)
    settings.API_ANON_RATE = "1/minute"
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        cache.clear()  # the minute passes: the server forgets the count

    client = tc.TrackerClient(live_server.url, page_size=1, sleep=sleep)
    assert len(list(client.pull("organizations"))) == 3
    assert len(waits) == 2 and all(0 < wait <= 60 for wait in waits)

    patient = tc.TrackerClient(live_server.url, max_retries=2, max_wait=5, sleep=waits.append)
    with pytest.raises(tc.ApiError) as refused:
        list(patient.pull("organizations"))
    assert refused.value.status == 429
    assert waits[2:] == [5, 5]  # bounded by max_wait, twice, then the 429 is the caller's


def test_the_command_line_prints_json_lines_and_writes_by_key(live_server, editor, tmp_path):
    published = [f.OrganizationFactory(**PUBLISHED) for _ in range(3)]
    f.OrganizationFactory(name="Draft organization")
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_TOKEN"}
    command = [sys.executable, "examples/api_client/tracker_client.py", "--url", live_server.url]

    pulled = subprocess.run(
        [*command, "pull", "organizations"], cwd=ROOT, env=env, capture_output=True, check=True
    )
    lines = [json.loads(line) for line in pulled.stdout.decode().splitlines()]
    assert {line["id"] for line in lines} == ids(published)
    assert {line["name"] for line in lines} == {o.name for o in published}

    body = tmp_path / "org.json"
    body.write_text(json.dumps({"name": "Haqqani network", "kind": "armed_group"}))
    env["TRACKER_TOKEN"] = token_of(editor)
    put = [*command, "put-by-key", "organizations", "desk", "ORG-9", str(body)]
    runs = [subprocess.run(put, cwd=ROOT, env=env, capture_output=True) for _ in range(2)]
    assert [run.returncode for run in runs] == [0, 0]
    assert [run.stderr.decode().split()[0] for run in runs] == ["created", "updated"]
    assert json.loads(runs[1].stdout)["id"] == json.loads(runs[0].stdout)["id"]
    assert Organization.objects.filter(name="Haqqani network").count() == 1

    body.write_text(json.dumps({"name": "Haqqani network", "kind": "militia"}))
    refused = subprocess.run(put, cwd=ROOT, env=env, capture_output=True)
    assert refused.returncode == 1
    assert '400 {"kind": ["\\"militia\\" is not a valid choice."]}' in refused.stderr.decode()
