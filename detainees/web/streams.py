"""Whole lists as CSV, streamed in constant memory: `/people.csv` and `/events.csv`.

A row is the list's row (`detainees.read.rows`: PERSON_ROW, EVENT_ROW) flattened, as the API's
`detainees.api.renderers.CSVRenderer` writes it: the spec's columns, in its order. Building a
DRF serializer's output for each of a million rows costs far more than reading them, so the rows
are built here from plain `values_list()` tuples instead. Scalar cells go through the spec's
`formatter`, as the API's rows do, so dates, timestamps and ids read exactly as in the API; the
columns made of related records (names, people, organizations, citations) are read CHUNK_SIZE
rows at a time, one query per relation, with the same public-only conditions as the serializers.
The citations become the numbered source columns at the end of the row
(`detainees.read.citing`), from the same JSON the API gives.

`/people.csv` reads its main query on a server-side cursor; `/events.csv`, a million rows at
full size, by keyset along the events list's index (`latest_first`), so that PostgreSQL never
sorts and holds the whole result. Memory holds one chunk, and the number of queries grows with
the number of chunks, never with the number of rows. Tests compare every row with
the API's CSV, so the two cannot drift apart.
"""

import csv
from collections import defaultdict
from datetime import date
from itertools import islice

from django.db.models import DateField, F, Q, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from detainees.domain.models import (
    EventOrganization,
    EventPerson,
    Nationality,
    Organization,
    Person,
    PersonName,
    Place,
    PublicationStatus,
)
from detainees.read.chunks import among
from detainees.read.citing import csv_columns, people_row_citations, source_cells
from detainees.read.csvcells import csv_cell
from detainees.read.event_lines import event_citations
from detainees.read.rows import EVENT_ROW, FUZZY, LIST, PERSON_ROW, REF, formatter
from tracker.streaming import download

PUBLISHED = PublicationStatus.PUBLISHED
CHUNK_SIZE = 2000


class Echo:
    """A file that hands back what is written to it, so csv.writer gives each line."""

    def write(self, value):
        return value


def chunks(rows, size: int = CHUNK_SIZE):
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def csv_response(lines, filename: str) -> StreamingHttpResponse:
    """Streamed, started (the first rows are read before the status is sent) and no-store."""
    return download(lines, content_type="text/csv; charset=utf-8", filename=filename)


def joined(values) -> str:
    """A list cell, as flatten() writes a list."""
    return "; ".join(values)


def with_role(name: str, role: str) -> str:
    """A person or organization in an event, as flatten() writes one: its name and its part."""
    return f"{name} ({role})"


def write_lines(columns: list[str], rows):
    """The header and each row (a list of cells), as CSV lines, a chunk of rows per string.

    The header comes with the first chunk, so the first string needs the first database read.
    Every cell goes through `csv_cell` (formula injection).
    """
    writer = csv.writer(Echo())
    header = writer.writerow([csv_cell(c) for c in columns])
    for chunk in chunks(rows):
        yield header + "".join(writer.writerow([csv_cell(c) for c in row]) for row in chunk)
        header = ""
    if header:
        yield header


# --- People ----------------------------------------------------------------------------------

# The people row's columns read from the row itself, those made of its names, and its sources.
PERSON_SCALARS = [c for c in PERSON_ROW.columns if c.is_scalar]
PERSON_LISTS = ("other_names", "nationalities")
assert {c.name for c in PERSON_ROW.columns if c.type == LIST} == {*PERSON_LISTS, "citations"}


