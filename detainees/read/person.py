"""One person as the public sees it: what the person page and the API's person detail show.

`person_queryset()` loads a person with every public fact either shows in a fixed number of
queries, and `person_record()` assembles them: names, nationalities, affiliations, the timeline
with custodians, batches, relatives and associates, the sources of each name and of the person,
footnotes, the status (read from SQL, as the lists give it) and the
status line. The page (`person_page`) and `detainees.api.serializers.PersonDetailSerializer`
both read this record, so they cannot disagree.

Only public records (each model's `public()`) and public fields are read here; citations whose
source is not public are left out, and a fact left without a public citation is shown as
unsourced. The one deliberate exception: a person's own timeline (the page and the API's
person detail) keeps the person's published events that were retracted, marked "Retracted";
every other page, list and count leaves them out.
"""

from dataclasses import dataclass, field
from datetime import date

from detainees.domain.models import ClaimStatus, Event, EventPerson, Person, Relationship
from detainees.domain.models.people import RELATED_PER_BATCH
from detainees.read import timeline
from detainees.read.listing import current_status


def public_citations(fact):
    return [c for c in fact.citations.all() if c.source.is_public]


@dataclass
class Footnotes:
    """Numbers each public citation once, in reading order."""

    notes: list = field(default_factory=list)
    _numbers: dict = field(default_factory=dict)

    def mark(self, fact) -> list[int]:
        numbers = []
        for citation in public_citations(fact):
            if citation.pk not in self._numbers:
                self.notes.append(citation)
                self._numbers[citation.pk] = len(self.notes)
            numbers.append(self._numbers[citation.pk])
        return numbers


@dataclass(frozen=True)
class Age:
    """A person's age at an event, in whole years: as the source gives it (`stated`), or the
    range the birth date's and the event date's bounds allow."""

    low: int
    high: int
    stated: bool

    @property
    def text(self) -> str:
        return f"aged {self.low}" if self.low == self.high else f"aged {self.low}\u2013{self.high}"


