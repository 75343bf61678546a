"""One row spec per list: the columns of the people list and of the events list, declared once.

Each column has its name, its type, a description, and where its value comes from: a model field
or a `detainees.read.listing.annotate_listing` annotation. Where the column is a model field,
its type comes from the field's class and its allowed values from the field's `choices`, so a
choice added to the model reaches every rendering. The API's list serializers take their fields and order from here, the streamed CSVs
(`detainees.web.streams`) their columns, cells and formats, and the data package's table schema
(`detainees.write.exports.tables`) the type and description of the columns it shares with a
list. Tests compare the renderings of the same rows (tests/test_rows.py) and the shared columns'
declarations (tests/test_shared_columns.py).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone

from detainees.domain.fuzzydates import EDTFField
from detainees.domain.models import (
    Event,
    EventOrganization,
    EventPerson,
    Nationality,
    Person,
    PersonName,
    PublicationStatus,
)
from detainees.read.chunks import among
from detainees.read.citing import event_citation_rows, people_row_citations
from detainees.read.listing import CurrentStatus

# Column types. A LIST is several values (JSON: a list; CSV: joined by "; "); a REF a link to a
# record (JSON: {"id", "name"}; CSV: its name); a FUZZY date {"edtf", ...} (CSV: its EDTF).
UUID, TEXT, ENUM, INTEGER, DATE, DATETIME = "uuid", "text", "enum", "integer", "date", "datetime"
EDTF, FUZZY, REF, LIST = "edtf", "fuzzy", "ref", "list"


def field_choices(model: type[models.Model], name: str) -> tuple[str, ...]:
    """A model field's codes, in their order: the one list of a column's allowed values."""
    return tuple(value for value, _ in model._meta.get_field(name).choices)


@dataclass(frozen=True)
class RowColumn:
    name: str
    type: str
    description: str
    # The model field or annotation the value is read from; "" for a LIST or a computed value.
    source: str = ""
    # The model whose field `source` is, when it is one (then choices come from the field).
    model: type[models.Model] | None = None
    enum: type[models.TextChoices] | None = None  # the codes of an annotation's values

    @property
    def choices(self) -> tuple[str, ...]:
        if self.type != ENUM:
            return ()
        if self.enum is not None:
            return tuple(self.enum.values)
        return field_choices(self.model, self.source)

    @property
    def is_scalar(self) -> bool:
        """Read from one column of the row (no related records)."""
        return self.type not in (REF, LIST, FUZZY)


@dataclass(frozen=True)
class RowSpec:
    name: str
    model: type[models.Model]
    columns: tuple[RowColumn, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> RowColumn:
        return next(c for c in self.columns if c.name == name)


def field_type(model_field: models.Field) -> str:
    """The column type a model field's values have: the model says it, the spec does not."""
    if isinstance(model_field, models.UUIDField):
        return UUID
    if isinstance(model_field, EDTFField):
        return FUZZY
    if model_field.is_relation:
        return REF
    if model_field.choices:
        return ENUM
    if isinstance(model_field, models.DateTimeField):
        return DATETIME
    if isinstance(model_field, models.DateField):
        return DATE
    if isinstance(model_field, models.IntegerField):
        return INTEGER
    if isinstance(model_field, models.CharField | models.TextField):
        return TEXT
    raise TypeError(f"No column type for {model_field!r}: add one to field_type().")


def field(name: str, description: str, model, source: str = "") -> RowColumn:
    """A column read from a model field, its type (and an enum's values) taken from the field."""
    source = source or name
    return RowColumn(
        name, field_type(model._meta.get_field(source)), description, source=source, model=model
    )


# --- Formats ---------------------------------------------------------------------------------


def iso_datetime(value) -> str:
    """A timestamp as the API writes it (DRF's ISO 8601): in the current time zone, UTC as Z."""
    if settings.USE_TZ:
        value = value.astimezone(timezone.get_current_timezone())
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_datetimes():
    """`iso_datetime` with the current time zone looked up once, for a whole list or stream."""
    zone = timezone.get_current_timezone() if settings.USE_TZ else None

    def represent(value) -> str:
        text = (value.astimezone(zone) if zone else value).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return represent


def iso_date(value) -> str | None:
    return None if value is None else value.isoformat()


def formatter(column: RowColumn):
    """The JSON value of a scalar column's stored value (None stays None)."""
    if column.type == UUID:
        return str
    if column.type == DATE:
        return iso_date
    if column.type == DATETIME:
        return iso_datetimes()
    return lambda value: value


# --- People ----------------------------------------------------------------------------------

