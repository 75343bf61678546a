"""What a list row cites: the public sources of the facts a row shows, as JSON and as CSV cells.

A journalist who downloads a list needs to cite each row, so every list row carries its
citations, and so does every CSV made of them (`/people.csv`, `/events.csv`, the API's CSVs).

JSON: `citations` is a list of citations, each as the API writes one anywhere (`citation_row`):
the source (its id, title, publisher, publication date and addresses), the passage quoted, and
where and by whom it was said. A people row's citations also say which fact of the row each one
supports and how sure the record is of that fact (`supports`, `claim_status`); an event row's
support the event, whose `claim_status` is the row's.

CSV: a spreadsheet reads one value per cell best, so the citations become numbered groups of
columns at the end of the row, `source_1_title` ... `source_1_supports`, then `source_2_...`,
up to SOURCE_SLOTS, and `sources_more` counts the citations beyond them (the JSON, the JSON
Lines export and the data package have them all). One value per cell, so each cell takes the
formula guard on its own (`detainees.read.csvcells`) and reads back exactly, with no separator
inside a cell to escape. A row with fewer citations leaves the rest of its groups empty.

Only citations of published, non-confidential sources are read (`Source.public_q`), so a draft
or confidential source never reaches a row.
"""

from collections import defaultdict

from django.db import connections, router, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from detainees.domain.models import (
    Citation,
    ClaimStatus,
    Event,
    Nationality,
    Organization,
    Person,
    PersonListing,
    PersonName,
    PublicationStatus,
    Source,
)
from detainees.read.listing import deciding_events

# Citations per CSV row, in numbered groups of columns; `sources_more` counts the rest. Six hold
# every citation of every event of the ISAF data and of the demo case (at most four); a people
# row, which cites several facts, can have more.
SOURCE_SLOTS = 6
SOURCES_MORE = "sources_more"
# Each group's columns, in order, and what each holds.
SOURCE_FIELDS = (
    ("title", "The source's title."),
    ("publisher", "Who published it (an organization); empty when not recorded."),
    ("date", "When it was published, as a fuzzy date in EDTF (2011-04, 2014); empty when unknown."),
    (
        "url",
        "Its address, or where only an archived copy's address is recorded, that one; empty "
        "when neither is recorded.",
    ),
    ("quote", "The passage, word for word."),
    (
        "claim_status",
        "How sure the record is of the fact the passage supports (the event's, the name's, the "
        "nationality's).",
    ),
    (
        "supports",
        "What the passage supports. Events: the part of the event (the citation's aspect). "
        "People: the fact of the row, `name: ...`, `nationality: ...`, or the event deciding "
        "`first capture`, `last release` or `current status`, then the aspect after ` — `.",
    ),
)


def source_columns() -> list[str]:
    """The CSV columns the citations become: SOURCE_SLOTS numbered groups, then the count."""
    return [
        f"source_{slot}_{name}" for slot in range(1, SOURCE_SLOTS + 1) for name, _ in SOURCE_FIELDS
    ] + [SOURCES_MORE]


def csv_columns(names) -> list[str]:
    """A row's CSV header from its JSON keys: `citations` becomes the source columns, last."""
    names = list(names)
    if "citations" not in names:
        return names
    return [n for n in names if n != "citations"] + source_columns()


def source_cells(citations: list[dict], claim_status: str = "") -> list:
    """The source columns' cells for a row's citations (JSON, as `citation_row` writes them);
    `claim_status` is the row's, for citations that do not carry their own."""
    cells = []
    for citation in citations[:SOURCE_SLOTS]:
        source = citation.get("source") or {}
        publisher = source.get("publisher") or {}
        cells += [
            source.get("name") or "",
            publisher.get("name") or "",
            source.get("published") or "",
            source.get("url") or source.get("archived_url") or "",
            citation.get("quote") or "",
            citation.get("claim_status", claim_status) or "",
            citation.get("supports", citation.get("aspect")) or "",
        ]
    cells += [""] * (SOURCE_SLOTS * len(SOURCE_FIELDS) - len(cells))
    cells.append(max(len(citations) - SOURCE_SLOTS, 0))
    return cells


