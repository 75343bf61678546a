"""A person's derived views: the timeline in date order, custodians over time, the status line.

Everything here reads what `Person.objects.with_timeline()` prefetched, so rendering a person
costs a fixed number of queries however long the timeline.
"""

from dataclasses import dataclass, field
from datetime import date

from detainees.domain.fuzzydates import FuzzyDate, FuzzyDateError, humanize
from detainees.domain.models import (
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
)
from detainees.domain.models.events import timeline_key
from detainees.read.consistency import consistency_warnings, subject_events
from detainees.read.listing import CurrentStatus, status_after

__all__ = [
    "consistency_warnings",
    "timeline",
    "status_line",
    "current_status",
    "custodians",
    "custodian_on",
]


@dataclass
class CustodianSpan:
    """One custodian for part of a custody episode; via_facility when a handover decided it."""

    organization: object
    start: str
    end: str
    via_facility: bool = False
    control: object = None

    @property
    def text(self) -> str:
        return f"{self.organization}, {span_text(self.start, self.end)}"


@dataclass
class TimelineEntry:
    event: Event
    custodians: list[CustodianSpan] = field(default_factory=list)

    @property
    def is_inferred(self) -> bool:
        return self.event.claim_status == ClaimStatus.INFERRED


def span_text(start: str, end: str) -> str:
    if start and end:
        return f"from {humanize(start)} until {humanize(end)}"
    if start:
        return f"from {humanize(start)}"
    if end:
        return f"until {humanize(end)}"
    return "dates unknown"


# The timeline order, the one `current_status` in SQL reads events in.
sort_key = timeline_key


def custodians(event: Event) -> list[CustodianSpan]:
    """Who held the person during a custody episode.

    A custodian named on the event wins. Otherwise the facility's controllers apply, each for
    the part of the episode that its control period may cover, so a handover (Parwan, March
    2013) changes the custodian of everyone held there at that time.
    """
    named = event.organizations_in(EventOrganization.Role.CUSTODIAN)
    if named:
        return [CustodianSpan(org, event.date, event.end_date) for org in named]
    if event.facility_id is None:
        return []
    spans = []
    ep_start, ep_end = event.date_earliest, event.end_date_latest
    for control in event.facility.controls.all():
        # An operator or owner ran or held the site for its controller: not the custodian.
        if control.role != FacilityControl.Role.CONTROLLER:
            continue
        if control.claim_status == ClaimStatus.RETRACTED:
            continue
        if ep_end and control.start_earliest and control.start_earliest > ep_end:
            continue
        if ep_start and control.end_latest and control.end_latest < ep_start:
            continue
        later_start = (
            control.start
            if (control.start_earliest or date.min) > (ep_start or date.min)
            else event.date
        )
        earlier_end = (
            control.end
            if (control.end_latest or date.max) < (ep_end or date.max)
            else event.end_date
        )
        spans.append(
            CustodianSpan(
                control.controller,
                later_start,
                clip_end(later_start, earlier_end),
                True,
                control=control,
            )
        )
    return spans


def clip_end(start: str, end: str) -> str:
    """An end no earlier than its start: the Afghan span at Parwan starts in March 2013, so the
    episode's end "between 20 April 2011 and 2014" reads "between March 2013 and 2014" there."""
    try:
        first, last = FuzzyDate.from_edtf(start), FuzzyDate.from_edtf(end)
    except FuzzyDateError:
        return end
    if "/" not in end or not (first.earliest and last.earliest) or last.earliest >= first.earliest:
        return end
    lower = start.partition("/")[0] or start
    upper = end.partition("/")[2]
    clipped = f"{lower}/{upper}"
    try:
        FuzzyDate.from_edtf(clipped)
    except FuzzyDateError:
        return end
    return clipped


