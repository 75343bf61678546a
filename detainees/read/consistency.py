"""What is already inconsistent on a person: release before capture, overlapping custody, a death
before a capture or before a release, a fate that contradicts the events, facts without
sources; sources disagree and records are entered piecemeal.

The rules on events are the domain's (detainees/domain/models/events.py), where
`check_new_subject_event` also refuses a bad entry in model validation, so the admin shows a
form error and the API a 400; this lists, with the same rules, what is already there.
"""

from detainees.domain.fuzzydates import humanize
from detainees.domain.models import ClaimStatus, Event, Person
from detainees.domain.models.events import (
    CAPTURE_KINDS,
    DEATH_KINDS,
    custody_overlap,
    death_problems,
    release_problem,
    subject_events,
)

# subject_events: the timeline reads a person's own events the same way.
__all__ = ["consistency_warnings", "subject_events"]


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
    warnings += death_problems(events)
    if getattr(person, "fate", None) == Person.Fate.ALIVE:
        deaths = [
            e for e in events if e.kind in DEATH_KINDS and e.claim_status != ClaimStatus.RETRACTED
        ]
        if deaths:
            warnings.append(
                f"The fate is given as alive, but the timeline has a "
                f"{deaths[0].get_kind_display().lower()} ({humanize(deaths[0].date)})."
            )
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
    for tie in [*person.relationships.all(), *person.relationships_as_other.all()]:
        if not tie.citations.all():
            warnings.append(f"No citation for the relationship: {tie}.")
    return warnings