def cited_source(source: Source) -> dict:
    """A cited source as a citation gives it: enough to cite it without another request."""
    publisher = source.publisher
    return {
        "id": str(source.public_id),
        "name": str(source),
        "publisher": (
            {"id": str(publisher.public_id), "name": str(publisher)}
            if publisher is not None and publisher.is_public
            else None
        ),
        "published": source.published or None,
        "url": source.url,
        "archived_url": source.archived_url,
    }


def source_from_columns(
    source_id,
    title,
    published_on,
    url,
    archived_url,
    publisher_id,
    publisher_name,
    abbreviation,
    publisher_status,
) -> dict:
    """`cited_source()` of a source read as columns (its public id, title, date, links, and its
    publisher's public id, name, abbreviation and status), without model instances."""
    return {
        "id": str(source_id),
        "name": title,
        "publisher": (
            {
                "id": str(publisher_id),
                "name": f"{publisher_name} ({abbreviation})" if abbreviation else publisher_name,
            }
            if publisher_id is not None and publisher_status == PublicationStatus.PUBLISHED
            else None
        ),
        "published": published_on or None,
        "url": url,
        "archived_url": archived_url,
    }


def citation_row(citation: Citation) -> dict:
    """A citation as the API writes it everywhere (its source and publisher loaded)."""
    return {
        "source": cited_source(citation.source),
        "aspect": citation.aspect,
        "quote": citation.quote,
        "locator": citation.locator,
        "attribution": citation.attribution,
        "accessed_on": citation.accessed_on.isoformat() if citation.accessed_on else None,
    }


# --- A people row's citations -------------------------------------------------------------------

# The events a people row's dates and status come from, as its `supports` names them.
DECIDING = (
    ("first_capture_event", "first capture"),
    ("last_release_event", "last release"),
    ("status_event", "current status"),
)
DECIDING_ORDER = {label: i for i, (_, label) in enumerate(DECIDING)}


def supports(label: str, aspect: str) -> str:
    return f"{label} — {aspect}" if aspect else label


def row_citations_q(event_ids, person_ids) -> Q:
    """The citations of these events, of these people's names and of their nationalities not
    retracted, as one condition: what `_row_citation_ids` selects (tests compare the two)."""
    return (
        Q(event_id__in=event_ids)
        | Q(person_name__person_id__in=person_ids)
        | (
            Q(nationality__person_id__in=person_ids)
            & ~Q(nationality__claim_status=ClaimStatus.RETRACTED)
        )
    )


def _row_citation_ids(event_ids, person_ids) -> RawSQL:
    """Ids of the citations `row_citations_q` selects, each kind read through its own index:
    the one condition, an OR across three joined tables, reads every citation (2,000,000 at
    100,000 people, seconds)."""
    citation = Citation._meta.db_table
    names = PersonName._meta.db_table
    nationalities = Nationality._meta.db_table
    return RawSQL(
        f"SELECT id FROM {citation} WHERE event_id = ANY(%s) "  # noqa: S608 (table names from models; values are parameters)
        f"UNION SELECT c.id FROM {citation} c JOIN {names} n ON n.id = c.person_name_id "
        "WHERE n.person_id = ANY(%s) "
        f"UNION SELECT c.id FROM {citation} c JOIN {nationalities} t ON t.id = c.nationality_id "
        "WHERE t.person_id = ANY(%s) AND t.claim_status IS DISTINCT FROM %s",
        (list(event_ids), list(person_ids), list(person_ids), ClaimStatus.RETRACTED),
    )