PERSON_ROW = RowSpec(
    "people",
    Person,
    (
        field("id", "The person's permanent public id.", Person, "public_id"),
        field("slug", "The person page's address.", Person),
        RowColumn(
            "name",
            TEXT,
            "The primary name, surname first (family, given) where its parts are known.",
            source="sort_name",
        ),
        RowColumn("other_names", LIST, "The other names, as entered."),
        RowColumn("nationalities", LIST, "ISO 3166 codes of the nationalities."),
        RowColumn(
            "current_status",
            ENUM,
            "The status after the last status-changing event.",
            source="current_status",
            enum=CurrentStatus,
        ),
        RowColumn(
            "first_capture",
            EDTF,
            "The first capture, disappearance or custody, in EDTF.",
            "first_capture_date",
        ),
        RowColumn("first_capture_earliest", DATE, "Its earliest day.", source="first_capture"),
        RowColumn("last_release", EDTF, "The last release, in EDTF.", source="last_release_date"),
        RowColumn("last_release_earliest", DATE, "Its earliest day.", source="last_release"),
        RowColumn(
            "citations",
            LIST,
            "The public sources of the facts the row shows: the events deciding its first "
            "capture, last release and current status, then its names and nationalities; each "
            "says which fact it supports and how sure the record is of it.",
        ),
        field("created", "When the record was created.", Person),
        field("updated", "When the record last changed.", Person),
    ),
)


