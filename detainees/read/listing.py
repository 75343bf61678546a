"""What a list of people shows and sorts by, computed in SQL for a page of any size.

Each value is one correlated subquery over the person's own published events, so the list runs
the same number of queries for one row or fifty.
"""

from django.contrib.postgres.fields import DateRangeField
from django.db import models
from django.db.models import Case, Exists, F, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat

from detainees.domain.models import Event, EventPerson, PersonName
from detainees.domain.models.events import timeline_order
from detainees.domain.models.listing import DateMultiRangeField


class CurrentStatus(models.TextChoices):
    IN_CUSTODY = "in_custody", "In custody"
    DISAPPEARED = "disappeared", "Disappeared"
    RELEASED = "released", "Released"
    ESCAPED = "escaped", "Escaped"
    TRANSFERRED = "transferred", "Transferred"
    DECEASED = "deceased", "Deceased"
    APPROPRIATED = "appropriated", "Appropriated"
    IDENTITY_RESTORED = "identity_restored", "Identity restored"
    UNKNOWN = "unknown", "Unknown"


# The one status derivation: the status a person is in after each kind of event, and after a
# custody episode by how it ended. `status_of_event` (SQL, for the stored list) and
# `status_after` (Python, for records the SQL cannot read) are both built from these tables,
# and tests/test_status_equality.py holds them equal.
STATUS_AFTER_KIND = {
    Event.Kind.CAPTURE: CurrentStatus.IN_CUSTODY,
    Event.Kind.DISAPPEARANCE: CurrentStatus.DISAPPEARED,
    Event.Kind.BIRTH_IN_CAPTIVITY: CurrentStatus.IN_CUSTODY,
    Event.Kind.TRANSFER: CurrentStatus.TRANSFERRED,
    Event.Kind.RELEASE: CurrentStatus.RELEASED,
    Event.Kind.ESCAPE: CurrentStatus.ESCAPED,
    Event.Kind.DEATH: CurrentStatus.DECEASED,
    # Remains found or identified: the person is known dead, whatever came before.
    Event.Kind.REMAINS_FOUND: CurrentStatus.DECEASED,
    Event.Kind.REMAINS_IDENTIFIED: CurrentStatus.DECEASED,
    Event.Kind.APPROPRIATION: CurrentStatus.APPROPRIATED,
    Event.Kind.IDENTITY_RESTORED: CurrentStatus.IDENTITY_RESTORED,
}
# Strikes and re-engagements change no one's status.
# An episode that ended for a reason the sources do not give leaves the status unknown: the
# person is no longer known to be held, nor known to be released, to have escaped or died.
STATUS_AFTER_CUSTODY_END = {
    "": CurrentStatus.IN_CUSTODY,
    Event.CustodyEnd.RELEASE: CurrentStatus.RELEASED,
    Event.CustodyEnd.ESCAPE: CurrentStatus.ESCAPED,
    Event.CustodyEnd.TRANSFER: CurrentStatus.TRANSFERRED,
    Event.CustodyEnd.DEATH: CurrentStatus.DECEASED,
    Event.CustodyEnd.UNKNOWN: CurrentStatus.UNKNOWN,
}
STATUS_EVENT_KINDS = [*STATUS_AFTER_KIND, Event.Kind.CUSTODY]


def status_after(event: Event) -> str | None:
    """The status a person is in after `event`, or None for an event that changes none."""
    if event.kind == Event.Kind.CUSTODY:
        return STATUS_AFTER_CUSTODY_END.get(event.custody_end_reason, CurrentStatus.UNKNOWN)
    return STATUS_AFTER_KIND.get(event.kind)


def own_events(kinds=None):
    """The public events (Event.public_q) of the person in OuterRef("pk"), as subject."""
    roles = EventPerson.objects.filter(
        Event.public_q("event__"), person=OuterRef("pk"), role=EventPerson.Role.SUBJECT
    )
    if kinds is not None:
        roles = roles.filter(event__kind__in=kinds)
    return roles


def status_of_event():
    """`status_after` in SQL, for the event of an EventPerson row."""
    return Case(
        *(When(event__kind=kind, then=Value(status)) for kind, status in STATUS_AFTER_KIND.items()),
        *(
            When(event__kind=Event.Kind.CUSTODY, event__custody_end_reason=end, then=Value(status))
            for end, status in STATUS_AFTER_CUSTODY_END.items()
        ),
        default=Value(CurrentStatus.UNKNOWN),
        output_field=models.CharField(),
    )


def current_status():
    """The person's (OuterRef("pk")) status after the last status-changing public event, in
    timeline order (`detainees.read.timeline.sort_key`), or unknown."""
    last = status_events().annotate(after=status_of_event())
    return Coalesce(Subquery(last.values("after")[:1]), Value(CurrentStatus.UNKNOWN))


def sort_name():
    """A name's place in the people list, surname first: "family, given" when the name has a
    family part (registers list people by surname), else the name as written."""
    return Case(
        When(~Q(family="") & ~Q(given=""), then=Concat("family", Value(", "), "given")),
        When(~Q(family=""), then=F("family")),
        default=F("name"),
        output_field=models.CharField(),
    )


