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
from operator import itemgetter

from django.db.models import BigIntegerField, BooleanField, DateField, F, Func, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse

from detainees.domain.models import (
    EventOrganization,
    Organization,
    Place,
    PublicationStatus,
)
from detainees.read.chunks import among
from detainees.read.citing import (
    SOURCE_FIELDS,
    SOURCE_SLOTS,
    csv_columns,
    people_row_citations,
    source_cells,
)
from detainees.read.csvcells import SUSPECT_FIRST, csv_cell
from detainees.read.event_lines import (
    event_citations,
    event_people,
    scalar_formats,
    selected,
    utc,
)
from detainees.read.rows import EVENT_ROW, FUZZY, LIST, PERSON_ROW, REF, formatter, row_lists
from tracker.streaming import download

PUBLISHED = PublicationStatus.PUBLISHED
CHUNK_SIZE = 2000
# Events of /events.csv per keyset page: each page costs seven queries, whatever its size, and
# an event row holds a few kilobytes, so 5,000 of them (about 30 MiB) halve the queries of
# 2,000 for little memory.
EVENT_CHUNK_SIZE = 5000


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


def write_lines(columns: list[str], rows, *, guard: bool = True):
    """The header and each row (a list of cells), as CSV lines, a chunk of rows per string.

    The header comes with the first chunk, so the first string needs the first database read.
    Every cell goes through `csv_cell` (formula injection), here unless `guard` is false: rows
    whose cells went through it already.
    """
    writer = csv.writer(Echo())
    header = writer.writerow([csv_cell(c) for c in columns])
    for chunk in chunks(rows):
        if guard:
            chunk = [[csv_cell(c) for c in row] for row in chunk]
        yield header + "".join(map(writer.writerow, chunk))
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
        other_names, nationalities = row_lists(ids)
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


