"""One person as the public sees it: what the person page and the API's person detail show.

`person_queryset()` loads a person with every public fact either shows in a fixed number of
queries, and `person_record()` assembles them: names, nationalities, affiliations, the timeline
with custodians, batches, relatives and associates, the sources of each name and of the person,
the notes (one per source passage, each knowing the facts it supports), the status (read from
SQL, as the lists give it), the status line, and the summary the page opens with. The page
(`person_page`) and `detainees.api.serializers.PersonDetailSerializer` both read this record,
so they cannot disagree.

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
from detainees.read.listing import CurrentStatus, current_status


def public_citations(fact):
    return [c for c in fact.citations.all() if c.source.is_public]


def passage_key(citation) -> tuple:
    """What makes two citations one note: the same source, quoted passage and locator (spacing
    aside). Several facts resting on one sentence of one article cite it once each; the reader
    gets that sentence once, with a way back to each of those facts."""
    return (
        citation.source_id,
        " ".join(citation.quote.split()),
        " ".join(citation.locator.split()),
    )


@dataclass
class Note:
    """One numbered note: a passage of a public source, with every public citation of it and
    every fact on the page it supports (`supports`: (anchor, label) pairs, in reading order)."""

    number: int
    citations: list
    supports: list[tuple[str, str]] = field(default_factory=list)

    @property
    def citation(self):
        return self.citations[0]

    @property
    def source(self):
        return self.citation.source

    @property
    def quote(self) -> str:
        return self.citation.quote

    @property
    def locator(self) -> str:
        return self.citation.locator

    @property
    def attribution(self) -> str:
        """Who is quoted; citations of one passage that name different speakers keep each."""
        seen = dict.fromkeys(c.attribution for c in self.citations if c.attribution)
        return "; ".join(seen)

    @property
    def accessed_on(self):
        """When the passage was last checked, by any of its citations."""
        return max((c.accessed_on for c in self.citations if c.accessed_on), default=None)

    @property
    def backlinks(self) -> list[tuple[str, str, str]]:
        """(letter, anchor, label) for each fact the note supports: the note's "↩ a, b, c"."""
        return [(letter(i), anchor, label) for i, (anchor, label) in enumerate(self.supports)]


def letter(i: int) -> str:
    """a, b, ... z, aa, ab, ...: the back-links of a note, as printed works letter them."""
    return letter(i // 26 - 1) + chr(ord("a") + i % 26) if i >= 26 else chr(ord("a") + i)


@dataclass
class Footnotes:
    """Numbers each public source passage once, in reading order (`passage_key`), and records
    every fact that rests on it so a note can lead back to each."""

    notes: list[Note] = field(default_factory=list)
    _by_key: dict = field(default_factory=dict)

    def mark(self, fact, anchor: str = "", label: str = "") -> list[int]:
        numbers = []
        for citation in public_citations(fact):
            note = self._by_key.get(passage_key(citation))
            if note is None:
                note = Note(len(self.notes) + 1, [])
                self.notes.append(note)
                self._by_key[passage_key(citation)] = note
            note.citations.append(citation)
            if anchor and (anchor, label) not in note.supports:
                note.supports.append((anchor, label))
            if note.number not in numbers:
                numbers.append(note.number)
        return numbers

    def sources(self) -> "SourceCount":
        return SourceCount.of(note.source for note in self.notes)


@dataclass(frozen=True)
class SourceCount:
    """How many distinct public sources a record rests on, and how many of them are
    independent: sources from one publisher count once (two articles of one newspaper are one
    voice); a source whose publisher is unknown or not public counts by itself."""

    sources: int
    independent: int

    @classmethod
    def of(cls, sources) -> "SourceCount":
        distinct = {source.pk: source for source in sources}
        voices = set()
        for source in distinct.values():
            publisher = source.publisher
            if publisher is not None and publisher.is_public:
                voices.add(("publisher", publisher.pk))
            else:
                voices.add(("source", source.pk))
        return cls(len(distinct), len(voices))


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
    anchor: str = ""  # the id of the fact on the page, which its notes link back to

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
    def anchor(self) -> str:
        return f"relationship-{self.obj.pk}"

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
    footnotes: list[Note]  # one per source passage, in reading order
    status: str  # a detainees.read.listing.CurrentStatus code
    status_line: str
    corrections: list
    summary: "Summary"

    @property
    def events(self) -> list[Event]:
        return [fact.obj for fact in self.timeline]


def public_birthplace(person):
    """The person's birthplace if it is public (a draft place is not shown), else None."""
    place = person.birthplace
    return place if place is not None and place.is_public else None


# The id of the person's own facts on the page: the targets of the notes' back-links. Keyed by
# the row, so a link to one fact (`/people/qari-bilal/#event-12`) survives edits to the others.
IDENTITY_ANCHOR = "identity"


def anchor_of(obj, prefix: str) -> str:
    return f"{prefix}-{obj.pk}"


def event_label(event) -> str:
    return f"{event.get_kind_display().lower()}, {timeline.date_text(event.date)}"


def person_record(person) -> PersonRecord:
    """The record of a person read by `person_queryset()`; costs no query."""
    notes = Footnotes()

    def fact(obj, prefix, label, **extra):
        anchor = anchor_of(obj, prefix)
        return Fact(obj, notes.mark(obj, anchor, label), anchor=anchor, **extra)

    nationalities = [
        fact(n, "nationality", f"nationality: {n.country.name}") for n in person.nationalities.all()
    ]
    affiliations = [
        fact(a, "affiliation", f"affiliation: {a.organization}") for a in person.affiliations.all()
    ]
    roles = sorted(person.subject_roles, key=lambda role: timeline.sort_key(role.event))
    entries = [
        fact(
            role.event,
            "event",
            event_label(role.event),
            custodians=timeline.custodians(role.event)
            if role.event.kind == Event.Kind.CUSTODY
            else [],
            age=person_age_at(person, role),
        )
        for role in roles
    ]
    batches = [
        fact(m, "batch", f"release batch: {m.batch.title}") for m in person.batch_memberships.all()
    ]
    ties = ties_of(person)
    for tie in ties:
        tie.notes = notes.mark(tie.obj, tie.anchor, f"{tie.label} {tie.other.display_name}")
    names = list(person.names.all())
    name_sources = [fact(n, "name", f"name: {n.name}") for n in names]
    person_notes = notes.mark(person, IDENTITY_ANCHOR, "identity and biography")
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
        summary=summarize(person, status, entries, notes.sources()),
    )


