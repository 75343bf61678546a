"""Pages for organizations, facilities, sources, batches and places."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import (
    Event,
    Facility,
    Organization,
    Place,
    PublicationStatus,
    ReleaseBatch,
    Source,
)
from detainees.read.listing_store import deferred
from tests import factories as f

pytestmark = pytest.mark.django_db


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_an_organization_page_lists_members_captures_and_ordered_releases(client, demo):
    imu = Organization.objects.get(abbreviation="IMU")
    html = page(client, imu.get_absolute_url())
    assert "Qari Bilal" in html and "top commander" in html
    isaf = Organization.objects.get(abbreviation="ISAF")
    captures = page(client, isaf.get_absolute_url()).split("Captures by ISAF")[1]
    assert "20 April 2011" in captures.split("Releases it ordered")[0]
    assert "Qari Bilal" in captures.split("Releases it ordered")[0]
    afghan = Organization.objects.get(name="Government of Afghanistan")
    ordered = page(client, afghan.get_absolute_url()).split("Releases it ordered")[1]
    assert ordered.count("between 20 April 2011 and 2014") == 2


def test_a_facility_page_shows_control_history_and_who_was_held_on_a_date(client, demo):
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    html = page(client, parwan.get_absolute_url())
    assert "Government of Afghanistan" in html and "March 2013" in html
    html = page(client, parwan.get_absolute_url() + "?on=June 2012")
    assert "Qari Bilal" in html.split('id="held-on"')[1].split("Everyone recorded")[0]
    assert "United States Forces" in html.split('id="held-on"')[1]
    html = page(client, parwan.get_absolute_url() + "?on=2010")
    assert "Nobody recorded as held here then." in html
    html = page(client, parwan.get_absolute_url() + "?on=next tuesday", status=400)
    assert "next tuesday" in html


def held_at(facility, count):
    with deferred():  # the stored lists recomputed once, after the last of them
        for i in range(count):
            event = f.EventFactory(
                kind=Event.Kind.CUSTODY,
                date=f"2010-01-{i % 28 + 1:02d}",
                facility=facility,
                status=PublicationStatus.PUBLISHED,
            )
            f.EventPersonFactory(
                event=event, person=f.PersonFactory(name=f"Held {i:03d}", status="published")
            )


def test_a_busy_facility_lists_its_custody_a_page_at_a_time(client):
    facility = f.FacilityFactory(name="Busy jail", status=PublicationStatus.PUBLISHED)
    held_at(facility, 55)
    html = page(client, facility.get_absolute_url())
    everyone = html.split('id="everyone"')[1]
    first = set(re.findall(r"Held \d{3}", everyone))
    assert len(first) == 50
    after = re.search(r'href="\?after=([\w-]+)#everyone"', everyone).group(1)
    rest = page(client, facility.get_absolute_url() + f"?after={after}").split('id="everyone"')[1]
    second = set(re.findall(r"Held \d{3}", rest))
    assert len(second) == 5 and not first & second
    assert 'rel="next"' not in rest
    held = page(client, facility.get_absolute_url() + "?on=January 2010").split('id="held-on"')[1]
    held = held.split('id="everyone"')[0]
    assert len(set(re.findall(r"Held \d{3}", held))) == 50
    assert "held_after=" in held
    page(client, facility.get_absolute_url() + "?after=garbage", status=400)


def test_a_facility_page_runs_the_same_queries_for_one_or_many_held(client):
    def queries(count):
        facility = f.FacilityFactory(status=PublicationStatus.PUBLISHED)
        held_at(facility, count)
        with CaptureQueriesContext(connection) as captured:
            page(client, facility.get_absolute_url() + "?on=2010")
        return len(captured)

    # The facility, its names and controls, and each of the two lists (held then, everyone)
    # with its subjects and their names: not the organizations and sources of the events,
    # which a record page's table does not show.
    assert queries(1) == queries(60) == 9


def test_a_source_page_lists_every_public_fact_citing_it(client, demo):
    pajhwok = Source.objects.get(title="Senior IMU leader captured in Kunduz")
    html = page(client, pajhwok.get_absolute_url())
    assert "Kunduz police chief, to Pajhwok Afghan News" in html
    assert "names the captive" in html


def test_a_batch_page_shows_declared_totals_and_unknown_inclusion(client, demo):
    batch = ReleaseBatch.objects.get()
    html = page(client, batch.get_absolute_url())
    assert "65 released of 88 covered" in html
    assert "Qari Bilal" in html and "unknown whether included" in html


def test_a_place_page_lists_events_inside_it(client, demo):
    kunduz = Place.objects.get(name="Kunduz", kind=Place.Kind.PROVINCE)
    html = page(client, kunduz.get_absolute_url())
    assert "Khanabad" in html and "20 April 2011" in html


def test_drafts_give_404_and_draft_facts_stay_off_pages(client, demo):
    org = f.OrganizationFactory(name="Draft Org")
    page(client, org.get_absolute_url(), status=404)
    confidential = f.SourceFactory(is_confidential=True)
    page(client, confidential.get_absolute_url(), status=404)
    source = f.SourceFactory(status=PublicationStatus.PUBLISHED, title="Public source")
    draft_event = f.EventFactory(kind=Event.Kind.CAPTURE, summary="SECRET-DRAFT-EVENT")
    f.CitationFactory(source=source, event=draft_event, quote="SECRET-QUOTE")
    html = page(client, source.get_absolute_url())
    assert "SECRET" not in html


def test_detail_pages_run_a_fixed_number_of_queries(client, demo):
    imu = Organization.objects.get(abbreviation="IMU")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            page(client, imu.get_absolute_url())
        return len(ctx)

    before = count()
    for i in range(5):
        person = f.PersonFactory(name=f"Member {i}", status=PublicationStatus.PUBLISHED)
        f.AffiliationFactory(person=person, organization=imu, status=PublicationStatus.PUBLISHED)
    assert count() == before
