"""What the public person page shows, assembled from one prefetched person.

Only public records (each model's `public()`) and public fields are read here; citations whose
source is not public are left out, and a fact left without a public citation is shown as
unsourced. The one deliberate exception: a person's own timeline (this page and the API's
person detail) keeps the person's published events that were retracted, marked "Retracted";
every other page, list and count leaves them out.
"""

from dataclasses import dataclass, field

from django.db.models import F, Prefetch, Q

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    ClaimStatus,
    Correction,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Nationality,
    Organization,
    Person,
    Place,
    PublicationStatus,
    ReleaseBatch,
)
from detainees.read.pagination import BadCursor, keyset_page
from detainees.read.timeline import custodians, sort_key

PUBLISHED = PublicationStatus.PUBLISHED


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


@dataclass
class Fact:
    obj: object
    notes: list[int]
    custodians: list = field(default_factory=list)

    @property
    def citations(self) -> list:
        return public_citations(self.obj)

    @property
    def inferred(self) -> bool:
        return self.obj.claim_status == ClaimStatus.INFERRED


# How many other members of each of a person's release batches the person page names.
RELATED_PER_BATCH = 20


def person_page_queryset(*, published_only: bool = True, batch_members: bool = True):
    """Published people with every published fact the page shows, in a fixed number of queries.

    With `published_only=False`, people in any state, still with their published facts only:
    the public view of a draft, which the API gives signed-in staff. With `batch_members=False`,
    without the other members of the person's batches, which only the page lists: a batch can
    hold hundreds of people, fetched again for each of its members in a chunk of an export.
    """
    # Published, retracted ones included: the timeline shows them marked (see above).
    events = (
        Event.objects.published()
        .select_related("place__parent__parent", "facility__place", "from_facility", "batch")
        .prefetch_related(
            Prefetch(
                "people",
                queryset=EventPerson.objects.filter(Person.public_q("person__"))
                .select_related("person")
                .prefetch_related("person__names"),
            ),
            Prefetch(
                "organizations",
                queryset=EventOrganization.objects.filter(
                    Organization.public_q("organization__")
                ).select_related("organization"),
            ),
            Prefetch(
                "facility__controls",
                queryset=FacilityControl.objects.filter(Organization.public_q("controller__"))
                .select_related("controller")
                .order_by("start_earliest"),
            ),
            "citations__source__publisher",
        )
    )
    memberships = (
        BatchMembership.objects.filter(ReleaseBatch.public_q("batch__"))
        .select_related("batch__ordered_by")
        .prefetch_related("citations__source__publisher")
    )
    if batch_members:
        memberships = memberships.prefetch_related(
            Prefetch(
                "batch__memberships",
                # The first few only: a batch can name hundreds, who belong on its own page.
                # One more than shown, and the person, to know whether there are more.
                queryset=BatchMembership.objects.filter(Person.public_q("person__"))
                .select_related("person")
                .prefetch_related("person__names")
                .order_by("pk")[: RELATED_PER_BATCH + 2],
                to_attr="public_memberships",
            )
        )
    people = Person.objects.public() if published_only else Person.objects.all()
    return people.prefetch_related(
        "names",
        Prefetch(
            "nationalities",
            queryset=Nationality.objects.exclude(claim_status=ClaimStatus.RETRACTED)
            .prefetch_related("citations__source")
            .order_by("country"),
        ),
        Prefetch(
            "affiliations",
            # Retracted ones too, marked, as the timeline's events.
            queryset=Affiliation.objects.published()
            .filter(Organization.public_q("organization__"))
            .select_related("organization", "place")
            .prefetch_related("citations__source__publisher")
            .order_by("start_earliest", "pk"),
        ),
        Prefetch(
            "event_roles",
            queryset=EventPerson.objects.filter(
                role=EventPerson.Role.SUBJECT, event__status=PUBLISHED
            ).prefetch_related(Prefetch("event", queryset=events)),
            to_attr="subject_roles",
        ),
        Prefetch("batch_memberships", queryset=memberships),
        "citations__source__publisher",
        Prefetch("corrections", queryset=Correction.objects.public()),
    )


