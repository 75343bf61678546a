"""Atom feeds and the figures page, on the demo case and made-up records."""

import xml.etree.ElementTree as ET

import pytest

from detainees.domain.models import Event, Person, PublicationStatus
from tests import factories as f

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def demo(demo):
    return Person.objects.get(slug="qari-bilal")


def entries(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    return [e.find(f"{ATOM}title").text for e in root.iter(f"{ATOM}entry")]


def test_the_releases_feed_lists_published_releases_only(client, demo):
    draft = f.EventFactory(kind=Event.Kind.RELEASE, date="2015", summary="secret draft release")
    f.EventPersonFactory(event=draft, person=demo)
    titles = entries(client, "/feeds/releases/")
    assert titles.count("Qari Bilal released (between 20 April 2011 and 2014)") == 2
    assert not any("2015" in t for t in titles)


def test_a_draft_person_is_never_named_in_the_releases_feed(client, demo):
    hidden = f.PersonFactory(name="Hidden Draft Person")
    release = f.EventFactory(
        kind=Event.Kind.RELEASE, date="2014", status=PublicationStatus.PUBLISHED
    )
    f.EventPersonFactory(event=release, person=hidden)
    response = client.get("/feeds/releases/")
    assert "Hidden Draft Person" not in response.content.decode()


def test_a_persons_feed_lists_changes_to_their_record(client, demo):
    titles = entries(client, "/people/qari-bilal/feed/")
    assert any(t.startswith("Capture or arrest (20 April 2011)") for t in titles)
    assert len(titles) == 8
    draft = f.PersonFactory(name="Draft Person")
    assert client.get(f"/people/{draft.slug}/feed/").status_code == 404


def figure(response, slug):
    return next(fig for fig in response.context["figures"] if fig.slug == slug)


def test_figures_count_captures_and_releases_per_year_without_inventing_precision(client, demo):
    response = client.get("/figures/")
    assert response.status_code == 200
    captures = {b.label: b.value for b in figure(response, "captures").bars}
    # The ISAF capture is dated to a day in 2011; the second detention only to 2011-2014.
    assert captures == {"2011": 1, "year uncertain": 1}
    releases = {b.label: b.value for b in figure(response, "releases").bars}
    assert releases == {"year uncertain": 2}
    authority = {b.label: b.value for b in figure(response, "authority").bars}
    assert authority == {"Government of Afghanistan": 2}
    reengaged = {b.label: b.value for b in figure(response, "reengagement").bars}
    assert reengaged == {"Confirmed": 1}
    html = response.content.decode()
    assert "<table" in html and "http" not in html.split("<main")[1].split("</main>")[0]


def test_figures_follow_the_list_filters(client, demo):
    other = f.PersonFactory(name="Other", status=PublicationStatus.PUBLISHED)
    capture = f.EventFactory(
        kind=Event.Kind.CAPTURE, date="2009", status=PublicationStatus.PUBLISHED
    )
    f.EventPersonFactory(event=capture, person=other)
    everyone = {b.label: b.value for b in figure(client.get("/figures/"), "captures").bars}
    assert everyone["2009"] == 1
    released = client.get("/figures/", {"status": "released"})
    assert "2009" not in {b.label for b in figure(released, "captures").bars}
