"""Events in their API shape (`detainees.api.serializers.EventSerializer`), built from tuples.

The JSON Lines export writes every public event, a million at full size. Through the serializer
each one cost a model instance per event, role, person, name, organization, citation, source
and publisher, a queryset clone per prefetched relation, and DRF's per-field calls; here each
chunk of events is read as plain tuples, in keyset order (`id > last`, `CHUNK_SIZE` at a time),
with one query per relation (people, their display names, organizations, citations), and every
row is a dict written directly. The keys, values and order are the serializer's:
tests/test_export_lines.py compares every event of the demo case and of a generated dataset
with `EventSerializer(...).data`.

The same public-only conditions hold: an event is listed when `Event.public_q()` holds, a link
(place, facility, batch) is null unless its record is published, a person or organization in
an event is left out unless public, a citation unless its source is public, and a publisher
unless published.
"""

from collections import defaultdict
from operator import itemgetter

from django.conf import settings
from django.db.models import CharField, Func
from django.db.models.functions import Cast
from django.utils import timezone

from detainees.domain.fuzzydates import humanize
from detainees.domain.models import (
    Citation,
    Event,
    EventOrganization,
    EventPerson,
    Organization,
    Person,
    PersonName,
    Place,
    PublicationStatus,
    Source,
)
from detainees.read.chunks import among
from detainees.read.rows import DATE as DATE_TYPE
from detainees.read.rows import DATETIME, EVENT_ROW, FUZZY, REF, UUID, formatter

PUBLISHED = PublicationStatus.PUBLISHED
# Events per chunk: each chunk costs seven queries, whatever its size. 4,000 events in their API
# shape, with the chunk's lines, hold about 70 MiB at most.
CHUNK_SIZE = 4000

# The row's columns read from the event's own row, and their JSON formats.
SCALARS = [c for c in EVENT_ROW.columns if c.is_scalar]
DATES = [c.name for c in EVENT_ROW.columns if c.type == FUZZY]
# Links: the columns each one's __str__ reads (Place: "Kunar (province)").
REFS = {
    "place": ("name", "kind"),
    "facility": ("name",),
    "from_facility": ("name",),
    "batch": ("title",),
}
assert set(REFS) == {c.name for c in EVENT_ROW.columns if c.type == REF}
assert {c.name for c in EVENT_ROW.columns if not c.is_scalar} == {
    *DATES,
    *REFS,
    "people",
    "organizations",
    "citations",
}


def place_label():
    """Place.label, from the place's name and kind."""
    kinds = {k: str(v).lower() for k, v in Place._meta.get_field("kind").flatchoices}
    return lambda name, kind: f"{name} ({kinds.get(kind, kind)})"


LABELS = {
    "place": None,  # filled on first use: the kinds' labels are read once translations load
    "facility": lambda name: name,
    "from_facility": lambda name: name,
    "batch": lambda title: title,
}


def organization_name(name: str, abbreviation: str) -> str:
    """Organization.__str__."""
    return f"{name} ({abbreviation})" if abbreviation else name


class Humanized(dict):
    """`humanize(edtf)` per distinct EDTF: a million events share a few thousand dates."""

    def __missing__(self, edtf):
        text = self[edtf] = humanize(edtf)
        return text


def as_text(column: str):
    """A uuid column read as its text, as str() writes it: no value object per cell."""
    return Cast(column, output_field=CharField())


def event_columns() -> list[str]:
    """The columns the main query reads, in order: pk, the scalars, the dates' four columns,
    each link's status, public id and label columns."""
    columns = ["pk", *(c.source for c in SCALARS)]
    for name in DATES:
        columns += [name, f"{name}_earliest", f"{name}_latest", f"{name}_as_written"]
    for ref, names in REFS.items():
        columns += [f"{ref}__status", f"{ref}__public_id", *(f"{ref}__{n}" for n in names)]
    return columns


class IsoUTC(Func):
    """A timestamp as `detainees.read.rows.iso_datetime` writes it when the time zone is UTC:
    ISO 8601, the microseconds only when there are any, and Z."""

    output_field = CharField()
    template = (
        "(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        "CASE WHEN date_trunc('second', %(expressions)s) = %(expressions)s THEN '' "
        "ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || 'Z')"
    )


def utc() -> bool:
    """Whether timestamps are written in UTC, so that PostgreSQL can write them."""
    return settings.USE_TZ and timezone.get_current_timezone_name() == "UTC"