def person_page(person) -> dict:
    """Context for the person page: facts in reading order, each with its footnote numbers."""
    notes = Footnotes()
    names = list(person.names.all())
    nationalities = [Fact(n, notes.mark(n)) for n in person.nationalities.all()]
    affiliations = [Fact(a, notes.mark(a)) for a in person.affiliations.all()]
    events = sorted((role.event for role in person.subject_roles), key=sort_key)
    timeline = [
        Fact(e, notes.mark(e), custodians(e) if e.kind == Event.Kind.CUSTODY else [])
        for e in events
    ]
    batches = [Fact(m, notes.mark(m)) for m in person.batch_memberships.all()]
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
    for fact in timeline:
        if fact.obj.claim_status == ClaimStatus.DISPUTED:
            by_kind.setdefault(fact.obj.get_kind_display(), []).append(fact)
    conflicts = [(kind, facts) for kind, facts in by_kind.items() if len(facts) > 1]
    # The latest change to anything the page shows: the person, or a published fact or citation
    # under it (a fact edited in its own admin page leaves the person's `updated` alone).
    shown = [person, *(f.obj for f in affiliations), *events, *notes.notes]
    shown += [m.batch for m in person.batch_memberships.all()]
    return {
        "last_updated": max(obj.updated for obj in shown),
        "person": person,
        "names": names,
        "primary_name": person.primary_name,
        "variants": [n for n in names if not n.is_primary],
        "nationalities": nationalities,
        "affiliations": affiliations,
        "timeline": timeline,
        "batches": batches,
        "related": sorted(
            ((p, sorted(hows)) for p, hows in related.items()), key=lambda r: str(r[0])
        ),
        "more_in_batches": more_in_batches,
        "conflicts": conflicts,
        "footnotes": notes.notes,
        "status_line": person.status_line(),
        # Prefetched with public fields only: who made a correction stays with the editors.
        "corrections": list(person.corrections.all()),
    }


# --- Organizations, facilities, sources, batches, places ----------------------------------------


def published_people_roles():
    """Subjects of an event who are public, with their names for display."""
    return Prefetch(
        "people",
        queryset=EventPerson.objects.filter(
            Person.public_q("person__"), role=EventPerson.Role.SUBJECT
        )
        .select_related("person")
        .prefetch_related("person__names"),
        to_attr="public_subjects",
    )


def events_for_listing():
    """Public events (published, not retracted), as the record pages list them."""
    return (
        Event.objects.public()
        .select_related("place", "facility")
        .prefetch_related(published_people_roles())
        .order_by(F("date_earliest").asc(nulls_first=True), "order_hint", "pk")
    )


# Every list on a record's page is paged (a force's page once listed 572 captures in one page):
# `SECTION_PAGE_SIZE` rows a page, each list with its own cursor parameter `<name>_after`.
SECTION_PAGE_SIZE = 50


def section(queryset, cursors, name: str, field: str, *, descending: bool = False):
    """One page of a list on a record's page, from the cursor `cursors[name]` (the request's
    `<name>_after`). Raises BadCursor for a cursor that is not one."""
    try:
        return keyset_page(
            queryset,
            field=field,
            descending=descending,
            after=(cursors or {}).get(name),
            size=SECTION_PAGE_SIZE,
        )
    except BadCursor as exc:
        exc.param = f"{name}_after"
        raise


def organization_page(organization, cursors=None) -> dict:
    roles = EventOrganization.objects.filter(organization=organization)
    members = (
        Affiliation.objects.public()
        .filter(organization=organization)
        .select_related("person")
        .prefetch_related("person__names")
    )
    captures = events_for_listing().filter(
        kind=Event.Kind.CAPTURE,
        pk__in=roles.filter(
            role__in=[
                EventOrganization.Role.CAPTURING_FORCE,
                EventOrganization.Role.PARTNER_FORCE,
            ]
        ).values("event_id"),
    )
    releases = events_for_listing().filter(
        kind=Event.Kind.RELEASE,
        pk__in=roles.filter(role=EventOrganization.Role.ORDERED_BY).values("event_id"),
    )
    children = Organization.objects.public().filter(parent=organization)
    return {
        "organization": organization,
        "parent": organization.parent
        if organization.parent_id and organization.parent.is_public
        else None,
        "children": section(children, cursors, "children", "name"),
        "members": section(members, cursors, "members", "start_earliest"),
        "captures": section(captures, cursors, "captures", "date_earliest"),
        "releases": section(releases, cursors, "releases", "date_earliest"),
    }


