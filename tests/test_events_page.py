"""The events list: facets that count what they filter, published records only, few queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import ClaimStatus, Event, EventOrganization, PublicationStatus
from detainees.read.facets import EVENT_FACETS
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
MARKER = "PRIVATE-MARKER-7731"


def published_event(**kwargs):
    return f.EventFactory(status=PUBLISHED, **kwargs)


def listed(client, **params) -> list[Event]:
    response = client.get("/events/", {**params, "size": 200})
    assert response.status_code == 200, response.content[:300]
    return response.context["page"].rows


def raid(province, group, *, date="2011-04-20", kind=Event.Kind.CAPTURE):
    place = f.PlaceFactory(
        name=f"District {Event.objects.count()}", kind="district", parent=province
    )
    event = published_event(kind=kind, date=date, place=place, summary=f"Raid {date}")
    EventOrganization.objects.create(
        event=event, organization=group, role=EventOrganization.Role.GROUP
    )
    return event


def test_every_facet_value_narrows_the_list_to_exactly_its_count(client, demo):
    province = f.PlaceFactory(name="Kunar", status=PUBLISHED)
    group = f.OrganizationFactory(name="Haqqani Network", status=PUBLISHED)
    raid(province, group, date="2010-05-01")
    raid(province, group, date="2012-01-03", kind=Event.Kind.STRIKE)
    response = client.get("/events/")
    facets = {field.name: counts for field, counts in response.context["facets"]}
    assert set(facets) == set(EVENT_FACETS)
    checked = 0
    for name, counts in facets.items():
        for value, _label, n in counts:
            assert len(listed(client, **{name: value})) == n, (name, value)
            checked += 1
    assert checked >= 12
    # A fuzzy date spanning years has no year: the demo's releases, "2011-04-20/2014", are in none.
    assert ("2012", "2012", 1) in facets["year"]  # the strike; the demo has none that year
    releases = set(Event.objects.filter(kind=Event.Kind.RELEASE))
    assert len(releases) == 2
    for value, _, _ in facets["year"]:
        assert not releases & set(listed(client, year=value))


def test_drafts_retracted_events_and_private_notes_stay_off_the_events_page(client):
    province = f.PlaceFactory(name="Kunar", status=PUBLISHED)
    group = f.OrganizationFactory(name="Draft Group")  # a draft
    shown = raid(province, group)
    f.EventFactory(summary=MARKER)  # a draft event
    published_event(summary=MARKER, claim_status=ClaimStatus.RETRACTED)
    shown.internal_notes = MARKER
    shown.save()
    response = client.get("/events/")
    assert list(response.context["page"].rows) == [shown]
    html = response.content.decode()
    assert MARKER not in html and "Draft Group" not in html
    data = client.get("/api/v1/events/", {"group": group.slug}).json()
    assert data["results"] == []


def test_the_events_page_runs_the_same_queries_for_one_row_and_fifty(client):
    province = f.PlaceFactory(name="Kunar", status=PUBLISHED)
    group = f.OrganizationFactory(name="Taliban", status=PUBLISHED)
    isaf = f.OrganizationFactory(name="ISAF", status=PUBLISHED)

    def add():
        event = raid(province, group)
        EventOrganization.objects.create(
            event=event, organization=isaf, role=EventOrganization.Role.CAPTURING_FORCE
        )
        source = f.SourceFactory(status=PUBLISHED, reference_number="")
        f.CitationFactory(source=source, event=event)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/events/")
        assert response.status_code == 200
        return len(ctx), len(response.context["page"].rows)

    add()
    one = queries()
    for _ in range(49):
        add()
    fifty = queries()
    assert (one[1], fifty[1]) == (1, 50)
    assert one[0] == fifty[0]


def test_a_bad_page_link_or_facet_value_is_handled(client):
    assert client.get("/events/", {"after": "nonsense"}).status_code == 400
    assert client.get("/events/", {"year": "1066"}).status_code == 200