def people_row_citations(person_ids) -> dict[int, list[dict]]:
    """Each person's row citations, by primary key, in two queries whatever the number: the
    sources of the facts the people list shows of them, which are

    - the events deciding its dates and status (its first capture, its last release and the
      event after which it has its current status), in that order, each once; then
    - its names (primary first, in the order the row lists the others), then its nationalities.

    The sources of the person as a whole (biography, birth) and of the rest of the timeline
    are on the person page and in the exports, not in the row.

    The citations are read as tuples, not model instances: a page of 50 people can cite a
    thousand passages, and five model instances per citation (the citation, its source, its
    publisher and its fact) cost several times the query. `people_row_citations_reference`
    builds the same rows from the models (tests/test_api_fast.py compares them).
    """
    person_ids = list(person_ids)
    if not person_ids:
        return {}
    roles = deciding_roles(person_ids)
    # The database the people were read from: a replica for anonymous readers.
    using = router.db_for_read(Citation)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        # Its estimated cost, for thousands of people, starts JIT compilation, which takes
        # longer than the query's index reads (90 of 370 ms per 2,000 people at 100,000).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(row_citations_sql(), [list(roles), person_ids, person_ids])
        rows = cursor.fetchall()
    found = defaultdict(list)  # per person: (position in the row's order, citation JSON)
    for (
        pk,
        aspect,
        quote,
        locator,
        attribution,
        accessed_on,
        source_id,
        source_title,
        source_published,
        source_url,
        source_archived_url,
        publisher_id,
        publisher_name,
        publisher_abbreviation,
        publisher_status,
        event_id,
        event_kind,
        event_date,
        event_claim_status,
        name_id,
        name_person_id,
        name_is_primary,
        name_name,
        name_claim_status,
        nationality_id,
        nationality_person_id,
        nationality_country,
        nationality_claim_status,
    ) in rows:
        row = {
            "source": source_from_columns(
                source_id,
                source_title,
                source_published,
                source_url,
                source_archived_url,
                publisher_id,
                publisher_name,
                publisher_abbreviation,
                publisher_status,
            ),
            "aspect": aspect,
            "quote": quote,
            "locator": locator,
            "attribution": attribution,
            "accessed_on": accessed_on.isoformat() if accessed_on else None,
        }
        if event_id is not None:
            by_person = defaultdict(list)
            for person_id, label in roles[event_id]:
                by_person[person_id].append(label)
            for person_id, labels in by_person.items():
                first = min(DECIDING_ORDER[label] for label in labels)
                fact = f"{' and '.join(labels)} ({event_kind}, {event_date or 'undated'})"
                found[person_id].append(
                    (
                        (0, first, event_id, pk),
                        {
                            **row,
                            "supports": supports(fact, aspect),
                            "claim_status": event_claim_status,
                        },
                    )
                )
        elif name_id is not None:
            found[name_person_id].append(
                (
                    (1, not name_is_primary, name_name, name_id, pk),
                    {
                        **row,
                        "supports": supports(f"name: {name_name}", aspect),
                        "claim_status": name_claim_status,
                    },
                )
            )
        else:
            found[nationality_person_id].append(
                (
                    (2, nationality_id, pk),
                    {
                        **row,
                        "supports": supports(f"nationality: {nationality_country}", aspect),
                        "claim_status": nationality_claim_status,
                    },
                )
            )
    return {
        person_id: [row for _, row in sorted(found.get(person_id, ()), key=lambda item: item[0])]
        for person_id in person_ids
    }