def first_captures():
    """The person's own captures, disappearances and custody episodes, earliest first: the first
    is the list's "first capture". A disappearance is a deprivation of liberty too, whoever
    denies it."""
    # Same earliest day: the first in timeline order, so the row's date and the event whose
    # sources it cites are the same one on every read.
    return own_events([Event.Kind.CAPTURE, Event.Kind.DISAPPEARANCE, Event.Kind.CUSTODY]).order_by(
        F("event__date_earliest").asc(nulls_last=True), *timeline_order("event__")
    )


def last_releases():
    """The person's own releases, latest first: the first is the list's "last release"."""
    return own_events([Event.Kind.RELEASE]).order_by(
        F("event__date_earliest").desc(nulls_last=True),
        *timeline_order("event__", descending=True),
    )


# The events the people list's date filters read: "captured" from/to, and "released".
CAPTURED_KINDS = [Event.Kind.CAPTURE, Event.Kind.CUSTODY]
RELEASED_KINDS = [Event.Kind.RELEASE]


class _RangeAgg(models.Aggregate):
    function = "range_agg"
    output_field = DateMultiRangeField()


def event_spans(kinds):
    """The days the person's (OuterRef("pk")) own events of these kinds may have happened on,
    as one datemultirange: each dated event's earliest to latest possible day, unbounded where
    a bound is unknown (an unreadable date: every day); events with no date left out; empty
    when none. An event is possibly in a range exactly when its span overlaps the range."""
    spans = (
        own_events(kinds)
        .exclude(event__date="")
        .order_by()
        .values("person")
        .annotate(
            spans=_RangeAgg(
                Func(
                    F("event__date_earliest"),
                    F("event__date_latest"),
                    Value("[]"),
                    function="daterange",
                    output_field=DateRangeField(),
                )
            )
        )
        .values("spans")
    )
    return Coalesce(
        Subquery(spans, output_field=DateMultiRangeField()),
        Value("{}", output_field=DateMultiRangeField()),
    )


def date_spans() -> dict:
    """The stored list's span columns (PersonListing.capture_spans, release_spans)."""
    return {
        "capture_spans": event_spans(CAPTURED_KINDS),
        "release_spans": event_spans(RELEASED_KINDS),
    }


def status_events():
    """The person's own status-changing events, the one deciding the current status first."""
    return own_events(STATUS_EVENT_KINDS).order_by(*timeline_order("event__", descending=True))


def deciding_events() -> dict:
    """Annotations naming, by primary key, the events a list row's dates and status come from:
    the first capture, the last release and the status-deciding event (None where there is
    none). The same subqueries as the row's own columns, so the sources a row cites are those
    of the very facts it shows."""
    return {
        "first_capture_event": Subquery(first_captures().values("event_id")[:1]),
        "last_release_event": Subquery(last_releases().values("event_id")[:1]),
        "status_event": Subquery(status_events().values("event_id")[:1]),
    }


# What makes a person a detainee: being the subject of an event that only happens to someone
# deprived of liberty. Captures, custody and disappearances say so directly; a transfer, a
# release, an escape or a birth in captivity presuppose it, and release registers often record
# nothing else about a person (leaving them out would drop released detainees from a release
# tracker's detainee list). Deaths, strikes, re-engagements and appropriations do not: a strike's
# target, an official or a relative appears in those without ever being held.
DETAINEE_EVENT_KINDS = [
    Event.Kind.CAPTURE,
    Event.Kind.CUSTODY,
    Event.Kind.DISAPPEARANCE,
    Event.Kind.BIRTH_IN_CAPTIVITY,
    Event.Kind.TRANSFER,
    Event.Kind.RELEASE,
    Event.Kind.ESCAPE,
]

# Unnamed people (placeholders, names withheld or not known) sort after every named person,
# in both directions of the name sort: a one-letter prefix puts each group first or last, and
# within a group compares exactly as the names do.
FIRST, LAST = Value("a"), Value("z")


def name_key(unnamed: Q, *, descending: bool):
    first, last = (LAST, FIRST) if descending else (FIRST, LAST)
    return Concat(
        Case(When(unnamed, then=last), default=first, output_field=models.TextField()),
        F("sort_name"),
        output_field=models.TextField(),
    )


def annotate_listing(queryset):
    """Add sort_name, first_capture, last_release, current_status, is_detainee, unnamed and the
    name sort keys (name_asc, name_desc) to a Person queryset."""
    primary = PersonName.objects.filter(person=OuterRef("pk")).order_by("-is_primary", "pk")
    primary = primary.annotate(sort_name=sort_name())
    captures = first_captures()
    releases = last_releases()
    return queryset.annotate(
        sort_name=Coalesce(Subquery(primary.values("sort_name")[:1]), Value("")),
        first_capture=Subquery(captures.values("event__date_earliest")[:1]),
        first_capture_date=Subquery(captures.values("event__date")[:1]),
        last_release=Subquery(releases.values("event__date_earliest")[:1]),
        last_release_date=Subquery(releases.values("event__date")[:1]),
        current_status=current_status(),
        is_detainee=Exists(own_events(DETAINEE_EVENT_KINDS)),
    ).annotate(
        unnamed=Case(
            When(Q(is_placeholder=True) | Q(sort_name=""), then=Value(True)),
            default=Value(False),
            output_field=models.BooleanField(),
        ),
        name_asc=name_key(Q(is_placeholder=True) | Q(sort_name=""), descending=False),
        name_desc=name_key(Q(is_placeholder=True) | Q(sort_name=""), descending=True),
    )
