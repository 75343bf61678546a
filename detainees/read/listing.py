"""What a list of people shows and sorts by, computed in SQL for a page of any size.

Each value is one correlated subquery over the person's own published events, so the list runs
the same number of queries for one row or fifty.
"""

from django.db import models
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce

from detainees.domain.models import Event, EventPerson, PersonName


class CurrentStatus(models.TextChoices):
    IN_CUSTODY = "in_custody", "In custody"
    RELEASED = "released", "Released"
    ESCAPED = "escaped", "Escaped"
    TRANSFERRED = "transferred", "Transferred"
    DECEASED = "deceased", "Deceased"
    UNKNOWN = "unknown", "Unknown"


STATUS_EVENT_KINDS = [
    Event.Kind.CAPTURE,
    Event.Kind.CUSTODY,
    Event.Kind.TRANSFER,
    Event.Kind.RELEASE,
    Event.Kind.ESCAPE,
    Event.Kind.DEATH,
]


def own_events(kinds=None):
    """The public events (Event.public_q) of the person in OuterRef("pk"), as subject."""
    roles = EventPerson.objects.filter(
        Event.public_q("event__"), person=OuterRef("pk"), role=EventPerson.Role.SUBJECT
    )
    if kinds is not None:
        roles = roles.filter(event__kind__in=kinds)
    return roles


def status_of_event():
    """The status a person is in after an event (custody episodes by how they ended)."""
    return Case(
        When(event__kind=Event.Kind.CAPTURE, then=Value(CurrentStatus.IN_CUSTODY)),
        When(event__kind=Event.Kind.TRANSFER, then=Value(CurrentStatus.TRANSFERRED)),
        When(event__kind=Event.Kind.RELEASE, then=Value(CurrentStatus.RELEASED)),
        When(event__kind=Event.Kind.ESCAPE, then=Value(CurrentStatus.ESCAPED)),
        When(event__kind=Event.Kind.DEATH, then=Value(CurrentStatus.DECEASED)),
        When(event__custody_end_reason="", then=Value(CurrentStatus.IN_CUSTODY)),
        When(
            event__custody_end_reason=Event.CustodyEnd.RELEASE, then=Value(CurrentStatus.RELEASED)
        ),
        When(event__custody_end_reason=Event.CustodyEnd.ESCAPE, then=Value(CurrentStatus.ESCAPED)),
        When(
            event__custody_end_reason=Event.CustodyEnd.TRANSFER,
            then=Value(CurrentStatus.TRANSFERRED),
        ),
        When(event__custody_end_reason=Event.CustodyEnd.DEATH, then=Value(CurrentStatus.DECEASED)),
        default=Value(CurrentStatus.UNKNOWN),
        output_field=models.CharField(),
    )


def annotate_listing(queryset):
    """Add sort_name, first_capture, last_release and current_status to a Person queryset."""
    primary = PersonName.objects.filter(person=OuterRef("pk")).order_by("-is_primary", "pk")
    captures = own_events([Event.Kind.CAPTURE, Event.Kind.CUSTODY]).order_by(
        F("event__date_earliest").asc(nulls_last=True)
    )
    releases = own_events([Event.Kind.RELEASE]).order_by(
        F("event__date_earliest").desc(nulls_last=True)
    )
    # Timeline order reversed: the last status-changing event decides (as status_line does).
    last = (
        own_events(STATUS_EVENT_KINDS)
        .annotate(after=status_of_event())
        .order_by(
            F("event__date_earliest").desc(nulls_last=True),
            F("event__date_latest").desc(nulls_first=True),
            "-event__order_hint",
            "-event__pk",
        )
    )
    return queryset.annotate(
        sort_name=Coalesce(Subquery(primary.values("name")[:1]), Value("")),
        first_capture=Subquery(captures.values("event__date_earliest")[:1]),
        first_capture_date=Subquery(captures.values("event__date")[:1]),
        last_release=Subquery(releases.values("event__date_earliest")[:1]),
        last_release_date=Subquery(releases.values("event__date")[:1]),
        current_status=Coalesce(Subquery(last.values("after")[:1]), Value(CurrentStatus.UNKNOWN)),
    )
