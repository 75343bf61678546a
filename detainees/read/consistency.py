"""Rules that span records: release before capture, overlapping custody, facts without sources.

The same rules serve two purposes: `check_new_subject_event` refuses a bad entry with a message
(model validation, so the admin shows a form error), and `consistency_warnings` lists what is
already inconsistent on a person, because sources disagree and records are entered piecemeal.
"""

from dataclasses import dataclass
from datetime import date

from detainees.domain.fuzzydates import FuzzyDate, FuzzyDateError, humanize
from detainees.domain.models import ClaimStatus, Event, EventPerson

# Claims too weak to make another record wrong.
SOFT_CLAIMS = {ClaimStatus.INFERRED, ClaimStatus.DISPUTED, ClaimStatus.RETRACTED}
CAPTURE_KINDS = {Event.Kind.CAPTURE, Event.Kind.CUSTODY}


@dataclass(frozen=True)
class Span:
    """An event's dates as bounds, read from its EDTF text so unsaved events work too."""

    earliest: date | None
    latest: date | None
    end_earliest: date | None
    end_latest: date | None


def span(event: Event) -> Span:
    try:
        start = FuzzyDate.from_edtf(event.date or "")
        end = FuzzyDate.from_edtf(event.end_date or "")
    except FuzzyDateError:
        return Span(None, None, None, None)
    return Span(start.earliest, start.latest, end.earliest, end.latest)


def certain_custody(event: Event) -> tuple[date, date] | None:
    """The days a custody episode certainly covers, or None when the bounds do not say."""
    s = span(event)
    if s.latest is None:
        return None
    if not event.end_date and not event.custody_end_reason:
        end = date.today()  # still in custody
    else:
        end = s.end_earliest
    if end is None or end < s.latest:
        return None
    return (s.latest, end)


def release_problem(release: Event, captures: list[Event]) -> str | None:
    """Why this release cannot follow any of these captures, or None if one can precede it."""
    live = [c for c in captures if c.claim_status != ClaimStatus.RETRACTED]
    when = humanize(release.date)
    if not live:
        return f"Release ({when}) has no capture or custody before it."
    r = span(release)
    if r.latest is None:
        return None
    if all(span(c).earliest is not None and span(c).earliest > r.latest for c in live):
        first = min(live, key=lambda c: span(c).earliest)
        return (
            f"Release ({when}) is dated before the earliest capture or custody "
            f"({humanize(first.date)})."
        )
    return None


def custody_overlap(a: Event, b: Event) -> str | None:
    if a.claim_status in SOFT_CLAIMS or b.claim_status in SOFT_CLAIMS:
        return None
    if a.facility_id == b.facility_id and a.facility_id is not None:
        return None
    pa, pb = certain_custody(a), certain_custody(b)
    if pa is None or pb is None or pa[1] < pb[0] or pb[1] < pa[0]:
        return None
    return (
        f"Custody episodes overlap: {a} ({humanize(a.date)}) and {b} ({humanize(b.date)}) "
        "are both certain on the same days."
    )


def subject_events(person, exclude: Event | None = None) -> list[Event]:
    """The person's own events: prefetched ones when available, else one query."""
    roles = getattr(person, "subject_roles", None)
    if roles is not None:
        events = [r.event for r in roles]
    elif person.pk is None:
        events = []
    else:
        events = list(
            Event.objects.filter(
                people__person=person, people__role=EventPerson.Role.SUBJECT
            ).distinct()
        )
    if exclude is not None and exclude.pk is not None:
        events = [e for e in events if e.pk != exclude.pk]
    return events


def check_new_subject_event(*, person, event: Event) -> list[str]:
    """Problems that adding `event` to `person`'s timeline would create; [] if none."""
    others = subject_events(person, exclude=event)
    captures = [e for e in others if e.kind in CAPTURE_KINDS]
    problems = []
    if event.kind == Event.Kind.RELEASE:
        problem = release_problem(event, captures)
        if problem and captures:  # a release may be entered before its capture is
            problems.append(problem)
    if event.kind in CAPTURE_KINDS:
        releases = [e for e in others if e.kind == Event.Kind.RELEASE]
        for release in releases:
            already = release_problem(release, captures) if captures else None
            if release_problem(release, [*captures, event]) and not already:
                problems.append(
                    f"Capture ({humanize(event.date)}) would come after the release it "
                    f"precedes ({humanize(release.date)})."
                )
    if event.kind == Event.Kind.CUSTODY:
        for other in others:
            if other.kind == Event.Kind.CUSTODY:
                problem = custody_overlap(event, other)
                if problem:
                    problems.append(problem)
    return problems


def consistency_warnings(person) -> list[str]:
    """What looks wrong on this person's record; reads only what with_timeline() prefetched."""
    events = subject_events(person)
    captures = [e for e in events if e.kind in CAPTURE_KINDS]
    warnings = []
    if person.pk is not None and person.primary_name is None:
        warnings.append("No primary name.")
    for release in (e for e in events if e.kind == Event.Kind.RELEASE):
        problem = release_problem(release, captures)
        if problem:
            warnings.append(problem)
    custodies = [e for e in events if e.kind == Event.Kind.CUSTODY]
    for i, a in enumerate(custodies):
        for b in custodies[i + 1 :]:
            problem = custody_overlap(a, b)
            if problem:
                warnings.append(problem)
    for event in events:
        if not event.citations.all():
            warnings.append(f"No citation for the event: {event}.")
    for affiliation in person.affiliations.all():
        if not affiliation.citations.all():
            warnings.append(f"No citation for the affiliation: {affiliation}.")
    for membership in person.batch_memberships.all():
        if not membership.citations.all():
            warnings.append(f"No citation for the batch membership: {membership}.")
    for nationality in person.nationalities.all():
        if not nationality.citations.all():
            warnings.append(f"No citation for the nationality: {nationality}.")
    return warnings
