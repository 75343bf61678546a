"""What a JSON GET of a record answers can be PUT back unchanged; dates are accepted in the shape
the API gives them; every refusal names the field it concerns."""

import pytest
from django.db.models import Count

from detainees.domain.models import Event, Facility, Organization, Person, Place, Source
from detainees.domain.models.history import TRACKED_MODELS
from tests.test_api_writes import send

pytestmark = pytest.mark.django_db


def history_rows() -> int:
    return sum(model.history.rel.related_model.objects.count() for model in TRACKED_MODELS)


def richest(model, *parts):
    """The demo's record of `model` with the most rows in `parts`."""
    records = model.objects.all()
    if parts:
        records = records.annotate(
            n=sum((Count(p, distinct=True) for p in parts[1:]), Count(parts[0], distinct=True))
        ).order_by("-n", "pk")
    return records.first()


RECORDS = {
    "persons": (Person, ("names", "nationalities", "event_roles", "affiliations", "relationships")),
    "events": (Event, ("people", "organizations", "citations")),
    "organizations": (Organization, ("names",)),
    "places": (Place, ()),
    "facilities": (Facility, ("names", "controls")),
    "sources": (Source, ()),
}


def got(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return response.json(), response["ETag"]


@pytest.mark.parametrize("kind", RECORDS)
def test_the_body_of_a_get_is_put_back_as_a_no_op(demo, as_editor, kind):
    model, parts = RECORDS[kind]
    record = richest(model, *parts)
    path = f"/api/v1/{kind}/{record.public_id}/"
    body, etag = got(as_editor, path)
    before = history_rows()

    send(as_editor, "put", path, body, etag=etag, status=200)

    after, new_etag = got(as_editor, path)
    assert new_etag == etag
    assert after == body
    assert history_rows() == before


@pytest.mark.parametrize(
    "kind, field, value",
    [
        ("persons", "status_line", "Released."),
        ("persons", "current_status", "not a status"),
        ("persons", "created", "2001-01-01T00:00:00Z"),
        ("events", "id", "00000000-0000-0000-0000-000000000000"),
        ("organizations", "other_names", ["Somebody else"]),
        ("places", "slug", "elsewhere"),
        ("facilities", "created", "2001-01-01T00:00:00Z"),
        ("sources", "updated", "2001-01-01T00:00:00Z"),
    ],
)
def test_a_changed_read_only_field_is_refused_by_name(demo, as_editor, kind, field, value):
    model, parts = RECORDS[kind]
    record = richest(model, *parts)
    path = f"/api/v1/{kind}/{record.public_id}/"
    body, etag = got(as_editor, path)
    assert body[field] != value
    before = history_rows()

    response = send(as_editor, "put", path, {**body, field: value}, etag=etag, status=400)

    assert list(response.json()) == [field]
    assert got(as_editor, path)[1] == etag
    assert history_rows() == before


def test_a_name_s_citations_are_rewritten_in_the_get_s_shape(demo, as_editor):
    person = richest(Person, "names")
    path = f"/api/v1/persons/{person.public_id}/"
    body, etag = got(as_editor, path)
    names = [dict(n) for n in body["names"]]
    cited = next(i for i, n in enumerate(names) if n["citations"])
    kept = names[cited]["citations"][:1]
    names[cited]["citations"] = kept

    send(as_editor, "put", path, {**body, "names": names}, etag=etag, status=200)

    after, _ = got(as_editor, path)
    assert after["names"][cited]["citations"] == kept
    assert [n["name"] for n in after["names"]] == [n["name"] for n in body["names"]]


def test_a_part_changed_in_the_get_s_shape_is_written(demo, as_editor):
    event = richest(Event, "people")
    path = f"/api/v1/events/{event.public_id}/"
    body, etag = got(as_editor, path)
    people = [dict(p) for p in body["people"]]
    people[0]["note"] = "Named in the decree."

    response = send(as_editor, "put", path, {**body, "people": people}, etag=etag, status=200)

    assert response.json()["people"][0]["note"] == "Named in the decree."
    after, _ = got(as_editor, path)
    assert after["people"][0] == people[0]
    assert [p["id"] for p in after["people"]] == [p["id"] for p in body["people"]]


def test_a_link_is_accepted_as_the_object_a_get_gives(demo, as_editor):
    event = Event.objects.filter(place__isnull=False).first()
    other = Place.objects.exclude(pk=event.place_id).first()
    path = f"/api/v1/events/{event.public_id}/"
    body, etag = got(as_editor, path)

    link = {"id": str(other.public_id), "name": other.name}
    send(as_editor, "put", path, {**body, "place": link}, etag=etag, status=200)

    event.refresh_from_db()
    assert event.place == other


# --- Dates as the API gives them -----------------------------------------------------------------


def test_a_date_is_accepted_as_the_object_the_api_returns(demo, as_editor):
    person = richest(Person, "names")
    path = f"/api/v1/persons/{person.public_id}/"
    _, etag = got(as_editor, path)
    birth = {
        "edtf": "1971~",
        "earliest": "1970-01-01",
        "latest": "1972-12-31",
        "text": "about 1971",
        "as_written": "around 1971",
    }

    send(as_editor, "patch", path, {"birth": birth}, etag=etag, status=200)

    person.refresh_from_db()
    assert (person.birth, person.birth_as_written) == ("1971~", "around 1971")
    assert got(as_editor, path)[0]["birth"]["edtf"] == "1971~"


def test_a_date_object_with_only_its_edtf_is_accepted(demo, as_editor):
    event = richest(Event, "people")
    path = f"/api/v1/events/{event.public_id}/"
    _, etag = got(as_editor, path)

    send(as_editor, "patch", path, {"date": {"edtf": "2011-04"}}, etag=etag, status=200)

    event.refresh_from_db()
    assert (event.date, str(event.date_earliest), str(event.date_latest)) == (
        "2011-04",
        "2011-04-01",
        "2011-04-30",
    )


@pytest.mark.parametrize(
    "birth",
    [
        {"edtf": "1971", "earliest": "1970-01-01", "latest": "1971-12-31"},
        {"edtf": "1971", "latest": "1972-12-31"},
        {"edtf": "the year of the flood"},
        {"edtf": "1971", "when": "then"},
        {"edtf": 1971},
    ],
)
def test_a_date_object_that_does_not_hold_together_is_a_400_naming_the_field(
    demo, as_editor, birth
):
    person = richest(Person, "names")
    path = f"/api/v1/persons/{person.public_id}/"
    _, etag = got(as_editor, path)
    before = (person.birth, person.birth_earliest)

    response = send(as_editor, "patch", path, {"birth": birth}, etag=etag, status=400)

    assert list(response.json()) == ["birth"]
    person.refresh_from_db()
    assert (person.birth, person.birth_earliest) == before


# --- Model rules name their field ------------------------------------------------------------


def test_a_release_kind_on_a_non_release_names_release_kind(demo, as_editor):
    event = Event.objects.exclude(kind=Event.Kind.RELEASE).first()
    path = f"/api/v1/events/{event.public_id}/"
    _, etag = got(as_editor, path)

    response = send(as_editor, "patch", path, {"release_kind": "pardon"}, etag=etag, status=400)

    assert list(response.json()) == ["release_kind"]


def test_a_custody_ending_before_it_starts_names_end_date(demo, as_editor):
    event = Event.objects.filter(kind=Event.Kind.CUSTODY).first()
    path = f"/api/v1/events/{event.public_id}/"
    _, etag = got(as_editor, path)

    response = send(
        as_editor,
        "patch",
        path,
        {"date": "2012-05-01", "end_date": "2011-01-01"},
        etag=etag,
        status=400,
    )

    assert response.json() == {"end_date": ["Custody cannot end before it starts."]}


def test_death_circumstances_on_a_non_death_name_death_circumstances(demo, as_editor):
    event = Event.objects.exclude(kind=Event.Kind.DEATH).first()
    path = f"/api/v1/events/{event.public_id}/"
    _, etag = got(as_editor, path)

    response = send(
        as_editor, "patch", path, {"death_circumstances": "Shot."}, etag=etag, status=400
    )

    assert list(response.json()) == ["death_circumstances"]


def test_two_primary_names_name_names(demo, as_editor):
    person = richest(Person, "names")
    path = f"/api/v1/persons/{person.public_id}/"
    _, etag = got(as_editor, path)
    names = [
        {"name": "Qari Bilal", "kind": "common", "is_primary": True},
        {"name": "Qari Belal", "kind": "spelling", "is_primary": True},
    ]

    response = send(as_editor, "patch", path, {"names": names}, etag=etag, status=400)

    assert list(response.json()) == ["names"]


def test_an_age_out_of_range_is_named_at_its_position(demo, as_editor):
    event = richest(Event, "people")
    path = f"/api/v1/events/{event.public_id}/"
    body, etag = got(as_editor, path)
    people = [dict(p) for p in body["people"]]
    people[-1]["age"] = 300

    response = send(as_editor, "put", path, {**body, "people": people}, etag=etag, status=400)

    errors = response.json()
    assert list(errors) == ["people"]
    assert "age" in errors["people"][str(len(people) - 1)]


def test_a_list_holding_rows_its_get_hides_is_not_replaced_from_the_get(demo, as_editor):
    event = richest(Event, "people")
    draft = Person.objects.exclude(event_roles__event=event).first()
    Person.objects.filter(pk=draft.pk).update(status="draft")
    event.people.create(person=draft, role="subject")
    path = f"/api/v1/events/{event.public_id}/"
    body, etag = got(as_editor, path)
    assert str(draft.public_id) not in [p["id"] for p in body["people"]]
    people = [dict(p) for p in body["people"]]
    people[0]["note"] = "Named in the decree."

    response = send(as_editor, "put", path, {**body, "people": people}, etag=etag, status=400)

    assert list(response.json()) == ["people"]
    assert event.people.filter(person=draft).exists()
    # Sent back unchanged, the list is left as it is.
    send(as_editor, "put", path, body, etag=etag, status=200)
    assert event.people.filter(person=draft).exists()


def test_a_name_edited_in_the_get_s_shape_keeps_its_other_fields(demo, as_editor):
    person = richest(Person, "names")
    first = person.names.order_by("pk").first()
    person.names.filter(pk=first.pk).update(claim_status="inferred")
    path = f"/api/v1/persons/{person.public_id}/"
    body, etag = got(as_editor, path)
    names = [dict(n) for n in body["names"]]
    names[0]["given"] = "Bilal"

    send(as_editor, "put", path, {**body, "names": names}, etag=etag, status=200)

    after, _ = got(as_editor, path)
    assert after["names"][0]["given"] == "Bilal"
    assert after["names"][0]["claim_status"] == "inferred"
    assert [n["name"] for n in after["names"]] == [n["name"] for n in body["names"]]
