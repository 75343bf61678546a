"""The admin's person prefetch and the public one (page and API detail) have one shape.

`Person.objects.with_timeline()` is the admin's (facts in any state) and, with `public=True`, the
one `detainees.read.person.person_queryset()` reads: they differ in what they filter, never in
which relations they load or how, so neither can gain a relation the other lacks.
"""

import pytest
from django.db.models import Prefetch

from detainees.domain.models import BatchMembership, Event, Person, PublicationStatus, ReleaseBatch
from detainees.read.person import person_queryset
from tests import factories as f

PUBLISHED = PublicationStatus.PUBLISHED


def shape(queryset) -> dict:
    """What a queryset loads and how, without its filters: the model, the joins, the order, the
    slice, and each prefetch's path, attribute and queryset, recursively."""
    query = queryset.query
    prefetches = []
    for lookup in queryset._prefetch_related_lookups:
        if isinstance(lookup, str):
            prefetches.append((lookup, None, None))
        else:
            inner = None if lookup.queryset is None else shape(lookup.queryset)
            prefetches.append((lookup.prefetch_through, lookup.to_attr, inner))
    return {
        "model": queryset.model,
        "select_related": query.select_related,
        "order_by": query.order_by,
        "slice": (query.low_mark, query.high_mark),
        "prefetch": prefetches,
    }


def paths(queryset, prefix="") -> set[str]:
    found = set()
    for lookup in queryset._prefetch_related_lookups:
        path = lookup if isinstance(lookup, str) else lookup.prefetch_through
        found.add(prefix + path)
        if not isinstance(lookup, str) and lookup.queryset is not None:
            found |= paths(lookup.queryset, f"{prefix}{path}__")
    return found


@pytest.mark.parametrize("batch_members", [False, True])
def test_the_admin_and_the_public_person_prefetch_load_the_same_relations_alike(batch_members):
    admin = Person.objects.with_timeline(batch_members=batch_members)
    public = person_queryset(batch_members=batch_members)
    assert shape(admin) == shape(public)


def test_the_admin_person_page_prefetches_what_the_api_person_detail_does():
    # The admin calls with_timeline() as is; the API detail leaves out the batches' members.
    assert shape(Person.objects.with_timeline()) == shape(person_queryset(batch_members=False))


def test_the_shape_tells_prefetches_apart():
    """The comparison above is not vacuous: a relation more, or one loaded otherwise, differs."""
    with_members = Person.objects.with_timeline(batch_members=True)
    assert shape(Person.objects.with_timeline()) != shape(with_members)
    assert "batch_memberships__batch__first_memberships" in paths(with_members)
    assert "batch_memberships__batch__first_memberships" not in paths(
        Person.objects.with_timeline()
    )
    other_order = Person.objects.with_timeline().prefetch_related("names__person")
    assert shape(other_order) != shape(Person.objects.with_timeline())


def test_the_person_prefetch_loads_every_relation_a_record_reads():
    assert paths(person_queryset()) >= {
        "names",
        "nationalities",
        "nationalities__citations",
        "affiliations",
        "affiliations__citations",
        "event_roles",
        "event_roles__event",
        "event_roles__event__people",
        "event_roles__event__people__person__names",
        "event_roles__event__organizations",
        "event_roles__event__facility__controls",
        "event_roles__event__citations",
        "batch_memberships",
        "batch_memberships__citations",
        "batch_memberships__batch__first_memberships",
        "citations",
        "corrections",
    }


@pytest.mark.django_db
def test_the_admin_prefetch_holds_drafts_and_the_public_one_published_facts_only():
    person = f.PersonFactory(status=PUBLISHED)
    published = f.EventPersonFactory(person=person, event__status=PUBLISHED).event
    f.EventPersonFactory(person=person)  # a draft event
    f.NationalityFactory(person=person, country="UZ", claim_status="retracted")
    hidden = f.OrganizationFactory()  # a draft organization
    f.AffiliationFactory(person=person, organization=hidden, status=PUBLISHED)
    f.AffiliationFactory(person=person, status=PUBLISHED, organization__status=PUBLISHED)
    Event.objects.filter(pk=published.pk).update(claim_status="retracted")

    admin = Person.objects.with_timeline().get(pk=person.pk)
    public = person_queryset().get(pk=person.pk)

    assert len(admin.subject_roles) == 2
    # Published and retracted: the timeline shows it, marked.
    assert [r.event.pk for r in public.subject_roles] == [published.pk]
    assert len(admin.nationalities.all()) == 1
    assert list(public.nationalities.all()) == []
    assert len(admin.affiliations.all()) == 2
    assert [a.organization.is_public for a in public.affiliations.all()] == [True]


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [2, 5, 30])
def test_the_first_members_of_each_batch_are_those_the_sliced_prefetch_reads(
    limit, django_assert_num_queries
):
    """`batch.first_memberships` (a LATERAL join with a LIMIT) holds what Django's prefetch of a
    sliced queryset (a window over every member) holds: the queryset's filters apply first."""
    big, small, empty = (f.ReleaseBatchFactory(status=PUBLISHED) for _ in range(3))
    for i in range(12):
        # Drafts among the first: they do not count towards the limit.
        status = PublicationStatus.DRAFT if i % 3 == 0 else PUBLISHED
        f.BatchMembershipFactory(batch=big, person=f.PersonFactory(status=status))
        if i < 3:
            f.BatchMembershipFactory(batch=small, person=f.PersonFactory(status=PUBLISHED))
    members = BatchMembership.objects.filter(Person.public_q("person__")).order_by("pk")[:limit]
    batches = ReleaseBatch.objects.order_by("pk")

    def firsts(path):
        prefetch = Prefetch(path, queryset=members.select_related("person"), to_attr="firsts")
        return {
            b.pk: [(m.pk, m.person.pk) for m in b.firsts]
            for b in batches.prefetch_related(prefetch)
        }

    reference = firsts("memberships")
    assert reference[empty.pk] == []
    assert len(reference[big.pk]) == min(limit, 8)
    with django_assert_num_queries(2):
        assert firsts("first_memberships") == reference
