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

from django.db.models import CharField
from django.db.models.functions import Cast

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
from detainees.read.rows import EVENT_ROW, FUZZY, REF, UUID, formatter
from detainees.web.streams import among

PUBLISHED = PublicationStatus.PUBLISHED
CHUNK_SIZE = 5000

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


UUID_COLUMNS = {c.source for c in SCALARS if c.type == UUID} | {f"{r}__public_id" for r in REFS}


def selected(columns: list[str]) -> list:
    """`columns` as the query selects them: uuids as text."""
    return [as_text(c) if c in UUID_COLUMNS else c for c in columns]


def scalar_formats(column):
    """The JSON value of a scalar's stored value, as `formatter` gives it: uuids come as text."""
    if column.type == UUID:
        return str
    return formatter(column)


def event_chunks(events=None, chunk_size: int = CHUNK_SIZE):
    """Lists of event rows (dicts as EventSerializer gives them) of the public events of
    `events` (default: all), by primary key, `chunk_size` per list."""
    events = Event.objects.public() if events is None else events.filter(Event.public_q())
    columns = event_columns()
    values = events.order_by("pk").values_list(*selected(columns))
    last = 0
    while True:
        chunk = list(values.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        last = chunk[-1][0]
        yield event_dicts(chunk, columns)


def event_dicts(chunk: list[tuple], columns: list[str]) -> list[dict]:
    """The rows of `chunk` (tuples of `event_columns()`), with their related rows read in one
    query per relation."""
    if LABELS["place"] is None:
        LABELS["place"] = place_label()
    at = {name: i for i, name in enumerate(columns)}
    scalars = [(c.name, scalar_formats(c), at[c.source]) for c in SCALARS]
    dates = [(name, at[name]) for name in DATES]
    refs = [
        (ref, at[f"{ref}__status"], at[f"{ref}__public_id"], [at[f"{ref}__{n}"] for n in names])
        for ref, names in REFS.items()
    ]
    ids = [row[0] for row in chunk]
    people = event_people(ids)
    organizations = event_organizations(ids)
    citations = event_citations(ids)
    text = HUMANIZED
    # The serializer's key order: EVENT_ROW's.
    order = EVENT_ROW.names
    rows = []
    for row in chunk:
        out = {}
        for name, represent, j in scalars:
            value = row[j]
            out[name] = None if value is None else represent(value)
        for name, j in dates:
            edtf, earliest, latest = row[j], row[j + 1], row[j + 2]
            out[name] = {
                "edtf": edtf,
                "earliest": earliest.isoformat() if earliest else None,
                "latest": latest.isoformat() if latest else None,
                "text": text[edtf],
                "as_written": row[j + 3],
            }
        for ref, status, public_id, names in refs:
            if row[public_id] is None or row[status] != PUBLISHED:
                out[ref] = None
            else:
                label = LABELS[ref](*(row[n] for n in names))
                out[ref] = {"id": row[public_id], "name": label}
        pk = row[0]
        out["people"] = people.get(pk, [])
        out["organizations"] = organizations.get(pk, [])
        out["citations"] = citations.get(pk, [])
        rows.append({name: out[name] for name in order})
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
    ) in Source.objects.filter(among("id", source_ids), Source.public_q()).values_list(
        *(as_text(c) if c.endswith("public_id") else c for c in SOURCE_COLUMNS)
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
        .values_list(*CITATION_COLUMNS)
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
                "accessed_on": accessed_on.isoformat() if accessed_on else None,
            }
        )
    return citations