def person_rows(queryset):
    """People of `queryset` (annotated by annotate_listing, in its order) as CSV rows."""
    columns = csv_columns(PERSON_ROW.names)
    sources_at = columns.index("source_1_title")
    sources = ["pk", *(c.source for c in PERSON_SCALARS)]
    scalars = [
        (columns.index(c.name), formatter(c), sources.index(c.source)) for c in PERSON_SCALARS
    ]
    names_at, nationalities_at = (columns.index(c) for c in PERSON_LISTS)
    values = queryset.prefetch_related(None).values_list(*sources)
    for chunk in chunks(values.iterator(chunk_size=CHUNK_SIZE)):
        ids = [row[0] for row in chunk]
        # get_other_names: the names that are not primary, in PersonName's order.
        other_names = defaultdict(list)
        for person_id, name in (
            PersonName.objects.filter(among("person_id", ids), is_primary=False)
            .order_by("person_id", "-is_primary", "name", "pk")
            .values_list("person_id", "name")
        ):
            other_names[person_id].append(name)
        # get_nationalities: every nationality's country code, in the order they were entered.
        nationalities = defaultdict(list)
        for person_id, country in (
            Nationality.objects.filter(among("person_id", ids))
            .order_by("person_id", "pk")
            .values_list("person_id", "country")
        ):
            nationalities[person_id].append(country)
        citations = people_row_citations(ids)
        for row in chunk:
            out = [""] * len(columns)
            for i, represent, j in scalars:
                value = row[j]
                out[i] = "" if value is None else represent(value)
            out[names_at] = joined(other_names.get(row[0], ()))
            out[nationalities_at] = joined(nationalities.get(row[0], ()))
            out[sources_at:] = source_cells(citations[row[0]])
            yield out


def people_csv(queryset, order) -> StreamingHttpResponse:
    columns = csv_columns(PERSON_ROW.names)
    rows = person_rows(queryset.order_by(*order))
    return csv_response(write_lines(columns, rows), "people.csv")


# --- Events ----------------------------------------------------------------------------------

# The events row's columns read from the row itself; fuzzy dates, whose CSV cell is the EDTF.
EVENT_SCALARS = [c for c in EVENT_ROW.columns if c.is_scalar]
EVENT_DATES = tuple(c.name for c in EVENT_ROW.columns if c.type == FUZZY)


# Links (the `Ref` serializer): a published record's name (its __str__), else its id; an
# unpublished one is null, an empty cell. Each: the columns its __str__ reads.
EVENT_REFS = {
    "place": ("name", "kind"),
    "facility": ("name",),
    "from_facility": ("name",),
    "batch": ("title",),
}


assert set(EVENT_REFS) == {c.name for c in EVENT_ROW.columns if c.type == REF}


def ref_labels() -> dict:
    """Each link's __str__, from the columns EVENT_REFS reads."""
    # Place.label: "Kunar (province)"; the kinds' labels as get_kind_display() gives them now.
    kinds = {k: str(v).lower() for k, v in Place._meta.get_field("kind").flatchoices}
    return {
        "place": lambda name, kind: f"{name} ({kinds.get(kind, kind.lower())})",
        "facility": lambda name: name,
        "from_facility": lambda name: name,
        "batch": lambda title: title,
    }


def latest_first(values, size: int = CHUNK_SIZE):
    """Chunks of `values` (a values_list() of events, the pk first), latest first and undated
    last, as `detainees.read.pagination.keyset_page` orders the events list: each chunk read
    by keyset, starting after the last row of the one before, along event_latest_first_idx.
    No cursor is held open: a held cursor makes PostgreSQL sort and keep every row before it
    sends the first."""
    key = Coalesce(F("date_earliest"), Value(date.min), output_field=DateField())
    values = values.annotate(latest_first_key=key).order_by("-latest_first_key", "-pk")
    chunk = list(values[:size])
    while chunk:
        last, pk = chunk[-1][-1], chunk[-1][0]
        yield [row[:-1] for row in chunk]
        # The first condition bounds the index scan, as keyset_page's does.
        after = values.filter(latest_first_key__lte=last).filter(
            Q(latest_first_key__lt=last) | Q(latest_first_key=last, pk__lt=pk)
        )
        chunk = list(after[:size])


