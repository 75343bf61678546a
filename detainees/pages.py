"""What the public person page shows, assembled from one prefetched person.

Only published records and public fields are read here; citations whose source is unpublished
or confidential are left out, and a fact left without a public citation is shown as unsourced.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch

from detainees.models import (
    Affiliation,
    BatchMembership,
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Nationality,
    Person,
    PublicationStatus,
)
from detainees.timeline import custodians, sort_key

PUBLISHED = PublicationStatus.PUBLISHED


def public_citations(fact):
    return [
        c
        for c in fact.citations.all()
        if c.source.status == PUBLISHED and not c.source.is_confidential
    ]


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
    def inferred(self) -> bool:
        return self.obj.claim_status == ClaimStatus.INFERRED


def person_page_queryset():
    """Published people with every published fact the page shows, in a fixed number of queries."""
    events = (
        Event.objects.published()
        .select_related("place__parent__parent", "facility__place", "from_facility", "batch")
        .prefetch_related(
            Prefetch(
                "people",
                queryset=EventPerson.objects.filter(person__status=PUBLISHED)
                .select_related("person")
                .prefetch_related("person__names"),
            ),
            Prefetch(
                "organizations",
                queryset=EventOrganization.objects.filter(
                    organization__status=PUBLISHED
                ).select_related("organization"),
            ),
            Prefetch(
                "facility__controls",
                queryset=FacilityControl.objects.filter(controller__status=PUBLISHED)
                .select_related("controller")
                .order_by("start_earliest"),
            ),
            "citations__source__publisher",
        )
    )
    return Person.objects.published().prefetch_related(
        "names",
        Prefetch(
            "nationalities",
            queryset=Nationality.objects.exclude(claim_status=ClaimStatus.RETRACTED)
            .prefetch_related("citations__source")
            .order_by("country"),
        ),
        Prefetch(
            "affiliations",
            queryset=Affiliation.objects.published()
            .filter(organization__status=PUBLISHED)
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
        Prefetch(
            "batch_memberships",
            queryset=BatchMembership.objects.filter(batch__status=PUBLISHED)
            .select_related("batch__ordered_by")
            .prefetch_related("citations__source__publisher"),
        ),
        "citations__source__publisher",
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
            if role.person_id != person.pk and role.person.status == PUBLISHED:
                how = "captured together" if role.role == EventPerson.Role.SUBJECT else None
                how = how or role.get_role_display().split(" (")[0].lower()
                related.setdefault(role.person, set()).add(how)
    # Conflicting claims: two events of one kind told differently (e.g. two release dates).
    disputed = [f for f in timeline if f.obj.claim_status == ClaimStatus.DISPUTED]
    return {
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
        "disputed": disputed,
        "footnotes": notes.notes,
        "status_line": person.status_line(),
    }
