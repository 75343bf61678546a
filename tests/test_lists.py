"""The people list reads as a list of detainees, with everyone else one click away, and an
unnamed person reads as what they are, never as an empty link."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.fuzzydates import humanize
from detainees.domain.models import (
    Event,
    EventPerson,
    FacetTotal,
    Person,
    PersonListing,
    PublicationStatus,
)
from detainees.read import listing_store
from detainees.read.listing import DETAINEE_EVENT_KINDS
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
EMPTY_LINK = re.compile(r"<a\b[^>]*>\s*</a>")
DESCRIBED = "unnamed associate, captured with Qari Bilal, 20 April 2011"


def rows(client, path="/people/", **params) -> list[str]:
    """The names in the people list's table, as a reader sees them."""
    response = client.get(path, params)
    assert response.status_code == 200, response.content[:300]
    return re.findall(
        r'<th scope="row"><a href="[^"]+"[^>]*>([^<]*)</a></th>', response.content.decode()
    )


def bilals_capture() -> Event:
    return Event.objects.get(public_id="5f105b51-48ca-4a57-a599-6eb0d7c77558")  # Khanabad, 2011


def associate(event=None, *, capacity="associate") -> Person:
    """A placeholder: someone a source mentions beside Qari Bilal without naming."""
    person = f.PersonFactory(status=PUBLISHED, name=False, is_placeholder=True)
    f.EventPersonFactory(event=event or bilals_capture(), person=person, capacity=capacity)
    return person


def detainee(name: str, date: str = "2012-05-01") -> Person:
    person = f.PersonFactory(status=PUBLISHED, name=name)
    event = f.EventFactory(status=PUBLISHED, kind=Event.Kind.CAPTURE, date=date)
    f.EventPersonFactory(event=event, person=person)
    return person


# --- Detainees by default -----------------------------------------------------------------------


def test_the_default_list_holds_detainees_and_all_people_is_one_click_away(client, demo):
    assert rows(client) == ["Qari Bilal"]
    everyone = rows(client, who="all")
    assert "Hamid Karzai" in everyone and "Qari Sibghatullah" in everyone
    assert len(everyone) == Person.objects.public().count()

    page = client.get("/people/").content.decode()
    assert "<h1>Detainees</h1>" in page
    assert re.search(r'<a href="/people/\?who=all"[^>]*>All people</a>', page)
    assert "<strong>1</strong> detainee match" in page


def test_all_people_is_kept_when_filters_are_applied_and_links_back(client, demo):
    page = client.get("/people/", {"who": "all", "q": "Karzai"}).content.decode()
    # The filters form keeps the choice; the other link keeps the filters.
    assert '<input type="hidden" name="who" value="all">' in page
    assert re.search(r'<a href="/people/\?q=Karzai"[^>]*>Detainees</a>', page)
    assert rows(client, who="all", q="Karzai") == ["Hamid Karzai"]
    assert rows(client, q="Karzai") == []


def test_who_takes_only_its_two_values(client, demo):
    response = client.get("/people/", {"who": "everyone"})
    assert response.status_code == 400
    assert "who" in response.content.decode().lower()


def test_a_release_alone_makes_a_detainee_and_an_order_does_not(client, demo):
    released = f.PersonFactory(status=PUBLISHED, name="Released Only")
    release = f.EventFactory(status=PUBLISHED, kind=Event.Kind.RELEASE, date="2013")
    f.EventPersonFactory(event=release, person=released)
    official = f.PersonFactory(status=PUBLISHED, name="Ordering Official")
    f.EventPersonFactory(event=release, person=official, role=EventPerson.Role.ORDERED_BY)
    struck = f.PersonFactory(status=PUBLISHED, name="Strike Target")
    strike = f.EventFactory(status=PUBLISHED, kind=Event.Kind.STRIKE, date="2013")
    f.EventPersonFactory(event=strike, person=struck)

    listed = rows(client)
    assert "Released Only" in listed
    assert "Ordering Official" not in listed and "Strike Target" not in listed
    assert {Event.Kind.RELEASE, Event.Kind.CAPTURE} <= set(DETAINEE_EVENT_KINDS)
    assert Event.Kind.STRIKE not in DETAINEE_EVENT_KINDS


def test_a_detainee_whose_only_capture_is_unpublished_leaves_the_default_list(client, demo):
    person = detainee("Zed Draft")
    assert "Zed Draft" in rows(client)
    Event.objects.filter(people__person=person).update(status=PublicationStatus.DRAFT)
    assert PersonListing.objects.get(person=person).is_detainee is False
    assert "Zed Draft" not in rows(client) and "Zed Draft" in rows(client, who="all")
    assert listing_store.is_exact()


def test_the_csv_holds_what_the_list_shows(client, demo):
    def names(**params):
        response = client.get("/people.csv", params)
        text = b"".join(response.streaming_content).decode()
        return [r["name"] for r in csv.DictReader(io.StringIO(text))]

    assert names() == rows(client) == ["Qari Bilal"]
    assert names(who="all", sort="-name") == rows(client, who="all", sort="-name")


def test_the_counts_beside_the_filters_count_detainees(client, demo):
    def status_counts(**params):
        response = client.get("/people/", params)
        return {
            value: n
            for field, counts in response.context["facets"]
            if field.name == "status"
            for value, _, n in counts
        }

    # Hamid Karzai and Qari Sibghatullah have no status-changing event: "unknown".
    assert "unknown" not in status_counts()
    assert status_counts(who="all")["unknown"] == 2
    assert sum(status_counts().values()) == 1
    # The stored totals count the detainees apart, and stay exact.
    totals = {t.token: (t.people, t.detainees) for t in FacetTotal.objects.all()}
    assert totals["status=unknown"] == (2, 0)
    assert listing_store.is_exact()