class RowBefore(Func):
    """`(a, b) < (x, y)`: a row comparison, which PostgreSQL reads as one index condition on an
    index of (a, b), so a keyset page starts exactly after the row before it."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection):
        parts = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (a, b, x, y), params = zip(*parts, strict=True)
        return f"(({a}, {b}) < ({x}, {y}))", [p for part in params for p in part]


def latest_first(values, size: int = EVENT_CHUNK_SIZE):
    """Chunks of `values` (a values_list() of events, the pk first), latest first and undated
    last, as `detainees.read.pagination.keyset_page` orders the events list: each chunk read
    by keyset, starting after the last row of the one before, along event_latest_first_idx.
    No cursor is held open: a held cursor makes PostgreSQL sort and keep every row before it
    sends the first. "After" is one row comparison, `(key, pk) < (last key, last pk)`: the
    index scan starts at that row and reads the chunk's rows alone, where `key < last OR (key =
    last AND pk < last pk)` made PostgreSQL read and sort every row of the last key (the
    75,000 undated events at full size) once per chunk."""
    key = Coalesce(F("date_earliest"), Value(date.min), output_field=DateField())
    values = values.annotate(latest_first_key=key).order_by("-latest_first_key", "-pk")
    chunk = list(values[:size])
    while chunk:
        last, pk = chunk[-1][-1], chunk[-1][0]
        yield [row[:-1] for row in chunk]
        after = values.filter(
            RowBefore(
                F("latest_first_key"),
                F("pk"),
                Value(last, output_field=DateField()),
                Value(pk, output_field=BigIntegerField()),
            )
        )
        chunk = list(after[:size])


def guarded(cells) -> list:
    """`csv_cell` of each cell, without a call for the cells that start with nothing to guard."""
    return [csv_cell(c) if c.__class__ is str and c[:1] in SUSPECT_FIRST else c for c in cells]


SOURCE_CELLS = SOURCE_SLOTS * len(SOURCE_FIELDS)


def event_source_cells(citations: dict[int, list[dict]], claim_status: dict[int, str]) -> dict:
    """`source_cells` of each event's citations (as `event_citations` gives them), every cell
    guarded: the four cells of each cited source are made once per chunk, however many of the
    chunk's events cite it."""
    heads = {}
    cells = {}
    for event_id, cited in citations.items():
        status = csv_cell(claim_status[event_id] or "")
        out = []
        for citation in cited[:SOURCE_SLOTS]:
            source = citation["source"]
            head = heads.get(source["id"])
            if head is None:
                publisher = source["publisher"] or {}
                head = heads[source["id"]] = guarded(
                    [
                        source["name"] or "",
                        publisher.get("name") or "",
                        source["published"] or "",
                        source["url"] or source["archived_url"] or "",
                    ]
                )
            out += head
            out += guarded([citation["quote"] or "", status, citation["aspect"] or ""])
        out += [""] * (SOURCE_CELLS - len(out))
        out.append(max(len(cited) - SOURCE_SLOTS, 0))
        cells[event_id] = out
    return cells


NO_SOURCES = [""] * SOURCE_CELLS + [0]


def event_rows(queryset, chunked=None):
    """Events of `queryset`, in its order, as CSV rows with EVENT_ROW's columns, every cell
    already through `csv_cell`; `chunked`, when given, reads the values_list() in chunks in its
    own order instead.

    Ids and timestamps are read as the text the API writes (and timestamps in Python when the
    time zone is not UTC, see `detainees.read.event_lines.selected`); a null is an empty cell
    as csv.writer writes None, so the row's own cells are picked from the tuple in the
    columns' order in one step, and only the links and lists are made in Python."""
    columns = csv_columns(EVENT_ROW.names)
    in_utc = utc()
    sources = ["pk", *(c.source for c in EVENT_SCALARS), *EVENT_DATES]
    for ref, names in EVENT_REFS.items():
        sources += [f"{ref}__status", f"{ref}__public_id", *(f"{ref}__{n}" for n in names)]
    at = {source: i for i, source in enumerate(sources)}
    own = {c.name: at[c.source] for c in EVENT_SCALARS} | {c: at[c] for c in EVENT_DATES}
    sources_at = columns.index("source_1_title")
    # Every cell before the sources, from the tuple: the links' and lists' places hold the pk
    # until they are filled below.
    pick = itemgetter(*(own.get(name, 0) for name in columns[:sources_at]))
    formats = [
        (columns.index(c.name), formatter(c))
        for c in EVENT_SCALARS
        if scalar_formats(c, in_utc=in_utc) is not None
    ]
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
    claim_status_at = at["claim_status"]
    values = queryset.prefetch_related(None).values_list(*selected(sources, in_utc=in_utc))
    read = chunked(values) if chunked else chunks(values.iterator(chunk_size=CHUNK_SIZE))
    for chunk in read:
        ids = [row[0] for row in chunk]
        people = {
            event_id: [with_role(p["name"] or p["id"], p["role"]) for p in event]
            for event_id, event in event_people(ids).items()
        }
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
        citations = event_source_cells(
            event_citations(ids), {row[0]: row[claim_status_at] for row in chunk}
        )
        for row in chunk:
            out = list(pick(row))
            for i, represent in formats:
                value = out[i]
                out[i] = "" if value is None else represent(value)
            for i, status, public_id, names, label in refs:
                if row[status] == PUBLISHED:
                    out[i] = label(*(row[n] for n in names)) or row[public_id]
                else:
                    out[i] = ""
            out[people_at] = joined(people.get(row[0], ()))
            out[organizations_at] = joined(organizations.get(row[0], ()))
            out = guarded(out)
            out += citations.get(row[0], NO_SOURCES)
            yield out


def events_csv(queryset) -> StreamingHttpResponse:
    """The events of `queryset`, latest first and undated last, as the events list orders them."""
    columns = csv_columns(EVENT_ROW.names)
    rows = event_rows(queryset, chunked=latest_first)
    return csv_response(write_lines(columns, rows, guard=False), "events.csv")
