"""The facets of the people and events lists, declared once: each facet's name, label, labels
for coded values, and the querysets of (record, value, label) pairs it reads.

Two readers use them, and both import this module: `detainees.read.filters` declares a filter
per facet on its FilterSets, and counts; `detainees.read.listing_store` stores each record's
values as "facet=value" and keeps them current (its `unwatched()` checks that the triggers watch
every table and column these querysets read).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast, Coalesce, ExtractYear
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django_countries import countries

from detainees.domain.models import (
    Affiliation,
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    Facility,
    FacilityControl,
    Nationality,
    Organization,
    Person,
    Place,
)
from detainees.read.listing import CurrentStatus, annotate_listing


def subject_roles(*kinds):
    """Public events of public people, as their subject: (person, event) rows."""
    roles = EventPerson.objects.public().filter(role=EventPerson.Role.SUBJECT)
    return roles.filter(event__kind__in=kinds) if kinds else roles


def subjects_of_event_orgs(kind, role):
    """(person, organization) rows: each public subject of a public event of `kind` with each
    public organization in exactly `role` in it. Built from the organization's own link, with
    the event's subjects joined in one filter() call, so the role and the organization come
    from the same row (two filter() calls on a multi-valued path join it twice)."""
    links = EventOrganization.objects.public().filter(
        Q(role=role, event__kind=kind, event__people__role=EventPerson.Role.SUBJECT)
        & Person.public_q("event__people__person__")
    )
    return links.values(
        person_key=F("event__people__person_id"),
        value=F("organization__slug"),
        label=F("organization__name"),
    )


@dataclass(frozen=True)
class Facet:
    """A facet: a name, a label, its (person, value, label) pairs, and labels for coded values."""

    name: str
    label: str
    build: Callable[[], list]
    choices: dict[str, str] = field(default_factory=dict)
    key: str = "person_key"  # the pairs' column naming the row they belong to
    labels_from: str = ""  # the model whose slugs the values are: its names are the labels
    # A condition on the record's own columns that every record having one of the values
    # (a list) meets: added beside the stored values' test, it changes nothing selected, and
    # lets PostgreSQL read the list's order index from where the values can start.
    implied: Callable[[list[str]], Q] | None = None

    def __deepcopy__(self, memo):
        # A FilterSet deep-copies its class's filters for each request; the facet they filter
        # by is a constant, shared rather than copied with its labels (all the countries).
        return self

    def pair_querysets(self) -> list:
        return self.build()

    def labels(self) -> dict[str, str]:
        return self.choices


def _nationality():
    return [
        Nationality.objects.filter(Person.public_q("person__"))
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .values(person_key=F("person_id"), value=F("country"), label=F("country"))
    ]


def _organization():
    return [
        Affiliation.objects.public().values(
            person_key=F("person_id"), value=F("organization__slug"), label=F("organization__name")
        )
    ]


def _event_org(kind, role):
    return [subjects_of_event_orgs(kind, role)]


def _custodian():
    named = subjects_of_event_orgs(Event.Kind.CUSTODY, EventOrganization.Role.CUSTODIAN)
    # Held at a public facility this organization controlled at some time (handovers
    # included; operators and owners are not custodians), by a control that is not
    # retracted: as the timeline names custodians. One
    # filter() call, so every condition reads the same control.
    unretracted = [c for c in ClaimStatus.values if c != ClaimStatus.RETRACTED]
    via_facility = (
        subject_roles(Event.Kind.CUSTODY)
        .filter(
            Q(event__facility__controls__claim_status__in=unretracted)
            & Q(event__facility__controls__role=FacilityControl.Role.CONTROLLER)
            & Facility.public_q("event__facility__")
            & Organization.public_q("event__facility__controls__controller__")
        )
        .values(
            person_key=F("person_id"),
            value=F("event__facility__controls__controller__slug"),
            label=F("event__facility__controls__controller__name"),
        )
    )
    return [named, via_facility]


def _facility():
    roles = subject_roles().filter(Facility.public_q("event__facility__"))
    return [
        roles.values(
            person_key=F("person_id"),
            value=F("event__facility__slug"),
            label=F("event__facility__name"),
        )
    ]


def _release_kind():
    return [
        subject_roles(Event.Kind.RELEASE)
        .exclude(event__release_kind="")
        .values(person_key=F("person_id"), value=F("event__release_kind"), label=Value(""))
    ]


def _country():
    return [
        subject_roles()
        .filter(Place.public_q("event__place__"))
        .values(person_key=F("person_id"), value=F("event__place__country"), label=Value(""))
    ]


def _province():
    """Events at a province or anywhere inside it (districts, localities)."""
    querysets = []
    for path in ("event__place", "event__place__parent", "event__place__parent__parent"):
        querysets.append(
            subject_roles()
            .filter(Q(**{f"{path}__kind": "province"}) & Place.public_q(f"{path}__"))
            .values(person_key=F("person_id"), value=F(f"{path}__slug"), label=F(f"{path}__name"))
        )
    return querysets


def _reengaged():
    return [
        subject_roles(Event.Kind.REENGAGEMENT).values(
            person_key=F("person_id"), value=F("event__reengagement"), label=Value("")
        )
    ]


def _claim_status():
    """The claim status of the person's public events: retracted events are not public."""
    return [
        subject_roles().values(
            person_key=F("person_id"), value=F("event__claim_status"), label=Value("")
        )
    ]