@dataclass(frozen=True)
class StatusSummary:
    """The person's status with the timeline entry that decided it (None when none did)."""

    status: str  # a CurrentStatus code
    entry: Fact | None

    @property
    def label(self) -> str:
        # "Not known", as the status line says "Status unknown": the page keeps "Unknown" for
        # nothing, so that it never reads as a value a source gave.
        if self.status == CurrentStatus.UNKNOWN:
            return "Not known"
        return CurrentStatus(self.status).label

    @property
    def since_edtf(self) -> str:
        """From when the status holds: the deciding event's date; for a custody episode, its
        start while it lasts and its end once it has ended (a release, a death)."""
        if self.entry is None:
            return ""
        event = self.entry.obj
        ended = event.kind == Event.Kind.CUSTODY and event.custody_end_reason
        return event.end_date if ended else event.date

    @property
    def since(self) -> str:
        return timeline.date_text(self.since_edtf) if self.entry else ""

    @property
    def claim_status(self) -> str:
        return self.entry.obj.claim_status if self.entry else ""


@dataclass(frozen=True)
class CustodySummary:
    """Who holds the person, or held them last, and where: the last custody episode on the
    timeline and its last custodian, as the timeline derives custodians (one named on the
    episode, else whoever controlled the facility then)."""

    entry: Fact
    current: bool  # the status is "in custody" and this episode has not ended

    @property
    def custodian(self):
        """The last `timeline.CustodianSpan` of the episode, or None when nobody is known."""
        return self.entry.custodians[-1] if self.entry.custodians else None

    @property
    def facility(self):
        facility = self.entry.obj.facility
        return facility if facility is not None and facility.is_public else None


@dataclass(frozen=True)
class Summary:
    """What a reader wants before the timeline: where the person is now, who holds them and
    since when, how sure the record is, and how many independent sources it rests on."""

    status: StatusSummary
    custody: CustodySummary | None
    sources: SourceCount


def summarize(person, status: str, entries: list[Fact], sources: SourceCount) -> Summary:
    """The summary of a record from its timeline entries: the status is the SQL one the lists
    give, the entry that decided it `timeline.deciding_event`'s, and the custodians those the
    timeline derived for the entry."""
    decided = timeline.deciding_event(person)
    deciding = decided and next(f for f in entries if f.obj.pk == decided.event.pk)
    custody = [
        f
        for f in entries
        if f.obj.kind == Event.Kind.CUSTODY and f.obj.claim_status != ClaimStatus.RETRACTED
    ]
    last = custody[-1] if custody else None
    return Summary(
        status=StatusSummary(status, deciding),
        custody=last
        and CustodySummary(
            last,
            current=status == CurrentStatus.IN_CUSTODY and not last.obj.custody_end_reason,
        ),
        sources=sources,
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
    shown = [person, *(f.obj for f in record.affiliations), *events]
    shown += [citation for note in record.footnotes for citation in note.citations]
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
        "summary": record.summary,
        "claim_statuses": ClaimStatus,
    }