def event_rows(queryset, chunked=None):
    """Events of `queryset`, in its order, as CSV rows with EVENT_ROW's columns; `chunked`,
    when given, reads the values_list() in chunks in its own order instead."""
    columns = csv_columns(EVENT_ROW.names)
    sources = ["pk", *(c.source for c in EVENT_SCALARS), *EVENT_DATES]
    for ref, names in EVENT_REFS.items():
        sources += [f"{ref}__status", f"{ref}__public_id", *(f"{ref}__{n}" for n in names)]
    at = {source: i for i, source in enumerate(sources)}
    scalars = [(columns.index(c.name), formatter(c), at[c.source]) for c in EVENT_SCALARS]
    dates = [(columns.index(c), at[c]) for c in EVENT_DATES]
    refs = [
        (
            columns.index(ref),
            at[f"{ref}__status"],
            at[f"{ref}__public_id"],
            [at[f"{ref}__{n}"] for n in names],
            label,
        )
        for (ref, names), label in zip(EVENT_REFS.items(), ref_labels().values(), strict=True)
    ]
    people_at, organizations_at = (columns.index(c) for c in ("people", "organizations"))
    sources_at, claim_status_at = columns.index("source_1_title"), at["claim_status"]
    values = queryset.prefetch_related(None).values_list(*sources)
    read = chunked(values) if chunked else chunks(values.iterator(chunk_size=CHUNK_SIZE))
    for chunk in read:
        ids = [row[0] for row in chunk]
        people = event_people(ids)
        organizations = defaultdict(list)
        for event_id, name, public_id, role in (
            EventOrganization.objects.filter(
                among("event_id", ids), Organization.public_q("organization__")
            )
            .order_by("event_id", "pk")
            .values_list("event_id", "organization__name", "organization__public_id", "role")
        ):
            organizations[event_id].append(with_role(name or str(public_id), role))
        # Each citation as the API writes it (`citation_row`), its source and publisher read
        # by their own index (see `detainees.read.event_lines.event_citations`).
        citations = event_citations(ids)
        for row in chunk:
            out = [""] * len(columns)
            for i, represent, j in scalars:
                value = row[j]
                out[i] = "" if value is None else represent(value)
            for i, j in dates:
                out[i] = row[j]
            for i, status, public_id, names, label in refs:
                if row[status] == PUBLISHED:
                    out[i] = label(*(row[n] for n in names)) or str(row[public_id])
            out[people_at] = joined(people.get(row[0], ()))
            out[organizations_at] = joined(organizations.get(row[0], ()))
            out[sources_at:] = source_cells(citations.get(row[0], []), row[claim_status_at])
            yield out


def event_people(event_ids) -> dict[int, list[str]]:
    """Each event's published people's display names and parts, in the order they were
    entered."""
    # The links, then their public people, each by its own index: joined in one statement,
    # PostgreSQL merges a chunk's links with a scan of the whole people table.
    links = list(
        EventPerson.objects.filter(among("event_id", event_ids))
        .order_by("event_id", "pk")
        .values_list("event_id", "person_id", "role")
    )
    public = dict(
        Person.objects.filter(
            among("pk", {link[1] for link in links}), Person.public_q()
        ).values_list("pk", "public_id")
    )
    links = [
        (event_id, person_id, public[person_id], role)
        for event_id, person_id, role in links
        if person_id in public
    ]
    # Person.display_name: the primary name, else the first in PersonName's order.
    display = dict(
        PersonName.objects.filter(among("person_id", list(public)))
        .order_by("person_id", "-is_primary", "name", "pk")
        .distinct("person_id")
        .values_list("person_id", "name")
    )
    people = defaultdict(list)
    for event_id, person_id, public_id, role in links:
        name = display.get(person_id, f"Unnamed person {public_id.hex[:8]}")
        people[event_id].append(with_role(name or str(public_id), role))
    return people


def events_csv(queryset) -> StreamingHttpResponse:
    """The events of `queryset`, latest first and undated last, as the events list orders them."""
    columns = csv_columns(EVENT_ROW.names)
    rows = event_rows(queryset, chunked=latest_first)
    return csv_response(write_lines(columns, rows), "events.csv")