def test_the_figures_count_detainees(client, demo):
    # Re-engaged, but never captured, held or released: not a detainee.
    fighter = f.PersonFactory(status=PUBLISHED, name="Never Held")
    event = f.EventFactory(
        status=PUBLISHED,
        kind=Event.Kind.REENGAGEMENT,
        date="2015",
        reengagement=Event.Reengagement.CONFIRMED,
    )
    f.EventPersonFactory(event=event, person=fighter)

    def reengaged(**params):
        response = client.get("/figures/", params)
        assert response.status_code == 200
        figure = next(x for x in response.context["figures"] if x.slug == "reengagement")
        return figure.total

    assert reengaged() == 1  # Qari Bilal
    assert reengaged(who="all") == 2
    page = client.get("/figures/").content.decode()
    assert "all published detainees" in page


def test_the_api_lists_everyone_and_takes_detainee(client, demo):
    def ids(**params):
        response = client.get("/api/v1/persons/", params)
        assert response.status_code == 200, response.content[:300]
        return {row["name"] for row in response.json()["results"]}

    everyone = ids()
    assert {"Qari Bilal", "Hamid Karzai", "Qari Sibghatullah"} <= everyone
    assert ids(detainee="true") == {"Qari Bilal"}
    assert ids(detainee="false") == everyone - {"Qari Bilal"}
    facets = client.get("/api/v1/persons/facets/", {"detainee": "true"}).json()["facets"]
    site = client.get("/people/").context["facets"]
    assert {
        name: sorted((row["value"], row["count"]) for row in values)
        for name, values in facets.items()
    } == {field.name: sorted((v, n) for v, _, n in counts) for field, counts in site}
    assert client.get("/api/v1/persons/", {"detainee": "maybe"}).status_code == 400


# --- Unnamed people -----------------------------------------------------------------------------


def test_a_placeholder_reads_as_what_it_is_and_sorts_after_named_people(client, demo):
    associate()
    detainee("Zia Zadran")
    detainee("Abdul Aziz")

    assert rows(client) == ["Abdul Aziz", "Qari Bilal", "Zia Zadran", DESCRIBED]
    assert rows(client, sort="-name") == ["Zia Zadran", "Qari Bilal", "Abdul Aziz", DESCRIBED]
    page = client.get("/people/").content.decode()
    assert not EMPTY_LINK.search(page)


def test_unnamed_people_page_after_named_ones_without_gaps(client, demo):
    associate()
    associate(capacity="")
    detainee("Zia Zadran")
    seen, after = [], None
    while True:
        response = client.get("/people/", {"size": 2, **({"after": after} if after else {})})
        seen += [p.pk for p in response.context["page"].rows]
        after = response.context["page"].next_cursor
        if not after:
            break
    listed = client.get("/people/", {"size": 50}).context["page"].rows
    assert seen == [p.pk for p in listed] and len(seen) == 4
    assert [p.unnamed for p in listed] == [False, False, True, True]


def test_a_withheld_name_and_other_roles_are_described_too(client, demo):
    capture = bilals_capture()
    withheld = f.PersonFactory(status=PUBLISHED, name=False, withheld=["name"])
    f.EventPersonFactory(event=capture, person=withheld)
    order = Event.objects.filter(kind=Event.Kind.RELEASE).order_by("date_earliest").first()
    official = f.PersonFactory(status=PUBLISHED, name=False, is_placeholder=True)
    f.EventPersonFactory(event=order, person=official, role=EventPerson.Role.ORDERED_BY)

    listed = rows(client, who="all")
    # Both are unnamed, so both come last, in the order they were recorded.
    assert listed[-2:] == [
        "person whose name the source withholds, captured with Qari Bilal, 20 April 2011",
        f"unnamed person, who ordered the release of Qari Bilal, {humanize(order.date)}",
    ]
    assert rows(client)[-1].startswith("person whose name the source withholds")


def test_no_list_page_has_an_empty_link(client, demo):
    placeholder = associate()
    release = Event.objects.filter(kind=Event.Kind.RELEASE).exclude(batch=None).first()
    if release is None:  # the demo's batch: its releases are listed on its page
        release = Event.objects.filter(kind=Event.Kind.RELEASE).first()
    f.EventPersonFactory(event=release, person=placeholder)
    batch = release.batch or f.ReleaseBatchFactory(status=PUBLISHED)
    f.BatchMembershipFactory(batch=batch, person=placeholder)

    pages = [
        "/people/",
        "/people/?who=all",
        "/people/?sort=-name",
        "/events/",
        "/search/?q=Bilal",
        batch.get_absolute_url(),
        bilals_capture().place.get_absolute_url(),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert not EMPTY_LINK.search(html), (path, EMPTY_LINK.search(html))
    batch_page = client.get(batch.get_absolute_url()).content.decode()
    assert "unnamed associate, captured with Qari Bilal" in batch_page


def queries(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params).status_code == 200
    return len(captured)


def test_describing_unnamed_people_costs_the_same_queries_for_one_or_many(client, demo):
    associate()
    one = queries(client, "/people/")
    for _ in range(5):
        associate()
    detainee("Zia Zadran")
    assert queries(client, "/people/") == one
    assert queries(client, "/people/", who="all") == one