def held_at(facility, day_from, day_to):
    """Custody episodes at `facility` that may cover any day in [day_from, day_to]."""
    return (
        events_for_listing()
        .filter(kind=Event.Kind.CUSTODY, facility=facility)
        .filter(Q(date_earliest__lte=day_to) | Q(date_earliest__isnull=True))
        .filter(
            Q(end_date_latest__gte=day_from)
            | Q(end_date="", custody_end_reason="")  # still held
            | Q(end_date="", date_latest__lte=day_to)  # ended, end unknown
        )
    )


FACILITY_PAGE_SIZE = 50


def facility_page(facility, on=None, *, after=None, held_after=None) -> dict:
    """The facility's control history, and its custody episodes, latest first, a page at a
    time: all of them from the cursor `after`, and those possibly covering `on` from
    `held_after`. Raises BadCursor for a cursor that is not one."""
    controls = (
        FacilityControl.objects.filter(Organization.public_q("controller__"), facility=facility)
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .select_related("controller")
        .order_by(F("start_earliest").asc(nulls_first=True))
    )
    custody = events_for_listing().filter(kind=Event.Kind.CUSTODY, facility=facility)
    context = {
        "facility": facility,
        "controls": controls,
        "custody": latest_first(custody, after),
        "on": on,
    }
    if on is not None:
        context["held_on"] = latest_first(
            held_at(facility, on.earliest, on.latest), held_after, "held_after"
        )
        context["controllers_on"] = [
            c
            for c in controls
            if (c.start_earliest is None or c.start_earliest <= on.latest)
            and (c.end_latest is None or c.end_latest >= on.earliest)
        ]
    return context


def latest_first(events, after, param: str = "after"):
    try:
        return keyset_page(
            events, field="date_earliest", descending=True, after=after, size=FACILITY_PAGE_SIZE
        )
    except BadCursor as exc:
        exc.param = param
        raise


def source_page(source) -> dict:
    from detainees.domain.models import Citation

    citations = (
        Citation.objects.filter(source=source)
        .select_related(
            "person",
            "person_name__person",
            "nationality__person",
            "affiliation__person",
            "affiliation__organization",
            "event",
            "facility_control__facility",
            "facility_control__controller",
            "batch",
            "batch_membership__person",
            "batch_membership__batch",
        )
        .order_by("pk")
    )
    facts = []
    for citation in citations:
        fact = citation.fact
        if not is_public_fact(fact):
            continue
        facts.append(citation)
    return {"source": source, "citations": facts}


def is_public_fact(fact) -> bool:
    """A fact may be shown when it and every record it hangs on are public (a retracted event
    is not)."""
    if not getattr(fact, "is_public", True):
        return False
    for parent in ("person", "facility", "batch", "organization", "controller"):
        obj = getattr(fact, parent, None)
        if obj is not None and not getattr(obj, "is_public", True):
            return False
    return True


def batch_page(batch, cursors=None) -> dict:
    memberships = (
        BatchMembership.objects.filter(Person.public_q("person__"), batch=batch)
        .exclude(claim_status=ClaimStatus.RETRACTED)
        .select_related("person")
        .prefetch_related("person__names")
    )
    return {
        "batch": batch,
        "memberships": section(memberships, cursors, "members", "inclusion"),
        "releases": section(
            events_for_listing().filter(batch=batch), cursors, "releases", "date_earliest"
        ),
    }


def place_page(place, cursors=None) -> dict:
    inside = Q(place=place) | Q(place__parent=place) | Q(place__parent__parent=place)
    return {
        "place": place,
        "ancestors": [
            p
            for p in (place.parent, place.parent.parent if place.parent else None)
            if p and p.is_public
        ],
        "children": section(
            Place.objects.public().filter(parent=place), cursors, "children", "name"
        ),
        "facilities": section(place.facilities.public(), cursors, "facilities", "name"),
        "events": section(events_for_listing().filter(inside), cursors, "events", "date_earliest"),
    }
