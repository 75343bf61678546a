"""Aggregates over the published record: per year, by ordering authority, re-engagement.

A year is counted only when an event's date lies within one calendar year; events whose
dates span years are counted apart as "year uncertain", so no figure is more precise than its
sources.
"""

from dataclasses import dataclass

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
