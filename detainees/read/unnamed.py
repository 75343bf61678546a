"""What an unnamed person is, in words: "unnamed associate, captured with Qari Bilal, 20 April
2011".

A placeholder (someone a source mentions without naming, kept until identified and merged) or a
person whose name the source withholds has no name to show. A link reading "Unnamed person
9614b281" tells a reader nothing, and an empty one is worse; the person's part in their first
public event says who they are. The words are built for the people shown on one page at a time,
in three queries whatever their number (see `describe_unnamed`); the CSVs and the API leave the
name empty, as the record does, and carry the events it is built from.
"""

from detainees.domain.fuzzydates import humanize
from detainees.domain.models import Event, EventPerson, Person
from detainees.domain.models.events import timeline_order

# What happened to the subject of each kind of event, as the description says it.
SUBJECT_VERBS = {
    Event.Kind.CAPTURE: "captured",
    Event.Kind.DISAPPEARANCE: "disappeared",
    Event.Kind.CUSTODY: "held",
    Event.Kind.BIRTH_IN_CAPTIVITY: "born in captivity",
    Event.Kind.APPROPRIATION: "appropriated",
    Event.Kind.IDENTITY_RESTORED: "identity restored",
    Event.Kind.TRANSFER: "transferred",
    Event.Kind.RELEASE: "released",
    Event.Kind.ESCAPE: "escaped",
    Event.Kind.DEATH: "died",
    Event.Kind.REENGAGEMENT: "re-engaged",
    Event.Kind.STRIKE: "targeted in a strike",
    Event.Kind.REMAINS_FOUND: "remains found",
    Event.Kind.REMAINS_IDENTIFIED: "remains identified",
}
# The part a person who is not the subject played in the event.
OTHER_ROLES = {
    EventPerson.Role.ORDERED_BY: "who ordered the {kind} of {people}",
    EventPerson.Role.CARRIED_OUT_BY: "who carried out the {kind} of {people}",
    EventPerson.Role.RELATED: "named in the {kind} of {people}",
}
MAX_NAMES = 2  # named companions given by name; the others are counted


def is_unnamed(person) -> bool:
    """No name to show: the stored list's `unnamed` where the row has it, else a placeholder or
    a person without names (read from the prefetched names, as `display_name` reads them)."""
    unnamed = getattr(person, "unnamed", None)
    if unnamed is not None:
        return unnamed
    return person.is_placeholder or person.primary_name is None


def who(person, capacity: str = "") -> str:
    if Person.Withheld.NAME in person.withheld:
        return "person whose name the source withholds"
    return f"unnamed {capacity.strip() or 'person'}"


def companions(others: list, total_unnamed: int) -> str:
    """ "Qari Bilal", "A, B and 3 others", "2 unnamed people"."""
    names = [p.display_name for p in others[:MAX_NAMES]]
    rest = len(others) - len(names) + total_unnamed
    if rest:
        names.append(f"{rest} other{'s' if rest > 1 else ''}" if names else f"{rest} unnamed")
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else ""


def description(person, role: EventPerson | None, others: list, unnamed_others: int) -> str:
    """The words for `person`, from their `role` in their first public event and the other
    subjects of that event (`others` named, `unnamed_others` not)."""
    if role is None:
        return who(person)
    event = role.event
    people = companions(others, unnamed_others)
    if role.role == EventPerson.Role.SUBJECT:
        how = SUBJECT_VERBS.get(event.kind, event.get_kind_display().lower())
        if people:
            how = f"{how} with {people}"
        elif event.place_id and event.place.is_published:
            how = f"{how} in {event.place.name}"
    else:
        how = OTHER_ROLES[role.role].format(
            kind=event.get_kind_display().lower(), people=people or "unnamed people"
        )
    parts = [who(person, role.capacity), how]
    if event.date:
        parts.append(humanize(event.date))
    return ", ".join(parts)


def describe_unnamed(people) -> None:
    """Set `described_as` on each unnamed person among `people` (a page's rows): three queries
    when there is one at least, none otherwise."""
    unnamed: dict[int, list] = {}
    for person in people:
        if is_unnamed(person):
            unnamed.setdefault(person.pk, []).append(person)
    if not unnamed:
        return
    roles = (
        EventPerson.objects.public()
        .filter(person_id__in=list(unnamed))
        .select_related("event__place")
        .order_by("person_id", *timeline_order("event__"))
        .distinct("person_id")
    )
    first = {role.person_id: role for role in roles}
    subjects = (
        EventPerson.objects.public()
        .filter(event_id__in={role.event_id for role in first.values()}, role="subject")
        .select_related("person")
        .prefetch_related("person__names")
    )
    by_event: dict[int, list] = {}
    for subject in subjects:
        by_event.setdefault(subject.event_id, []).append(subject.person)
    for pk, copies in unnamed.items():
        role = first.get(pk)
        with_them = [p for p in by_event.get(role.event_id, []) if p.pk != pk] if role else []
        named = [p for p in with_them if not is_unnamed(p)]
        described = description(copies[0], role, named, len(with_them) - len(named))
        for person in copies:
            person.described_as = described


def describe_people_in(rows) -> None:
    """`describe_unnamed` for the people a page of rows shows: each event's public subjects
    (`events_for_listing`), or the person of each membership or affiliation."""
    people = []
    for row in rows:
        people.extend(role.person for role in getattr(row, "public_subjects", ()))
        person = getattr(row, "person", None)
        if isinstance(person, Person):
            people.append(person)
    describe_unnamed(people)