def years_between(born: date, on: date) -> int:
    """Completed years from `born` to `on` (negative when `on` comes first)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_at_event(
    *,
    stated: int | None,
    birth_earliest: date | None,
    birth_latest: date | None,
    event_earliest: date | None,
    event_latest: date | None,
) -> Age | None:
    """The age a source states wins; else the youngest the person can have been (born as late,
    the event as early as the bounds allow) to the oldest. None when a bound is unknown, or when
    the event came before any possible birth: a range would then say more than the dates do."""
    if stated is not None:
        return Age(stated, stated, stated=True)
    if None in (birth_earliest, birth_latest, event_earliest, event_latest):
        return None
    high = years_between(birth_earliest, event_latest)
    if high < 0:
        return None
    return Age(max(years_between(birth_latest, event_earliest), 0), high, stated=False)


def person_age_at(person, role) -> Age | None:
    """`age_at_event` for a person's role in an event (the role's event loaded)."""
    return age_at_event(
        stated=role.age,
        birth_earliest=person.birth_earliest,
        birth_latest=person.birth_latest,
        event_earliest=role.event.date_earliest,
        event_latest=role.event.date_latest,
    )


@dataclass
class Fact:
    obj: object
    notes: list[int]
    custodians: list = field(default_factory=list)
    age: Age | None = None  # timeline entries: the person's age at the event

    @property
    def citations(self) -> list:
        return public_citations(self.obj)

    @property
    def inferred(self) -> bool:
        return self.obj.claim_status == ClaimStatus.INFERRED


@dataclass
class Tie:
    """A relationship as one person's record shows it: the other person, and what the record's
    person is to them ("mother of", or from the child's side, "son of")."""

    obj: Relationship
    other: Person
    label: str
    notes: list[int] = field(default_factory=list)

    @property
    def citations(self) -> list:
        return public_citations(self.obj)


KIND_ORDER = {kind: i for i, kind in enumerate(Relationship.Kind.values)}


def ties_of(person) -> list[Tie]:
    """The person's public relationships, from both sides, family first; each names a public
    person (a relationship to anyone else is left out whole, never shown unnamed)."""
    ties = [Tie(r, r.other, r.label_for(person)) for r in person.relationships.all()]
    ties += [Tie(r, r.person, r.label_for(person)) for r in person.relationships_as_other.all()]
    ties = [t for t in ties if t.other.is_public and t.obj.claim_status != ClaimStatus.RETRACTED]
    return sorted(ties, key=lambda t: (KIND_ORDER[t.obj.kind], t.other.display_name, t.obj.pk))


def person_queryset(
    *, published_only: bool = True, batch_members: bool = True, with_status: bool = True
):
    """Published people with every published fact the page shows, in a fixed number of queries:
    `Person.objects.with_timeline(public=True)`, the admin's prefetch holding public facts only.

    With `published_only=False`, people in any state, still with their published facts only:
    the public view of a draft, which the API gives signed-in staff. With `batch_members=False`,
    without the other members of the person's batches, which only the page lists: a batch can
    hold hundreds of people, fetched again for each of its members in a chunk of an export.
    With `with_status` (the default), each person carries `current_status` computed in SQL, as
    the lists have it; without, `detainees.read.timeline.current_status` derives it.
    """
    people = Person.objects.public() if published_only else Person.objects.all()
    if with_status:
        people = people.annotate(current_status=current_status())
    return people.with_timeline(public=True, batch_members=batch_members)


@dataclass
class PersonRecord:
    """A person's public facts in reading order, each with its footnote numbers."""

    person: Person
    names: list
    nationalities: list[Fact]
    affiliations: list[Fact]
    timeline: list[Fact]  # custody episodes with their custodians
    batches: list[Fact]
    birthplace: object  # a public Place, or None
    withheld: list[str]  # Person.Withheld values: what the source withholds, not what it lacks
    relationships: list[Tie]
    name_sources: list[Fact]  # each name, with the footnotes of where it comes from
    person_notes: list[int]  # the footnotes of the person as a whole (identity, biography)
    footnotes: list
    status: str  # a detainees.read.listing.CurrentStatus code
    status_line: str
    corrections: list

    @property
    def events(self) -> list[Event]:
        return [fact.obj for fact in self.timeline]


def public_birthplace(person):
    """The person's birthplace if it is public (a draft place is not shown), else None."""
    place = person.birthplace
    return place if place is not None and place.is_public else None


def person_record(person) -> PersonRecord:
    """The record of a person read by `person_queryset()`; costs no query."""
    notes = Footnotes()
    nationalities = [Fact(n, notes.mark(n)) for n in person.nationalities.all()]
    affiliations = [Fact(a, notes.mark(a)) for a in person.affiliations.all()]
    roles = sorted(person.subject_roles, key=lambda role: timeline.sort_key(role.event))
    entries = [
        Fact(
            role.event,
            notes.mark(role.event),
            timeline.custodians(role.event) if role.event.kind == Event.Kind.CUSTODY else [],
            age=person_age_at(person, role),
        )
        for role in roles
    ]
    batches = [Fact(m, notes.mark(m)) for m in person.batch_memberships.all()]
    ties = ties_of(person)
    for tie in ties:
        tie.notes = notes.mark(tie.obj)
    names = list(person.names.all())
    name_sources = [Fact(n, notes.mark(n)) for n in names]
    person_notes = notes.mark(person)
    status = getattr(person, "current_status", None) or timeline.current_status(person)
    return PersonRecord(
        person=person,
        names=names,
        nationalities=nationalities,
        affiliations=affiliations,
        timeline=entries,
        batches=batches,
        birthplace=public_birthplace(person),
        withheld=[w for w in Person.Withheld.values if w in person.withheld],
        relationships=ties,
        name_sources=name_sources,
        person_notes=person_notes,
        footnotes=notes.notes,
        status=status,
        status_line=timeline.status_line(person),
        # Prefetched with public fields only: who made a correction stays with the editors.
        corrections=list(person.corrections.all()),
    )


def person_page(person) -> dict:
    """Context for the person page: the record, the people related to the person, conflicting
    claims side by side, and when anything shown last changed."""
    record = person_record(person)
    events = record.events
    related = {}
    for event in events:
        for role in event.people.all():
            if role.person_id != person.pk and role.person.is_public:
                how = "captured together" if role.role == EventPerson.Role.SUBJECT else None
                how = how or role.get_role_display().split(" (")[0].lower()
                related.setdefault(role.person, set()).add(how)
    more_in_batches = []
    for membership in person.batch_memberships.all():
        others = [m for m in membership.batch.public_memberships if m.person_id != person.pk]
        for other in others[:RELATED_PER_BATCH]:
            related.setdefault(other.person, set()).add(f"same batch: {membership.batch}")
        if len(others) > RELATED_PER_BATCH:
            more_in_batches.append(membership.batch)
    # Conflicting claims: disputed accounts of one kind of event (two release dates from two
    # sources) are kept apart in the timeline and also shown next to each other.
    by_kind = {}
    for fact in record.timeline:
        if fact.obj.claim_status == ClaimStatus.DISPUTED:
            by_kind.setdefault(fact.obj.get_kind_display(), []).append(fact)
    conflicts = [(kind, facts) for kind, facts in by_kind.items() if len(facts) > 1]
    # The latest change to anything the page shows: the person, or a published fact or citation
    # under it (a fact edited in its own admin page leaves the person's `updated` alone).
    shown = [person, *(f.obj for f in record.affiliations), *events, *record.footnotes]
    shown += [m.batch for m in person.batch_memberships.all()]
    shown += [tie.obj for tie in record.relationships]
    return {
        "last_updated": max(obj.updated for obj in shown),
        "person": person,
        "names": record.names,
        "primary_name": person.primary_name,
        "variants": [n for n in record.names if not n.is_primary],
        "nationalities": record.nationalities,
        "affiliations": record.affiliations,
        "timeline": record.timeline,
        "batches": record.batches,
        "birthplace": record.birthplace,
        "withheld": set(record.withheld),
        "gender_known": person.gender != Person.Gender.UNKNOWN,
        "relationships": record.relationships,
        "name_sources": record.name_sources,
        "person_notes": record.person_notes,
        "related": sorted(
            ((p, sorted(hows)) for p, hows in related.items()), key=lambda r: str(r[0])
        ),
        "more_in_batches": more_in_batches,
        "conflicts": conflicts,
        "footnotes": record.footnotes,
        "status": record.status,
        "status_line": record.status_line,
        "corrections": record.corrections,
    }
