"""The figures of a whole list are stored (detainees.read.figures.stored_figures) and equal, on
every read, the figures computed live; a write to anything they count makes the next read
compute them again."""

import pytest
from django.db import connection
from django.http import QueryDict

from detainees.domain.models import Event, EventPerson
from detainees.read.figures import figures
from detainees.read.filters import PeoplePageFilterSet, people_for_listing
from detainees.synthetic import generate_dataset

pytestmark = pytest.mark.django_db


def live(params: str = "") -> list:
    filterset = PeoplePageFilterSet(QueryDict(params), queryset=people_for_listing())
    assert filterset.is_valid()
    return figures(filterset.qs)


def stored() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.selection, s.generation FROM detainees_figures_stored s "
            "JOIN detainees_figures_generation g ON g.generation = s.generation"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def dataset():
    generate_dataset(persons=60, events=600, seed=4)


def test_the_stored_figures_equal_the_live_ones_and_follow_every_write(client, dataset):
    for params, selection in (("", "detainees"), ("who=all", "all")):
        first = client.get(f"/figures/?{params}")
        assert first.status_code == 200
        assert first.context["figures"] == live(params)
        assert selection in stored()
        # Read back from the store: still equal.
        assert client.get(f"/figures/?{params}").context["figures"] == live(params)

    # A release moved to another year, a capture's subject removed: what is stored is stale.
    release = Event.objects.public().filter(kind=Event.Kind.RELEASE).exclude(date="").first()
    Event.objects.filter(pk=release.pk).update(
        date="1990", date_earliest="1990-01-01", date_latest="1990-12-31"
    )
    assert stored() == {}
    capture = EventPerson.objects.filter(event__kind=Event.Kind.CAPTURE, role="subject").first()
    EventPerson.objects.filter(pk=capture.pk).delete()
    for params in ("", "who=all"):
        response = client.get(f"/figures/?{params}")
        assert response.context["figures"] == live(params)
        assert any(b.label == "1990" for f in response.context["figures"] for b in f.bars)


def test_a_filtered_selection_is_computed_live_and_not_stored(client, dataset):
    response = client.get("/figures/?status=in_custody")
    assert response.status_code == 200
    assert response.context["figures"] == live("status=in_custody")
    assert stored() == {}