def row_lists(ids) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The other names and the nationality codes of the people `ids`, by person, as their list
    rows show them, in two queries as tuples (the CSV's chunks, the API's pages): the names
    that are not primary, in PersonName's order; every nationality's country code, in the order
    they were entered."""
    names, nationalities = defaultdict(list), defaultdict(list)
    for person_id, name in (
        PersonName.objects.filter(among("person_id", ids), is_primary=False)
        .order_by("person_id", "-is_primary", "name", "pk")
        .values_list("person_id", "name")
    ):
        names[person_id].append(name)
    for person_id, country in (
        Nationality.objects.filter(among("person_id", ids))
        .order_by("person_id", "pk")
        .values_list("person_id", "country")
    ):
        nationalities[person_id].append(country)
    return names, nationalities


# Where a list of people keeps each person's row citations, other names and nationality codes,
# read for the whole list at once (`with_row_parts`).
ROW_CITATIONS = "row_citations"
ROW_NAMES = "row_other_names"
ROW_NATIONALITIES = "row_nationalities"


def other_names(person) -> list[str]:
    """The names that are not primary, in PersonName's order (read with the list's rows, else
    from prefetched names)."""
    if hasattr(person, ROW_NAMES):
        return getattr(person, ROW_NAMES)
    return [n.name for n in person.names.all() if not n.is_primary]


def nationality_codes(person) -> list[str]:
    if hasattr(person, ROW_NATIONALITIES):
        return getattr(person, ROW_NATIONALITIES)
    return [n.country.code for n in person.nationalities.all()]


def with_row_citations(people) -> list:
    """`people` with their row citations, read for all of them in a fixed number of queries."""
    people = list(people)
    found = people_row_citations([person.pk for person in people])
    for person in people:
        setattr(person, ROW_CITATIONS, found[person.pk])
    return people


def with_row_parts(people) -> list:
    """`people` with their row citations, other names and nationality codes, read for all of
    them as tuples in a fixed number of queries: a page of 50 to 500 rows prefetched builds a
    queryset per person and relation, which cost more than the queries."""
    people = with_row_citations(people)
    names, nationalities = row_lists([person.pk for person in people])
    for person in people:
        setattr(person, ROW_NAMES, names.get(person.pk, []))
        setattr(person, ROW_NATIONALITIES, nationalities.get(person.pk, []))
    return people


def row_citations(person) -> list[dict]:
    """The person's row citations: read with the list's, else (one person alone) now."""
    if not hasattr(person, ROW_CITATIONS):
        with_row_citations([person])
    return getattr(person, ROW_CITATIONS)


def person_row(person) -> dict:
    """A person of `people_for_listing()` (annotated, its parts read by `with_row_parts` or
    prefetched) as its list row."""
    row = {}
    for column in PERSON_ROW.columns:
        if column.name == "other_names":
            row[column.name] = other_names(person)
        elif column.name == "nationalities":
            row[column.name] = nationality_codes(person)
        elif column.name == "citations":
            row[column.name] = row_citations(person)
        else:
            row[column.name] = formatter(column)(getattr(person, column.source))
    return row


# --- Events ----------------------------------------------------------------------------------

EVENT_ROW = RowSpec(
    "events",
    Event,
    (
        field("id", "The event's permanent public id.", Event, "public_id"),
        field("kind", "What happened.", Event),
        field("summary", "One public line.", Event),
        field("description", "Public description.", Event),
        field("date", "When; for a custody episode, when it started.", Event),
        field("end_date", "Custody episodes only: when custody ended.", Event),
        field("place", "Where.", Event),
        field("facility", "Where held, released from, escaped from, sent to.", Event),
        field("from_facility", "Transfers only: the facility left.", Event),
        field("operation", "Captures: operation name.", Event),
        field("unnamed_count", "People involved but not named.", Event),
        field("unnamed_description", "Who they were, e.g. associates.", Event),
        field("custody_end_reason", "Custody episodes only: why it ended.", Event),
        field("release_kind", "Releases only.", Event),
        field("death_circumstances", "Deaths only: how the person died.", Event),
        field("batch", "Releases only: the batch decision.", Event),
        field("reengagement", "Re-engagements only, and required there.", Event),
        field("role", "Re-engagement: the role taken up.", Event),
        field("strength_estimate", "Fighters led, as a lower bound.", Event),
        field("strength_note", "The strength as the source says it.", Event),
        field("claim_status", "How sure the record is of the fact.", Event),
        RowColumn("people", LIST, "The named people and their part."),
        RowColumn("organizations", LIST, "The organizations and their part."),
        RowColumn(
            "citations",
            LIST,
            "The public sources of the event: each source's title, publisher, date and "
            "address, and the passage quoted.",
        ),
        field("created", "When the record was created.", Event),
        field("updated", "When the record last changed.", Event),
    ),
)

ROWS = (PERSON_ROW, EVENT_ROW)


# --- A page of events' parts -----------------------------------------------------------------


def prefetched(instance, name: str) -> bool:
    return name in getattr(instance, "_prefetched_objects_cache", {})


def with_event_parts(events) -> list:
    """`events` (their place, facilities and batch joined) with what an event row shows of
    their people, organizations and citations, each as the API writes it (in `EVENT_PEOPLE`,
    `EVENT_ORGANIZATIONS` and `EVENT_CITATIONS`), read for all of them as tuples in one query
    each (and one for the people's names): a page of 500 events links thousands of records,
    and as model instances, prefetched, they cost several times the queries. Events whose
    parts were prefetched already are left as they are (the serializer reads those).
    tests/test_api_fast.py compares both."""
    events = list(events)
    todo = [event for event in events if not prefetched(event, "people")]
    if not todo:
        return events
    ids = [event.pk for event in todo]
    published = PublicationStatus.PUBLISHED
    roles = list(
        EventPerson.objects.filter(event_id__in=ids, person__status=published).values_list(
            "event_id",
            "person_id",
            "person__public_id",
            "person__withheld",
            "role",
            "capacity",
            "note",
            "age",
        )
    )
    names = {}
    if roles:
        for person_id, name, is_primary in PersonName.objects.filter(
            person_id__in={role[1] for role in roles}
        ).values_list("person_id", "name", "is_primary"):
            names.setdefault(person_id, []).append((name, is_primary))
    people = {}
    for event_id, person_id, public_id, withheld, role, capacity, note, age in roles:
        people.setdefault(event_id, []).append(
            {
                "id": str(public_id),
                "name": display_name(names.get(person_id, ()), withheld, public_id),
                "role": role,
                "capacity": capacity,
                "note": note,
                "age": age,
            }
        )
    organizations = {}
    for event_id, public_id, name, role, note in EventOrganization.objects.filter(
        event_id__in=ids, organization__status=published
    ).values_list("event_id", "organization__public_id", "organization__name", "role", "note"):
        organizations.setdefault(event_id, []).append(
            {"id": str(public_id), "name": name, "role": role, "note": note}
        )
    citations = event_citation_rows(ids)
    for event in todo:
        setattr(event, EVENT_PEOPLE, people.get(event.pk, []))
        setattr(event, EVENT_ORGANIZATIONS, organizations.get(event.pk, []))
        setattr(event, EVENT_CITATIONS, citations.get(event.pk, []))
    return events


def display_name(names, withheld, public_id) -> str:
    """`Person.display_name` from the person's (name, is_primary) pairs in PersonName's order,
    its `withheld` and its public id."""
    primary = next((name for name, is_primary in names if is_primary), None)
    if primary is None and names:
        primary = names[0][0]
    if primary:
        return primary
    if Person.Withheld.NAME in withheld:
        return f"Name withheld by the source ({public_id.hex[:8]})"
    return f"Unnamed person {public_id.hex[:8]}"


# Where `with_event_parts` keeps an event's public people, organizations and citations, as the
# API writes them.
EVENT_PEOPLE = "public_people_rows"
EVENT_ORGANIZATIONS = "public_organization_rows"
EVENT_CITATIONS = "public_citation_rows"
