"""A nested write costs the same queries however many rows its lists hold, and still refuses
each bad row at its position."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import (
    Citation,
    Event,
    EventPerson,
    Person,
    PersonName,
    PublicationStatus,
    Source,
)
from detainees.domain.names import name_key
from detainees.write import services
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def send(client, method, path, data, etag=None, status=None):
    headers = {"HTTP_IF_MATCH": etag} if etag else {}
    response = getattr(client, method)(path, data, content_type="application/json", **headers)
    if status is not None:
        assert response.status_code == status, response.content[:800]
    return response


@pytest.fixture
def as_editor(as_editor):
    """An editor's client that has written once: what the process caches after its first
    write (the history's content types) is not counted against the first size measured."""
    send(as_editor, "post", "/api/v1/persons/", {"names": [{"name": "W", "is_primary": True}]})
    return as_editor


def counted(client, method, path, data, etag=None, status=None):
    """The response and the number of queries the request cost."""
    with CaptureQueriesContext(connection) as queries:
        response = send(client, method, path, data, etag=etag, status=status)
    return response, len(queries)


def sources(n):
    return [str(s.public_id) for s in (f.SourceFactory(status=PUBLISHED) for _ in range(n))]


def people(n):
    made = Person.objects.bulk_create(
        Person(slug=f"cost-{uuid.uuid4().hex}", status=PUBLISHED) for _ in range(n)
    )
    return [str(p.public_id) for p in made]


def person_body(names, nationalities, cited, tag=""):
    """A person with `names` names and `nationalities` nationalities, each with two citations."""

    def cite(i):
        return [{"source": cited[i % len(cited)], "locator": f"p. {i}"}, {"source": cited[0]}]

    return {
        "names": [
            {"name": f"Name {tag}{i}", "is_primary": i == 0, "citations": cite(i)}
            for i in range(names)
        ],
        "nationalities": [
            {"country": country, "citations": cite(i)}
            for i, country in enumerate(["AF", "UZ", "PK", "TJ", "IR"][:nationalities])
        ],
        "citations": cite(0),
    }


def event_body(ids, cited, role="subject"):
    return {
        "kind": "capture",
        "date": "2011-04",
        "people": [{"person": i, "role": role} for i in ids],
        "citations": [{"source": s, "locator": f"p. {n}"} for n, s in enumerate(cited)],
    }


# --- Query counts -------------------------------------------------------------------------------


def test_creating_a_person_costs_the_same_queries_with_2_or_60_names(as_editor):
    cited = sources(3)
    small, few = counted(
        as_editor, "post", "/api/v1/persons/", person_body(2, 1, cited), status=201
    )
    large, many = counted(
        as_editor, "post", "/api/v1/persons/", person_body(60, 5, cited, "x"), status=201
    )

    assert few == many
    person = Person.objects.get(public_id=large.json()["id"])
    assert person.names.count() == 60 and person.nationalities.count() == 5
    # Every name and nationality has its two citations, in the order given.
    assert Citation.objects.filter(person_name__person=person).count() == 120
    assert Citation.objects.filter(nationality__person=person).count() == 10
    assert len(large.json()["names"][59]["citations"]) == 2
    assert small.json()["names"][1]["citations"][0]["locator"] == "p. 1"


def test_a_name_written_in_bulk_is_found_by_search(as_editor):
    body = person_body(3, 0, sources(1))
    data = send(as_editor, "post", "/api/v1/persons/", body, status=201).json()

    names = PersonName.objects.filter(person__public_id=data["id"]).order_by("pk")
    # Set by save() for one name; a list of names is written in one insert, keyed all the same.
    assert [(n.name, n.search_key) for n in names] == [(n.name, name_key(n.name)) for n in names]
    assert all(n.search_key for n in names)


def test_creating_an_event_costs_the_same_queries_with_3_or_300_people(as_editor):
    cited = sources(30)
    _, few = counted(
        as_editor, "post", "/api/v1/events/", event_body(people(3), cited[:3]), status=201
    )
    response, many = counted(
        as_editor, "post", "/api/v1/events/", event_body(people(300), cited), status=201
    )

    assert few == many
    event = Event.objects.get(public_id=response.json()["id"])
    assert event.people.count() == 300 and event.citations.count() == 30
    assert len(response.json()["people"]) == 300


def test_replacing_a_person_s_lists_costs_the_same_queries_however_long(as_editor):
    cited = sources(3)
    counts = []
    for names, nationalities in ((2, 1), (60, 5)):
        body = person_body(names, nationalities, cited, f"{names}-")
        created = send(as_editor, "post", "/api/v1/persons/", body, status=201)
        path = f"/api/v1/persons/{created.json()['id']}/"
        changed = person_body(names, nationalities, cited[1:], f"{names}-new-")
        response, queries = counted(
            as_editor, "put", path, changed, etag=created["ETag"], status=200
        )
        counts.append(queries)
        written = {n["name"] for n in response.json()["names"]}
        assert written == {f"Name {names}-new-{i}" for i in range(names)}
    assert counts[0] == counts[1]


def test_replacing_an_event_s_people_costs_the_same_queries_however_many(as_editor):
    cited = sources(30)
    counts = []
    for size, cites in ((3, 3), (300, 30)):
        ids = people(size)
        created = send(
            as_editor, "post", "/api/v1/events/", event_body(ids, cited[:cites]), status=201
        )
        path = f"/api/v1/events/{created.json()['id']}/"
        # The same people in another role: every row is replaced, the old subjects' timelines
        # checked against the event's new values.
        body = {**event_body(ids, cited[:cites], role="related"), "date": "2011-05"}
        response, queries = counted(as_editor, "put", path, body, etag=created["ETag"], status=200)
        counts.append(queries)
        assert {p["role"] for p in response.json()["people"]} == {"related"}
    assert counts[0] == counts[1]


def test_sending_a_record_back_unchanged_still_writes_nothing(as_editor):
    cited = sources(2)
    created = send(as_editor, "post", "/api/v1/persons/", person_body(5, 2, cited), status=201)
    path = f"/api/v1/persons/{created.json()['id']}/"
    body = as_editor.get(path).json()

    response = send(as_editor, "put", path, body, etag=created["ETag"], status=200)

    assert response["ETag"] == created["ETag"]
    assert response.json()["updated"] == created.json()["updated"]


# --- Errors, by position ------------------------------------------------------------------------


def test_rows_invalid_in_different_ways_are_each_named_at_their_position(editor):
    source = f.SourceFactory()
    person = Person()
    rows = [
        {"name": "Qari Bilal", "is_primary": True},
        {"name": "", "kind": "common"},  # a blank name
        {"name": "Belal", "kind": "nickname"},  # not a kind
        {"name": "Qari Bilal", "kind": "common"},  # the first row again
        {"name": "Bilal", "is_primary": True},  # a second primary name
        {"name": "Q. Bilal", "citations": [{"source": source}, {"source": None}]},
    ]

    with pytest.raises(services.InvalidRecord) as refused:
        services.save_record(record=person, values={}, parts={"names": rows}, by=editor)

    errors = refused.value.errors["names"]
    assert set(errors) == {"1", "2", "3", "4", "5"}
    assert "name" in errors["1"]
    assert "kind" in errors["2"]
    assert errors["3"] == {"name": ["This person already has this name."]}
    assert errors["4"] == {"is_primary": ["A person has exactly one primary name."]}
    # A nested citation, by its own position under its name's.
    assert set(errors["5"]) == {"citations"}
    assert set(errors["5"]["citations"]) == {"1"}
    assert "source" in errors["5"]["citations"]["1"]
    # All or nothing.
    assert not Person.objects.exists() and not Citation.objects.exists()


def test_a_check_rule_the_database_judges_refuses_its_rows_at_their_positions(editor):
    # A nationality's code is checked by a regular expression: Python leaves it to the
    # database, asked for every row of the list at once.
    person = f.PersonFactory()
    rows = [{"country": "UZ"}, {"country": "uz"}, {"country": "AF"}, {"country": "X1"}]

    with pytest.raises(services.InvalidRecord) as refused:
        services.save_record(record=person, values={}, parts={"nationalities": rows}, by=editor)

    assert set(refused.value.errors["nationalities"]) == {"1", "3"}


def test_an_event_s_bad_rows_are_named_at_their_positions(as_editor):
    # Released in 2010: a capture in 2011 would come after the release it precedes.
    released = f.PersonFactory(status=PUBLISHED)
    release = f.EventFactory(kind=Event.Kind.RELEASE, date="2010-03", status=PUBLISHED)
    EventPerson.objects.create(event=release, person=released)
    ids = people(3)
    missing = "00000000-0000-4000-8000-000000000000"
    body = event_body([ids[0], str(released.public_id), ids[1]], sources(1))
    body["citations"].append({"source": missing})

    errors = send(as_editor, "post", "/api/v1/events/", body, status=400).json()

    assert set(errors) == {"citations"}
    assert errors["citations"]["1"]["source"] == [f"No source has the id {missing}."]

    body["citations"].pop()
    errors = send(as_editor, "post", "/api/v1/events/", body, status=400).json()

    assert set(errors["people"]) == {"1"}
    assert "release it precedes" in str(errors["people"]["1"])
    assert Event.objects.count() == 1


def test_a_missing_nested_source_is_named_at_its_position(as_editor):
    cited = sources(1)
    body = person_body(3, 1, cited)
    missing = "00000000-0000-4000-8000-000000000001"
    body["names"][2]["citations"][1]["source"] = missing

    errors = send(as_editor, "post", "/api/v1/persons/", body, status=400).json()

    assert errors == {
        "names": {"2": {"citations": {"1": {"source": [f"No source has the id {missing}."]}}}}
    }
    assert not Person.objects.filter(names__name__startswith="Name").exists()


def test_a_name_given_twice_with_one_kind_is_refused_at_its_position(as_editor):
    body = person_body(3, 0, sources(1))
    body["names"].append({"name": body["names"][1]["name"]})

    errors = send(as_editor, "post", "/api/v1/persons/", body, status=400).json()

    assert list(errors) == ["names"] and list(errors["names"]) == ["3"]
    assert "given twice" in errors["names"]["3"]["name"][0]


def test_a_person_listed_twice_in_one_role_is_refused_at_its_position(as_editor):
    ids = people(3)
    body = event_body([*ids, ids[1]], sources(1))

    errors = send(as_editor, "post", "/api/v1/events/", body, status=400).json()

    assert list(errors) == ["people"] and list(errors["people"]) == ["3"]
    assert "twice in the same role" in errors["people"]["3"]["person"][0]
    # In another role, the same person is welcome.
    body["people"][3]["role"] = "related"
    send(as_editor, "post", "/api/v1/events/", body, status=201)


def test_a_rule_only_the_database_knows_is_a_refusal_naming_the_list(editor, monkeypatch):
    # As if another write had taken the name at the same moment: the checks see nothing, the
    # database refuses the insert.
    monkeypatch.setattr(services, "unique_rules", lambda model, skip=(): [])
    person = Person()
    rows = [{"name": "Qari Bilal", "is_primary": True}, {"name": "Qari Bilal"}]

    with pytest.raises(services.InvalidRecord) as refused:
        services.save_record(record=person, values={}, parts={"names": rows}, by=editor)

    assert refused.value.errors == {"names": ["This person already has this name."]}
    assert not Person.objects.filter(names__name__startswith="Name").exists()


def test_a_source_cited_by_every_row_is_read_once(as_editor):
    cited = sources(1)
    body = person_body(20, 0, cited)

    with CaptureQueriesContext(connection) as queries:
        send(as_editor, "post", "/api/v1/persons/", body, status=201)

    table = Source._meta.db_table
    reads = [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{table}"')]
    # The links of the body, then the answer's citations: never one per row.
    assert 1 <= len(reads) <= 3


def test_a_condition_is_judged_in_memory_as_the_database_judges_it():
    from django.db.models import Q

    from detainees.domain.constraints import holds, holds_in_database

    plausible = Q(age__isnull=True) | Q(age__gte=0, age__lte=120)
    rows = [EventPerson(age=None), EventPerson(age=130), EventPerson(age=40)]
    in_memory = [holds(plausible, {"age": row.age}) for row in rows]
    assert in_memory == [True, False, True]
    assert holds_in_database(plausible, rows) == in_memory
    # A comparison with NULL is unknown, which a CHECK lets pass: so does the database.
    assert holds(Q(age__gte=0), {"age": None}) is None
    assert holds(~Q(age__gte=0), {"age": None}) is None
    assert holds_in_database(Q(age__gte=0), [EventPerson(age=None)]) == [True]
    assert holds(Q(age=None), {"age": None}) is True