def row_citations_sql() -> str:
    """The public citations of the deciding events (the first parameter, their ids) and of the
    names and the nationalities not retracted of some people (the second and third, their
    ids), as the tuples `people_row_citations` unpacks: one UNION ALL of the three kinds of
    fact (a citation cites exactly one), each part starting from its few facts and reading
    their citations by index, where one OR of the three read every citation of the database.
    The order of the rows does not matter: each row's sort key ends with the citation's pk."""
    citation, source, organization, event, name, nationality = (
        model._meta.db_table
        for model in (Citation, Source, Organization, Event, PersonName, Nationality)
    )
    common = (
        "c.id, c.aspect, c.quote, c.locator, c.attribution, c.accessed_on, "
        "s.public_id, s.title, s.published, s.url, s.archived_url, "
        "o.public_id, o.name, o.abbreviation, o.status"
    )
    sources = (
        f"JOIN {source} s ON s.id = c.source_id AND s.status = %(published)s "
        f"AND NOT s.is_confidential LEFT JOIN {organization} o ON o.id = s.publisher_id"
    )
    untyped = {"published": f"'{PublicationStatus.PUBLISHED}'"}
    sources = sources % untyped
    # An event's, a name's or a nationality's citations, read by index for each fact: as a
    # join, PostgreSQL expects several times the citations there are and merges them with a
    # walk of a whole index (the citations' or the sources'), 0.8 s per 2,000 people at
    # 100,000, JIT compilation included. OFFSET 0 keeps each subquery apart.
    each_event = f"SELECT * FROM {citation} WHERE event_id = e.id OFFSET 0"  # noqa: S608
    each_name = f"SELECT * FROM {citation} WHERE person_name_id = n.id OFFSET 0"  # noqa: S608
    each_nationality = f"SELECT * FROM {citation} WHERE nationality_id = t.id OFFSET 0"  # noqa: S608
    # Table names and constants only: the ids are parameters.
    return (
        f"SELECT {common}, e.id, e.kind, e.date, e.claim_status, NULL::bigint, "  # noqa: S608
        "NULL::bigint, "
        "NULL::boolean, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text, "
        f"NULL::text FROM {event} e CROSS JOIN LATERAL ({each_event}) c {sources} "
        "WHERE e.id = ANY(%s) "
        f"UNION ALL SELECT {common}, NULL, NULL, NULL, NULL, n.id, n.person_id, n.is_primary, "
        f"n.name, n.claim_status, NULL, NULL, NULL, NULL FROM {name} n "
        f"CROSS JOIN LATERAL ({each_name}) c {sources} WHERE n.person_id = ANY(%s) "
        f"UNION ALL SELECT {common}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        f"t.id, t.person_id, t.country, t.claim_status FROM {nationality} t "
        f"CROSS JOIN LATERAL ({each_nationality}) c {sources} WHERE t.person_id = ANY(%s) "
        f"AND t.claim_status <> '{ClaimStatus.RETRACTED}'"
    )


def deciding_roles(person_ids: list) -> dict[int, list[tuple[int, str]]]:
    """Per event that decides a row's first capture, last release or current status: the
    people whose row it decides and what it decides for each. Read from the stored people list
    (`PersonListing`, which keeps each row's deciding events with its dates); a person it has
    no row for (not published) is computed with `deciding_events`, as
    `deciding_roles_reference` computes everyone (tests compare the two)."""
    person_ids = list(person_ids)
    deciding = {
        person_id: events
        for person_id, *events in PersonListing.objects.filter(person_id__in=person_ids)
        .order_by()
        .values_list("person_id", *(name for name, _ in DECIDING))
    }
    missing = [person_id for person_id in person_ids if person_id not in deciding]
    if missing:
        deciding.update(_deciding_live(missing))
    return _roles(deciding)


def deciding_roles_reference(person_ids: list) -> dict[int, list[tuple[int, str]]]:
    """`deciding_roles` computed from the timeline: a correlated subquery per person."""
    return _roles(_deciding_live(list(person_ids)))


def _deciding_live(person_ids: list) -> dict[int, list]:
    return {
        person_id: events
        for person_id, *events in Person.objects.filter(pk__in=person_ids)
        .annotate(**deciding_events())
        .values_list("pk", *(name for name, _ in DECIDING))
    }


def _roles(deciding: dict[int, list]) -> dict[int, list[tuple[int, str]]]:
    roles = defaultdict(list)  # event id: (person id, what it decides)
    for person_id in sorted(deciding):
        for event_id, (_, label) in zip(deciding[person_id], DECIDING, strict=True):
            if event_id is not None:
                roles[event_id].append((person_id, label))
    return dict(roles)


