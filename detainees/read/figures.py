"""Aggregates over the published record: per year, by ordering authority, re-engagement.

A year is counted only when an event's date lies within one calendar year; events whose
dates span years are counted apart as "year uncertain", so no figure is more precise than its
sources.
"""

import json
from dataclasses import asdict, dataclass

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Count
from django.db.models.functions import ExtractYear

from detainees.domain.models import Event, EventOrganization, EventPerson, Organization

UNCERTAIN = "year uncertain"


@dataclass
class Bar:
    label: str
    value: int
    percent: float


@dataclass
class Figure:
    slug: str
    title: str
    label_heading: str
    bars: list[Bar]

    @property
    def total(self) -> int:
        return sum(b.value for b in self.bars)

    @property
    def top(self) -> int:
        """The largest value: the end of the chart's count axis (the longest bar)."""
        return max((b.value for b in self.bars), default=0)


def bars(pairs) -> list[Bar]:
    pairs = list(pairs)
    top = max((n for _, n in pairs), default=0) or 1
    return [Bar(str(label), n, round(100 * n / top, 1)) for label, n in pairs]


def events_of(people, kind):
    roles = EventPerson.objects.filter(
        role=EventPerson.Role.SUBJECT, person__in=people.values("pk")
    ).values("event_id")
    return Event.objects.public().filter(kind=kind, pk__in=roles)


def per_year(events) -> list[tuple[str, int]]:
    rows = (
        events.annotate(y1=ExtractYear("date_earliest"), y2=ExtractYear("date_latest"))
        .values("y1", "y2")
        .annotate(n=Count("pk"))
    )
    counts: dict[str, int] = {}
    for row in rows:
        key = str(row["y1"]) if row["y1"] and row["y1"] == row["y2"] else UNCERTAIN
        counts[key] = counts.get(key, 0) + row["n"]
    years = sorted(k for k in counts if k != UNCERTAIN)
    return [(y, counts[y]) for y in years] + (
        [(UNCERTAIN, counts[UNCERTAIN])] if UNCERTAIN in counts else []
    )


def figures(people) -> list[Figure]:
    """The figures for a selection of people (a filtered, published Person queryset)."""
    captures = events_of(people, Event.Kind.CAPTURE)
    releases = events_of(people, Event.Kind.RELEASE)
    by_authority = (
        EventOrganization.objects.filter(
            Organization.public_q("organization__"),
            role=EventOrganization.Role.ORDERED_BY,
            event__in=releases,
        )
        .values("organization__name")
        .annotate(n=Count("event", distinct=True))
        .order_by("-n", "organization__name")
    )
    reengaged = (
        EventPerson.objects.filter(
            role=EventPerson.Role.SUBJECT,
            event__in=events_of(people, Event.Kind.REENGAGEMENT),
        )
        .values("event__reengagement")
        .annotate(n=Count("person", distinct=True))
        .order_by("event__reengagement")
    )
    labels = dict(Event.Reengagement.choices)
    return [
        Figure("captures", "Captures per year", "Year", bars(per_year(captures))),
        Figure("releases", "Releases per year", "Year", bars(per_year(releases))),
        Figure(
            "authority",
            "Releases by ordering authority",
            "Ordered by",
            bars((r["organization__name"], r["n"]) for r in by_authority),
        ),
        Figure(
            "reengagement",
            "People re-engaged after release",
            "Re-engagement",
            bars((labels[r["event__reengagement"]], r["n"]) for r in reengaged),
        ),
    ]


# --- Stored figures ------------------------------------------------------------------------------
# The figures of a whole list (every listed person, or every detainee) read every published
# event: seconds at a million events. They are stored with the generation of the data they
# were computed from (migration 0041): every statement writing a table they read moves the
# generation on, so stored figures are read only while nothing they count has changed since;
# otherwise they are computed again, and stored for the next reader.


def _encode(found: list[Figure]) -> str:
    return json.dumps([asdict(figure) for figure in found])


def _decode(data) -> list[Figure]:
    rows = json.loads(data) if isinstance(data, str) else data
    return [
        Figure(f["slug"], f["title"], f["label_heading"], [Bar(**b) for b in f["bars"]])
        for f in rows
    ]


def stored_figures(people, selection: str) -> list[Figure]:
    """`figures(people)` for a whole list, `people` being every listed person ("all") or every
    detainee ("detainees"): the stored figures when nothing they read has changed since they
    were computed, else computed (and stored, on the database writes go to)."""
    reading = router.db_for_read(Event)
    with connections[reading].cursor() as cursor:
        cursor.execute(
            "SELECT s.figures::text, g.generation FROM detainees_figures_generation g "
            "LEFT JOIN detainees_figures_stored s "
            "ON s.selection = %s AND s.generation = g.generation",
            [selection],
        )
        data, generation = cursor.fetchone()
    if data is not None:
        return _decode(data)
    # Computed after the generation was read: at least as new as the data of that generation.
    found = figures(people)
    writing = router.db_for_write(Event)
    try:
        with transaction.atomic(using=writing), connections[writing].cursor() as cursor:
            cursor.execute(
                "INSERT INTO detainees_figures_stored (selection, generation, figures) "
                "VALUES (%s, %s, %s::jsonb) ON CONFLICT (selection) DO UPDATE "
                "SET generation = EXCLUDED.generation, figures = EXCLUDED.figures "
                "WHERE detainees_figures_stored.generation < EXCLUDED.generation",
                [selection, generation, _encode(found)],
            )
    except DatabaseError:
        pass  # a database that refuses writes (a read-only standby): the next reader stores them
    return found
