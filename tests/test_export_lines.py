"""The export's JSON lines are what json.dumps with the API's encoder writes, byte for byte."""

import datetime
import decimal
import json
import uuid

from rest_framework.utils.encoders import JSONEncoder

from detainees.api.export import json_line


def reference(data) -> str:
    text = json.dumps(data, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def test_json_lines_match_the_apis_json_for_every_kind_of_value():
    data = {
        "type": "person",
        "text": 'Qari "Bilal"\\ ملا\n\t\r\b\f\x00\x1f\x7f \u2028 \u2029 é 😀 </script>',
        "numbers": [
            0,
            -1,
            2**53,
            1.5,
            0.1,
            12345678.9,
        ],  # no serializer gives 1e-07 (see json_line)
        "flags": [True, False, None],
        "nested": {"empty": {}, "list": [], "edtf": "2011-04-20/2014"},
        "at": datetime.datetime(2026, 11, 30, 22, 52, 25, 226938, tzinfo=datetime.UTC),
        "on": datetime.date(2011, 4, 20),
        "whole_second": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "id": uuid.UUID("198c1cca-9ec6-846a-ad4c-e48a39e3909b"),
        "amount": decimal.Decimal("34.52000"),
    }
    assert json_line(data) == reference(data)
    assert json_line(data).count("\n") == 1


# --- Events built from tuples equal the serializer's rows ---------------------------------------


def api_request():
    from django.test import RequestFactory
    from rest_framework.request import Request

    return Request(RequestFactory().get("/api/v1/export.jsonl"))


def reference_events() -> list[dict]:
    """Every public event as the API's event serializer gives it, by primary key."""
    from detainees.api.serializers import EventSerializer
    from detainees.api.views import event_queryset
    from detainees.domain.models import Event

    serializer = EventSerializer()
    events = event_queryset(Event.objects.public()).order_by("pk")
    return [serializer.to_representation(event) for event in events]


def fast_events(chunk_size: int) -> list[dict]:
    from detainees.read.event_lines import event_chunks

    return [row for chunk in event_chunks(chunk_size=chunk_size) for row in chunk]


def whole_export(lines) -> str:
    return "".join(lines)


def assert_export_equals_the_serializers():
    from detainees.api.export import EXPORTS, export_lines, serializer_lines

    reference = reference_events()
    assert reference, "no public event to compare"
    # A chunk size that leaves a part-filled last chunk, and one holding every event.
    for chunk_size in (7, 100_000):
        fast = fast_events(chunk_size)
        assert [row["id"] for row in fast] == [row["id"] for row in reference]
        for ours, theirs in zip(fast, reference, strict=True):
            assert ours == theirs
            assert list(ours) == list(theirs)  # the same keys in the same order
            assert json_line(ours) == json_line(theirs)
    request = api_request()
    names = list(EXPORTS)
    assert whole_export(export_lines(request, names)) == whole_export(
        serializer_lines(request, names)
    )


def test_event_lines_equal_the_serializers_on_the_demo(demo):
    assert_export_equals_the_serializers()


def test_event_lines_equal_the_serializers_outside_utc(demo, settings):
    """Outside UTC the timestamps are written by Python, not PostgreSQL."""
    settings.TIME_ZONE = "Asia/Kabul"
    assert_export_equals_the_serializers()


def test_event_lines_equal_the_serializers_on_generated_data_with_every_kind_of_value(db):
    from detainees.domain.models import (
        Citation,
        Event,
        EventPerson,
        Organization,
        Person,
        PersonName,
        Place,
        PublicationStatus,
        Source,
    )
    from detainees.synthetic import generate_dataset

    generate_dataset(persons=80, events=600, seed=3)
    events = Event.objects.public().order_by("pk")
    # The generator leaves drafts, withdrawn and retracted records, confidential sources and
    # unnamed people; make sure each kind of link the rows read is also present.
    roles = EventPerson.objects.filter(event__in=events, person__status=PublicationStatus.PUBLISHED)
    people = list(dict.fromkeys(roles.order_by("pk").values_list("person_id", flat=True)))[:3]
    first, second, third = (Person.objects.get(pk=pk) for pk in people)
    PersonName.objects.filter(person=first).delete()
    Person.objects.filter(pk=first.pk).update(withheld=["name"])
    PersonName.objects.filter(person=second).delete()
    Person.objects.filter(pk=second.pk).update(withheld=[])
    Person.objects.filter(pk=third.pk).update(status=PublicationStatus.DRAFT)
    placed = events.filter(place__isnull=False).first()
    Place.objects.filter(pk=placed.place_id).update(status=PublicationStatus.DRAFT)
    cited = Citation.objects.filter(event__in=events).select_related("source").first()
    Source.objects.filter(pk=cited.source_id).update(status=PublicationStatus.DRAFT)
    publisher = (
        Source.objects.public().filter(citations__event__in=events, publisher__isnull=False).first()
    )
    Organization.objects.filter(pk=publisher.publisher_id).update(abbreviation="ANA")
    other = Source.objects.public().filter(citations__event__in=events, publisher__isnull=False)
    other = other.exclude(publisher_id=publisher.publisher_id).first()
    Organization.objects.filter(pk=other.publisher_id).update(status=PublicationStatus.DRAFT)

    assert_export_equals_the_serializers()

    from detainees.api.export import export_lines

    body = whole_export(export_lines(api_request(), ["events"]))
    assert str(third.public_id) not in body  # a draft person in an event is left out
    hidden = Event.objects.exclude(Event.public_q()).values_list("public_id", flat=True)
    assert hidden and not any(str(public_id) in body for public_id in hidden)
    assert "Name withheld by the source" in body and "Unnamed person" in body