def people_row_citations_reference(person_ids) -> dict[int, list[dict]]:
    """`people_row_citations` read through the models, one instance per row read: the general
    path the tests hold the tuple-reading one to (tests/test_api_fast.py). Each person's row citations, by primary key, in two queries whatever the number: the
    sources of the facts the people list shows of them, which are

    - the events deciding its dates and status (its first capture, its last release and the
      event after which it has its current status), in that order, each once; then
    - its names (primary first, in the order the row lists the others), then its nationalities.

    The sources of the person as a whole (biography, birth) and of the rest of the timeline
    are on the person page and in the exports, not in the row.
    """
    person_ids = list(person_ids)
    if not person_ids:
        return {}
    roles = deciding_roles_reference(person_ids)
    citations = (
        Citation.objects.filter(Source.public_q("source__"))
        .filter(pk__in=_row_citation_ids(list(roles), person_ids))
        .select_related("source__publisher", "person_name", "nationality", "event")
        .order_by("pk")
    )
    # Per person: (position in the row's order, citation JSON).
    found = defaultdict(list)
    for citation in citations:
        row = citation_row(citation)
        if citation.event_id is not None:
            event = citation.event
            by_person = defaultdict(list)
            for person_id, label in roles[citation.event_id]:
                by_person[person_id].append(label)
            for person_id, labels in by_person.items():
                first = min(DECIDING_ORDER[label] for label in labels)
                fact = f"{' and '.join(labels)} ({event.kind}, {event.date or 'undated'})"
                found[person_id].append(
                    (
                        (0, first, citation.event_id, citation.pk),
                        {
                            **row,
                            "supports": supports(fact, citation.aspect),
                            "claim_status": event.claim_status,
                        },
                    )
                )
        elif citation.person_name_id is not None:
            name = citation.person_name
            found[name.person_id].append(
                (
                    (1, not name.is_primary, name.name, name.pk, citation.pk),
                    {
                        **row,
                        "supports": supports(f"name: {name.name}", citation.aspect),
                        "claim_status": name.claim_status,
                    },
                )
            )
        else:
            nationality = citation.nationality
            found[nationality.person_id].append(
                (
                    (2, nationality.pk, citation.pk),
                    {
                        **row,
                        "supports": supports(
                            f"nationality: {nationality.country.code}", citation.aspect
                        ),
                        "claim_status": nationality.claim_status,
                    },
                )
            )
    return {
        person_id: [row for _, row in sorted(found.get(person_id, ()), key=lambda item: item[0])]
        for person_id in person_ids
    }


def event_citation_rows(event_ids) -> dict[int, list[dict]]:
    """Each event's public citations as the API writes them (`citation_row`), by the event's
    primary key, in one query read as tuples: a page of 500 events cites a thousand passages or
    more, and a citation, its source and its publisher as model instances cost several times
    the query. tests/test_api_fast.py compares them with `citation_row` of the instances."""
    found = defaultdict(list)
    rows = (
        Citation.objects.filter(Source.public_q("source__"), event_id__in=list(event_ids))
        .order_by("pk")
        .values_list(
            "event_id",
            "aspect",
            "quote",
            "locator",
            "attribution",
            "accessed_on",
            "source__public_id",
            "source__title",
            "source__published",
            "source__url",
            "source__archived_url",
            "source__publisher__public_id",
            "source__publisher__name",
            "source__publisher__abbreviation",
            "source__publisher__status",
        )
    )
    for (
        event_id,
        aspect,
        quote,
        locator,
        attribution,
        accessed_on,
        source_id,
        title,
        source_published,
        url,
        archived_url,
        publisher_id,
        publisher_name,
        abbreviation,
        publisher_status,
    ) in rows:
        found[event_id].append(
            {
                "source": source_from_columns(
                    source_id,
                    title,
                    source_published,
                    url,
                    archived_url,
                    publisher_id,
                    publisher_name,
                    abbreviation,
                    publisher_status,
                ),
                "aspect": aspect,
                "quote": quote,
                "locator": locator,
                "attribution": attribution,
                "accessed_on": accessed_on.isoformat() if accessed_on else None,
            }
        )
    return found
