"""People built from tuples (detainees.read.person_lines) equal the person detail serializer's
output: the same keys, in the same order, with the same values, for every published person."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.api.export import json_line


def reference_people() -> list[dict]:
    """Every published person as the API's person detail serializer gives it, by primary key."""
    from detainees.api.serializers import PersonDetailSerializer
    from detainees.read.person import person_queryset

    serializer = PersonDetailSerializer()
    people = person_queryset(batch_members=False).order_by("pk")
    return [serializer.to_representation(person) for person in people]


def fast_people(chunk_size: int) -> list[dict]:
    from detainees.read.person_lines import person_chunks

    return [row for chunk in person_chunks(chunk_size=chunk_size) for row in chunk]


def assert_people_equal_the_serializers():
    reference = reference_people()
    assert reference, "no published person to compare"
    # A chunk size that leaves a part-filled last chunk, and one holding every person.
    for chunk_size in (7, 100_000):
        fast = fast_people(chunk_size)
        assert [row["id"] for row in fast] == [row["id"] for row in reference]
        for ours, theirs in zip(fast, reference, strict=True):
            for key in theirs:
                assert ours.get(key) == theirs[key], (theirs["slug"], key)
            assert ours == theirs
            assert list(ours) == list(theirs)  # the same keys in the same order
            assert json_line(ours) == json_line(theirs)
    return reference


def assert_api_details_are_the_serializers_bytes(client):
    """Every published person's API detail, as anyone reads it (built from tuples), is the
    serializer's answer byte for byte."""
    from detainees.api.renderers import JSONRenderer
    from detainees.api.serializers import PersonDetailSerializer
    from detainees.read.person import person_queryset

    people = person_queryset(batch_members=False).order_by("pk")
    assert people
    for person in people:
        response = client.get(f"/api/v1/persons/{person.public_id}/")
        assert response.status_code == 200
        expected = JSONRenderer().render(PersonDetailSerializer(person).data)
        assert response.content == expected, person.slug


def test_people_from_tuples_equal_the_serializers_on_the_demo(demo, client):
    reference = assert_people_equal_the_serializers()
    assert_api_details_are_the_serializers_bytes(client)
    # The demo's people carry custody episodes with custodians, and a status line.
    assert any(event.get("custodians") for person in reference for event in person["timeline"])


def test_people_from_tuples_equal_the_serializers_on_generated_data(db, client):
    from detainees.domain.models import (
        Citation,
        ClaimStatus,
        Event,
        EventPerson,
        Person,
        PersonName,
        Place,
        PublicationStatus,
        Relationship,
        Source,
    )
    from detainees.synthetic import generate_dataset

    generate_dataset(persons=80, events=600, seed=3)
    published = Person.objects.public().order_by("pk")
    first, second, third = published[:3]
    # Someone with a timeline, whose ties and a retracted event are added below.
    role = (
        EventPerson.objects.filter(
            person__in=published[3:],
            role=EventPerson.Role.SUBJECT,
            event__status=PublicationStatus.PUBLISHED,
        )
        .order_by("pk")
        .first()
    )
    fourth = role.person
    # Unnamed people: one whose name the source withholds, one without any.
    PersonName.objects.filter(person=first).delete()
    Person.objects.filter(pk=first.pk).update(withheld=["name", "birth"])
    PersonName.objects.filter(person=second).delete()
    Person.objects.filter(pk=second.pk).update(withheld=[])
    # A withdrawn person and a draft: left out, and so are their ties.
    Person.objects.filter(pk=third.pk).update(
        status=PublicationStatus.WITHDRAWN, withdrawal_reason="Duplicate record"
    )
    Relationship.objects.create(person=fourth, other=third, kind="sibling")
    others = published.exclude(pk=fourth.pk)
    Relationship.objects.create(person=fourth, other=others[5], kind="parent")
    Relationship.objects.create(person=others[6], other=fourth, kind="parent")
    # A retracted event on a timeline stays there, marked.
    Event.objects.filter(pk=role.event_id).update(claim_status=ClaimStatus.RETRACTED)
    # A draft birthplace and a draft source are not shown.
    placed = Person.objects.public().filter(birthplace__isnull=False).first()
    if placed is not None:
        Place.objects.filter(pk=placed.birthplace_id).update(status=PublicationStatus.DRAFT)
    cited = Citation.objects.filter(event__isnull=False).first()
    Source.objects.filter(pk=cited.source_id).update(status=PublicationStatus.DRAFT)

    reference = assert_people_equal_the_serializers()
    assert_api_details_are_the_serializers_bytes(client)
    body = "".join(json_line(row) for row in fast_people(50))
    assert str(third.public_id) not in body
    assert "Name withheld by the source" in body and "Unnamed person" in body
    assert any(e["claim_status"] == "retracted" for p in reference for e in p["timeline"])
    assert any(p["relationships"] for p in reference)


def test_a_chunk_of_5_people_costs_as_many_queries_as_a_chunk_of_50(db):
    from django.contrib.contenttypes.models import ContentType

    from detainees.domain.models import EventPerson, Person, PublicationStatus
    from detainees.read.person_lines import person_chunks
    from detainees.synthetic import generate_dataset

    generate_dataset(persons=80, events=600, seed=3)
    ContentType.objects.get_for_model(Person)  # cached for the process, as in a server
    # People with a timeline: an event's people are then never none at all.
    timed = EventPerson.objects.filter(
        role=EventPerson.Role.SUBJECT, event__status=PublicationStatus.PUBLISHED
    ).values("person_id")
    counts = []
    for size in (5, 50):
        people = Person.objects.public().filter(pk__in=timed).order_by("pk")
        ids = list(people.values_list("pk", flat=True)[:size])
        assert len(ids) == size
        with CaptureQueriesContext(connection) as queries:
            chunk = next(person_chunks(Person.objects.filter(pk__in=ids), chunk_size=size))
        assert len(chunk) == size
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_a_persons_api_detail_costs_the_same_queries_whatever_their_timeline(db, client):
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count, Q

    from detainees.domain.models import EventPerson, Person
    from detainees.synthetic import generate_dataset

    generate_dataset(persons=80, events=600, seed=3)
    ContentType.objects.get_for_model(Person)  # cached for the process, as in a server
    people = (
        Person.objects.public()
        .annotate(events=Count("event_roles", filter=Q(event_roles__role=EventPerson.Role.SUBJECT)))
        # With a timeline: an event's people are then never none at all.
        .filter(events__gt=0)
        .order_by("events", "pk")
    )
    fewest, most = people.first(), people.last()
    assert most.events > fewest.events + 3
    counts = []
    for person in (fewest, most):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/persons/{person.public_id}/")
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1] == 22