UUID_COLUMNS = {c.source for c in SCALARS if c.type == UUID} | {f"{r}__public_id" for r in REFS}
DATETIME_COLUMNS = {c.source for c in SCALARS if c.type == DATETIME}
# A fuzzy date's bounds: read as text, which is what date.isoformat() writes.
DATE_COLUMNS = {f"{name}_{bound}" for name in DATES for bound in ("earliest", "latest")}


def selected(columns: list[str], *, in_utc: bool) -> list:
    """`columns` as the query selects them: uuids and dates as text, and timestamps too when
    the time zone is UTC."""
    out = []
    for column in columns:
        if column in UUID_COLUMNS or column in DATE_COLUMNS:
            out.append(as_text(column))
        elif column in DATETIME_COLUMNS and in_utc:
            out.append(IsoUTC(column))
        else:
            out.append(column)
    return out


def scalar_formats(column, *, in_utc: bool):
    """The JSON value of a scalar's value as selected: uuids come as text, and timestamps too
    when the time zone is UTC; the rest as `formatter` gives it."""
    if column.type == DATETIME and not in_utc or column.type == DATE_TYPE:
        return formatter(column)
    return None  # as selected: formatter() would give the value itself


def event_chunks(events=None, chunk_size: int = CHUNK_SIZE):
    """Lists of event rows (dicts as EventSerializer gives them) of the public events of
    `events` (default: all), by primary key, `chunk_size` per list."""
    events = Event.objects.public() if events is None else events.filter(Event.public_q())
    columns, in_utc = event_columns(), utc()
    values = events.order_by("pk").values_list(*selected(columns, in_utc=in_utc))
    last = 0
    while True:
        chunk = list(values.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        last = chunk[-1][0]
        yield event_dicts(chunk, columns, in_utc=in_utc)


def event_dicts(chunk: list[tuple], columns: list[str], *, in_utc: bool) -> list[dict]:
    """The rows of `chunk` (tuples of `event_columns()` as `selected()` reads them), with their
    related rows read in one query per relation.

    Each row is made in one step from the tuple, every key in the serializer's order (EVENT_ROW's)
    holding its column's value as selected, then the dates, links, related lists and any scalar
    still to format are set in place: assigning to a key a dict has keeps its place."""
    if LABELS["place"] is None:
        LABELS["place"] = place_label()
    at = {name: i for i, name in enumerate(columns)}
    keys = EVENT_ROW.names
    # Each key's column; the keys set below take the pk for now.
    pick = itemgetter(*(at[c.source] if c.is_scalar else 0 for c in EVENT_ROW.columns))
    formats = [
        (c.name, at[c.source], represent)
        for c in SCALARS
        if (represent := scalar_formats(c, in_utc=in_utc)) is not None
    ]
    dates = [(name, at[name]) for name in DATES]
    links = [
        (
            name,
            at[f"{name}__status"],
            at[f"{name}__public_id"],
            [at[f"{name}__{n}"] for n in names],
            LABELS[name],
        )
        for name, names in REFS.items()
    ]
    ids = [row[0] for row in chunk]
    people = event_people(ids)
    organizations = event_organizations(ids)
    citations = event_citations(ids)
    text = HUMANIZED
    rows = []
    for row in chunk:
        out = dict(zip(keys, pick(row), strict=True))
        for name, j, represent in formats:
            value = row[j]
            out[name] = None if value is None else represent(value)
        for name, j in dates:
            edtf = row[j]
            out[name] = {
                "edtf": edtf,
                "earliest": row[j + 1],
                "latest": row[j + 2],
                "text": text[edtf],
                "as_written": row[j + 3],
            }
        for name, status, public_id, names, label in links:
            if row[public_id] is None or row[status] != PUBLISHED:
                out[name] = None
            else:
                out[name] = {"id": row[public_id], "name": label(*(row[n] for n in names))}
        pk = row[0]
        out["people"] = people.get(pk) or []
        out["organizations"] = organizations.get(pk) or []
        out["citations"] = citations.get(pk) or []
        rows.append(out)
    return rows


HUMANIZED = Humanized()


def display_names(person_ids) -> dict[int, str]:
    """Person.display_name of each person with a name: the primary name, else the first in
    PersonName's order."""
    if not person_ids:
        return {}
    return dict(
        PersonName.objects.filter(among("person_id", person_ids))
        .order_by("person_id", "-is_primary", "name", "pk")
        .distinct("person_id")
        .values_list("person_id", "name")
    )


def unnamed(public_id: str, withheld) -> str:
    """Person.display_name of a person without a name (`public_id` as text)."""
    short = public_id.replace("-", "")[:8]
    if Person.Withheld.NAME in (withheld or ()):
        return f"Name withheld by the source ({short})"
    return f"Unnamed person {short}"


def event_people(event_ids) -> dict[int, list[dict]]:
    """EventSerializer.get_people for each event: its public people, in the order entered.

    The links, then their people, each by its own index: joined in one statement, PostgreSQL
    merges the chunk's links with a scan of the whole people table."""
    links = list(
        EventPerson.objects.filter(among("event_id", event_ids))
        .order_by("event_id", "pk")
        .values_list("event_id", "person_id", "role", "capacity", "note", "age")
    )
    person_ids = {link[1] for link in links}
    public = {
        pk: (public_id, withheld)
        for pk, public_id, withheld in Person.objects.filter(
            among("pk", person_ids), Person.public_q()
        ).values_list("pk", as_text("public_id"), "withheld")
    }
    names = display_names(list(public))
    people = defaultdict(list)
    for event_id, person_id, role, capacity, note, age in links:
        if person_id not in public:
            continue
        public_id, withheld = public[person_id]
        name = names.get(person_id)
        people[event_id].append(
            {
                "id": public_id,
                "name": unnamed(public_id, withheld) if name is None else name,
                "role": role,
                "capacity": capacity,
                "note": note,
                "age": age,
            }
        )
    return people


def event_organizations(event_ids) -> dict[int, list[dict]]:
    """EventSerializer.get_organizations for each event, in the order entered."""
    organizations = defaultdict(list)
    for event_id, public_id, name, role, note in (
        EventOrganization.objects.filter(
            among("event_id", event_ids), Organization.public_q("organization__")
        )
        .order_by("event_id", "pk")
        .values_list(
            "event_id", as_text("organization__public_id"), "organization__name", "role", "note"
        )
    ):
        organizations[event_id].append({"id": public_id, "name": name, "role": role, "note": note})
    return organizations


CITATION_COLUMNS = (
    "event_id",
    "source_id",
    "aspect",
    "quote",
    "locator",
    "attribution",
    "accessed_on",
)
SOURCE_COLUMNS = (
    "pk",
    "public_id",
    "title",
    "publisher__status",
    "publisher__public_id",
    "publisher__name",
    "publisher__abbreviation",
    "published",
    "url",
    "archived_url",
)


def cited_sources(source_ids) -> dict[int, dict]:
    """`detainees.read.citing.cited_source` of each public source of `source_ids`."""
    sources = {}
    for (
        pk,
        public_id,
        title,
        publisher_status,
        publisher_id,
        publisher_name,
        abbreviation,
        published,
        url,
        archived_url,
    ) in (
        Source.objects.filter(among("id", source_ids), Source.public_q())
        # Keyed by id below: Source's default order by title would only sort for nothing.
        .order_by()
        .values_list(*(as_text(c) if c.endswith("public_id") else c for c in SOURCE_COLUMNS))
    ):
        publisher = (
            {"id": publisher_id, "name": organization_name(publisher_name, abbreviation)}
            if publisher_id is not None and publisher_status == PUBLISHED
            else None
        )
        sources[pk] = {
            "id": public_id,
            "name": title,
            "publisher": publisher,
            "published": published or None,
            "url": url,
            "archived_url": archived_url,
        }
    return sources


def event_citations(event_ids) -> dict[int, list[dict]]:
    """Each event's citations of public sources, as `detainees.read.citing.citation_row`
    writes them, in the order entered: the citations, then their sources, each by its own
    index (as `event_people`)."""
    rows = list(
        Citation.objects.filter(among("event_id", event_ids))
        .order_by("event_id", "pk")
        .values_list(*(as_text(c) if c == "accessed_on" else c for c in CITATION_COLUMNS))
    )
    sources = cited_sources({row[1] for row in rows})
    citations = defaultdict(list)
    for event_id, source_id, aspect, quote, locator, attribution, accessed_on in rows:
        source = sources.get(source_id)
        if source is None:
            continue
        citations[event_id].append(
            {
                "source": source,
                "aspect": aspect,
                "quote": quote,
                "locator": locator,
                "attribution": attribution,
                "accessed_on": accessed_on,
            }
        )
    return citations