def custodian_on(person, day: date):
    """The organization that may have held `person` on `day`, or None; handovers applied.

    Where two controllers may both cover the day (a handover dated only to the month), the
    later one is given: it is the one the record knows of at the end of that day.
    """
    found = None
    for entry in timeline(person):
        event = entry.event
        if event.kind != Event.Kind.CUSTODY or event.claim_status == ClaimStatus.RETRACTED:
            continue
        if not (event.date_earliest or date.min) <= day <= (event.end_date_latest or date.max):
            continue
        for span in entry.custodians:
            bounds = span.control or None
            if bounds is None or (
                (bounds.start_earliest or date.min) <= day <= (bounds.end_latest or date.max)
            ):
                found = span.organization
    return found


def timeline(person) -> list[TimelineEntry]:
    """The person's events in date order, custody episodes with their custodians."""
    events = sorted(subject_events(person), key=sort_key)
    return [TimelineEntry(e, custodians(e) if e.kind == Event.Kind.CUSTODY else []) for e in events]


def ordered_by_text(event: Event) -> str:
    # The capacity after a comma: the status line puts this text in parentheses already.
    people = [
        f"{p.person}, {p.capacity}" if p.capacity else str(p.person)
        for p in event.people_in(EventPerson.Role.ORDERED_BY)
    ]
    names = people or [str(o) for o in event.organizations_in(EventOrganization.Role.ORDERED_BY)]
    return f"ordered by {' and '.join(names)}" if names else ""


def date_text(edtf: str) -> str:
    return humanize(edtf) if edtf else "date unknown"


def deciding_event(person) -> Event | None:
    """The last event on the person's timeline that changes their status (retracted ones left
    out), the event `current_status` in SQL picks; None when there is none."""
    found = None
    for entry in timeline(person):
        event = entry.event
        if event.claim_status != ClaimStatus.RETRACTED and status_after(event) is not None:
            found = entry
    return found


def current_status(person) -> str:
    """The person's CurrentStatus code, derived from the events read here.

    The lists and the person page read it from SQL (`detainees.read.listing.current_status`);
    this twin serves what the SQL cannot read: unsaved records, and the admin's view of a person
    with draft events. tests/test_status_equality.py holds the two equal.
    """
    entry = deciding_event(person)
    return CurrentStatus.UNKNOWN if entry is None else status_after(entry.event)


def status_line(person) -> str:
    """'Released (date unknown, ordered by ...); re-engaged, confirmed 2014'.

    The status is the SQL one when the person was read with it (`current_status` annotated),
    else derived here; the details come from the event that decided it.
    """
    entry = deciding_event(person)
    status = getattr(person, "current_status", None)
    if status is None:
        status = CurrentStatus.UNKNOWN if entry is None else status_after(entry.event)
    label = CurrentStatus(status).label
    if entry is None:
        line = "Status unknown"
    elif entry.event.kind == Event.Kind.CUSTODY:
        event = entry.event
        if not event.custody_end_reason:
            held = f", held by {entry.custodians[-1].organization}" if entry.custodians else ""
            line = f"{label} since {date_text(event.date)}{held}"
        elif status == CurrentStatus.UNKNOWN:
            line = f"Status unknown (custody ended {date_text(event.end_date)})"
        else:
            line = f"{label} ({date_text(event.end_date)})"
    else:
        event = entry.event
        details = [date_text(event.date)]
        if event.kind == Event.Kind.RELEASE and ordered_by_text(event):
            details.append(ordered_by_text(event))
        if event.kind in (Event.Kind.CAPTURE, Event.Kind.DISAPPEARANCE):
            forces = event.organizations_in(EventOrganization.Role.CAPTURING_FORCE)
            taken = "captured" if event.kind == Event.Kind.CAPTURE else "taken"
            if forces:
                details.append(f"{taken} by " + " and ".join(map(str, forces)))
        line = f"{label} ({', '.join(details)})"
    reengaged = [
        e.event
        for e in timeline(person)
        if e.event.kind == Event.Kind.REENGAGEMENT and e.event.claim_status != ClaimStatus.RETRACTED
    ]
    if reengaged:
        last = reengaged[-1]
        line += f"; re-engaged, {last.get_reengagement_display().lower()} {date_text(last.date)}"
    return line
