"""The people rows' citations are read by a union of three index reads
(`detainees.read.citing._row_citation_ids`): exactly the citations of the one condition
`row_citations_q`, which read every citation at 100,000 people."""

import pytest

from detainees.domain.models import Citation, ClaimStatus, Event, Nationality, Person
from detainees.read.citing import _row_citation_ids, row_citations_q
from detainees.synthetic import generate_dataset

pytestmark = pytest.mark.django_db


def test_the_union_selects_what_the_condition_selects():
    generate_dataset(persons=80, events=800, seed=6)
    # Some nationalities retracted, so the union's test of the claim is exercised.
    retracted = list(Nationality.objects.order_by("pk").values_list("pk", flat=True)[::3])
    Nationality.objects.filter(pk__in=retracted).update(claim_status=ClaimStatus.RETRACTED)
    people = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    events = list(Event.objects.order_by("pk").values_list("pk", flat=True))
    cases = [
        (events[:40], people[:30]),
        (events[::7], people[::5]),
        ([], people[10:20]),
        (events[:5], []),
        ([], []),
    ]
    for event_ids, person_ids in cases:
        reference = set(
            Citation.objects.filter(row_citations_q(event_ids, person_ids)).values_list(
                "pk", flat=True
            )
        )
        union = set(
            Citation.objects.filter(pk__in=_row_citation_ids(event_ids, person_ids)).values_list(
                "pk", flat=True
            )
        )
        assert union == reference
    assert reference == set() and union == set()
    event_ids, person_ids = cases[0]
    assert Citation.objects.filter(row_citations_q(event_ids, person_ids)).exists()
