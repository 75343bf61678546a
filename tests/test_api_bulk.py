"""`POST /api/v1/bulk/`: many records in one request through the importer, all or nothing."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Event, EventPerson, Person, PersonName, PublicationStatus

URL = "/api/v1/bulk/"


def records(n: int, *, prefix: str = "p") -> list[dict]:
    """`n` people, each with a name and a capture naming them, linked by the script's keys."""
    out = []
    for i in range(n):
        key = f"{prefix}{i}"
        out += [
            {"table": "persons", "id": key, "gender": "male"},
            {
                "table": "person_names",
                "id": f"{key}-name",
                "person": key,
                "name": f"Bulk Person {prefix} {i}",
                "is_primary": True,
            },
            {"table": "events", "id": f"{key}-capture", "kind": "capture", "date": "2011"},
            {
                "table": "event_people",
                "id": f"{key}-in-capture",
                "event": f"{key}-capture",
                "person": key,
            },
        ]
    return out


def post_json(client, body, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(
        f"{URL}?{query}" if query else URL, json.dumps(body), content_type="application/json"
    )


def post_lines(client, body, **params):
    text = "\n".join(json.dumps(r) for r in body) + "\n"
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(
        f"{URL}?{query}" if query else URL, text, content_type="application/x-ndjson"
    )


def test_json_array_creates_people_with_names_and_events(as_researcher):
    response = post_json(as_researcher, records(2))

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["dry_run"] is False
    assert data["tables"]["persons"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert data["tables"]["event_people"] == {"created": 2, "updated": 0, "unchanged": 0}
    person = Person.objects.get(public_id=data["ids"]["persons"]["p1"])
    assert person.status == PublicationStatus.DRAFT
    assert list(person.names.values_list("name", flat=True)) == ["Bulk Person p 1"]
    capture = Event.objects.get(public_id=data["ids"]["events"]["p1-capture"])
    assert [link.person for link in capture.people.all()] == [person]


def test_json_lines_body_and_sending_it_again_changes_nothing(as_researcher):
    first = post_lines(as_researcher, records(3), system="desk")
    assert first.status_code == 201, first.content

    again = post_lines(as_researcher, records(3), system="desk")

    assert again.status_code == 200, again.content
    assert again.json()["tables"]["persons"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again.json()["ids"] == first.json()["ids"]
    assert Person.objects.count() == 3
    assert PersonName.objects.count() == 3


def test_a_changed_value_is_updated_by_key(as_researcher):
    post_json(as_researcher, records(1))
    changed = records(1)
    changed[2]["date"] = "2012"

    response = post_json(as_researcher, changed)

    assert response.status_code == 200
    assert response.json()["tables"]["events"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert Event.objects.get().date == "2012"


def test_one_bad_record_refuses_the_whole_body_naming_it(as_researcher):
    body = records(5)
    body[10]["kind"] = "kidnapping"  # the third person's capture

    response = post_json(as_researcher, body)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "record": 11,
                "table": "events",
                "id": "p2-capture",
                "field": "kind",
                "message": response.json()["errors"][0]["message"],
            }
        ]
    }
    assert "kidnapping" in response.json()["errors"][0]["message"]
    assert not Person.objects.exists()
    assert not Event.objects.exists()


def test_a_bad_line_is_named_by_its_line(as_researcher):
    body = records(2)
    body[5]["person"] = "nobody"

    response = post_lines(as_researcher, body)

    assert response.status_code == 400
    # The person left without a name (line 5) is named too; the errors come in line order.
    errors = [(e["record"], e["table"], e["id"], e["field"]) for e in response.json()["errors"]]
    assert errors == [(5, "persons", "p1", None), (6, "person_names", "p1-name", "person")]
    assert not PersonName.objects.exists()


def test_a_body_that_is_not_json_is_a_400_writing_nothing(as_researcher):
    response = as_researcher.post(URL, "[{", content_type="application/json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["record"] is None and "not valid JSON" in error["message"]


def test_dry_run_reports_and_writes_nothing(as_researcher):
    response = post_json(as_researcher, records(2), dry_run="true")

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["tables"]["persons"]["created"] == 2
    assert not Person.objects.exists()


def test_a_researcher_cannot_publish(as_researcher):
    response = post_json(as_researcher, records(1), publish="true")

    assert response.status_code == 403
    assert not Person.objects.exists()


def test_a_researcher_cannot_change_a_published_record(as_researcher, as_editor):
    assert post_json(as_editor, records(1), publish="true").status_code == 201
    changed = records(1)
    changed[0]["gender"] = "female"

    response = post_json(as_researcher, changed)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["record"], error["table"], error["id"]) == (1, "persons", "p0")
    assert Person.objects.get().gender == "male"


def test_an_editor_publishes(as_editor):
    response = post_json(as_editor, records(2), publish="true")

    assert response.status_code == 201
    assert set(Person.objects.values_list("status", flat=True)) == {PublicationStatus.PUBLISHED}


def test_anonymous_is_401(db):
    response = post_json(Client(), records(1))

    assert response.status_code == 401
    assert not Person.objects.exists()


def test_a_body_over_the_byte_limit_is_413_naming_the_setting(as_researcher, settings):
    settings.API_BULK_MAX_BYTES = 1000

    response = post_json(as_researcher, records(20))

    assert response.status_code == 413
    assert "API_BULK_MAX_BYTES" in response.json()["detail"]
    assert not Person.objects.exists()


@pytest.mark.parametrize("post", [post_json, post_lines])
def test_more_records_than_the_limit_is_413_naming_the_setting(as_researcher, settings, post):
    settings.API_BULK_MAX_RECORDS = 7

    response = post(as_researcher, records(2))

    assert response.status_code == 413
    assert "API_BULK_MAX_RECORDS" in response.json()["detail"]
    assert not Person.objects.exists()


def test_bad_and_unknown_parameters_are_named(as_researcher):
    response = as_researcher.post(
        f"{URL}?century=200&date_order=dym&dryrun=1", "[]", content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"dryrun"}
    response = as_researcher.post(
        f"{URL}?century=200&date_order=dym", "[]", content_type="application/json"
    )
    assert set(response.json()) == {"century", "date_order"}


def test_another_content_type_is_415(as_researcher):
    response = as_researcher.post(URL, "id,name\n", content_type="text/csv")

    assert response.status_code == 415


def test_queries_do_not_grow_with_the_records(as_researcher):
    def queries(n: int, prefix: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = post_json(as_researcher, records(n, prefix=prefix))
        assert response.status_code == 201, response.content
        return len(captured)

    few, many = queries(10, "a"), queries(200, "b")

    assert many - few <= 10, (few, many)
    assert EventPerson.objects.count() == 210