def _status():
    people = annotate_listing(Person.objects.public())
    return [people.values(person_key=F("pk"), value=F("current_status"), label=Value(""))]


FACETS: dict[str, Facet] = {
    f.name: f
    for f in [
        Facet("status", "Current status", _status, dict(CurrentStatus.choices)),
        Facet("nationality", "Nationality", _nationality, dict(countries)),
        Facet("organization", "Affiliated organization", _organization, labels_from="organization"),
        Facet(
            "capturing_force",
            "Capturing force",
            lambda: _event_org(Event.Kind.CAPTURE, EventOrganization.Role.CAPTURING_FORCE),
            labels_from="organization",
        ),
        Facet("custodian", "Custodian", _custodian, labels_from="organization"),
        Facet("facility", "Facility", _facility, labels_from="facility"),
        Facet(
            "release_authority",
            "Release ordered by",
            lambda: _event_org(Event.Kind.RELEASE, EventOrganization.Role.ORDERED_BY),
            labels_from="organization",
        ),
        Facet("release_kind", "Release kind", _release_kind, dict(Event.ReleaseKind.choices)),
        Facet("country", "Country of events", _country, dict(countries)),
        Facet("province", "Province of events", _province, labels_from="place"),
        Facet("reengaged", "Re-engaged", _reengaged, dict(Event.Reengagement.choices)),
        Facet("claim_status", "Claim status of events", _claim_status, dict(ClaimStatus.choices)),
    ]
}


# --- Events -------------------------------------------------------------------------------------
# Most events in the ISAF press releases name nobody ("three suspected insurgents"), so they are
# found through their own facets: what happened, when, where, by whom and against whom.


def public_events():
    """Public events: `Event.objects.public()` (published, not retracted)."""
    return Event.objects.public()


def _event_kind():
    return [public_events().values(event_key=F("pk"), value=F("kind"), label=Value(""))]


def _event_year():
    """The year an event certainly falls in; events whose dates span years have none."""
    return [
        public_events()
        .annotate(first=ExtractYear("date_earliest"), last=ExtractYear("date_latest"))
        .filter(first=F("last"))
        .values(event_key=F("pk"), value=Cast("first", models.CharField()), label=Value(""))
    ]


def _year_bounds(values: list[str]) -> Q:
    """Events of one of these years have their earliest day inside the first and the last
    (`_event_year`: both ends in the year); a value that is no year matches no event. Said of
    the lists' latest-first key, so its index (event_latest_first_idx) starts reading at the
    last year's end instead of reading every later event; said of it alone, as a second,
    equivalent condition on the column would be counted twice in the planner's estimate."""
    years = [int(v) for v in values if v.isascii() and v.isdigit() and 1 <= int(v) <= 9999]
    if not years:
        return Q()
    first, last = date(min(years), 1, 1), date(max(years), 12, 31)
    latest_first = Coalesce(F("date_earliest"), Value(date.min), output_field=models.DateField())
    return Q(GreaterThanOrEqual(latest_first, first), LessThanOrEqual(latest_first, last))


def _event_province():
    """Events at a province or anywhere inside it (districts, localities)."""
    return [
        public_events()
        .filter(Q(**{f"{path}__kind": "province"}) & Place.public_q(f"{path}__"))
        .values(event_key=F("pk"), value=F(f"{path}__slug"), label=F(f"{path}__name"))
        for path in ("place", "place__parent", "place__parent__parent")
    ]


def _event_orgs(*roles):
    def build():
        links = EventOrganization.objects.public().filter(role__in=roles)
        return [
            links.values(
                event_key=F("event_id"),
                value=F("organization__slug"),
                label=F("organization__name"),
            )
        ]

    return build


EVENT_FACETS: dict[str, Facet] = {
    f.name: f
    for f in [
        Facet("kind", "What happened", _event_kind, dict(Event.Kind.choices), key="event_key"),
        Facet("year", "Year", _event_year, key="event_key", implied=_year_bounds),
        Facet("province", "Province", _event_province, key="event_key", labels_from="place"),
        Facet(
            "group",
            "Target group, or group acted for",
            _event_orgs(EventOrganization.Role.GROUP),
            key="event_key",
            labels_from="organization",
        ),
        Facet(
            "force",
            "Forces (capturing, partner, or carrying out)",
            _event_orgs(
                EventOrganization.Role.CAPTURING_FORCE,
                EventOrganization.Role.PARTNER_FORCE,
                EventOrganization.Role.CARRIED_OUT_BY,
            ),
            key="event_key",
            labels_from="organization",
        ),
    ]
}
