"""Every list on a record's page is paged: a force's captures, a batch's members, a place's
events; a person page names a few members of each batch and links to the batch for the rest."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import EventOrganization, PublicationStatus
from detainees.read.pages import SECTION_PAGE_SIZE
from detainees.read.person import RELATED_PER_BATCH
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def captures_by(force, n):
    for day in range(n):
        event = f.EventFactory(
            status=PUBLISHED,
            summary=f"Capture number {day}",
            date=f"2011-{1 + day // 28:02d}-{1 + day % 28:02d}",
        )
        EventOrganization.objects.create(
            event=event, organization=force, role=EventOrganization.Role.CAPTURING_FORCE
        )


def summaries(html):
    return re.findall(r"Capture number (\d+)", html)


def next_link(html, name):
    found = re.search(rf'href="(\?[^"]*{name}_after=[^"#]+)#{name}"', html)
    return found and found.group(1).replace("&amp;", "&")


def test_a_forces_captures_come_a_page_at_a_time_without_repeats(client):
    force = f.OrganizationFactory(name="Task Force", status=PUBLISHED)
    captures_by(force, SECTION_PAGE_SIZE * 2 + 7)
    url = force.get_absolute_url()
    seen, pages, link = [], 0, ""
    while link is not None:
        response = client.get(url + link)
        assert response.status_code == 200
        html = response.content.decode()
        shown = summaries(html)
        assert len(shown) <= SECTION_PAGE_SIZE
        seen += shown
        pages += 1
        link = next_link(html, "captures")
    assert pages == 3
    assert sorted(map(int, seen)) == list(range(SECTION_PAGE_SIZE * 2 + 7))


def test_the_first_page_costs_the_same_queries_however_many_captures(client):
    counts = []
    for n in (3, SECTION_PAGE_SIZE * 2):
        force = f.OrganizationFactory(name=f"Force {n}", status=PUBLISHED)
        captures_by(force, n)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(force.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_edited_section_cursor_is_a_400(client):
    force = f.OrganizationFactory(name="Task Force", status=PUBLISHED)
    response = client.get(force.get_absolute_url() + "?captures_after=bm90IGEgY3Vyc29y")
    assert response.status_code == 400


def test_a_batchs_members_are_paged(client):
    batch = f.ReleaseBatchFactory(status=PUBLISHED)
    for i in range(SECTION_PAGE_SIZE + 5):
        f.BatchMembershipFactory(
            batch=batch, person=f.PersonFactory(name=f"Member {i:03d}", status=PUBLISHED)
        )
    first = client.get(batch.get_absolute_url()).content.decode()
    later = client.get(batch.get_absolute_url() + next_link(first, "members")).content.decode()
    names = re.findall(r"Member (\d{3})", first) + re.findall(r"Member (\d{3})", later)
    assert sorted(names) == [f"{i:03d}" for i in range(SECTION_PAGE_SIZE + 5)]
    assert next_link(later, "members") is None


def test_a_place_page_pages_its_events(client):
    province = f.PlaceFactory(name="Kunduz", status=PUBLISHED)
    for day in range(SECTION_PAGE_SIZE + 1):
        f.EventFactory(
            status=PUBLISHED,
            place=province,
            summary=f"Capture number {day}",
            date=f"2012-01-{1 + day % 28:02d}",
        )
    html = client.get(province.get_absolute_url()).content.decode()
    assert len(summaries(html)) == SECTION_PAGE_SIZE
    assert next_link(html, "events")


def test_a_person_page_names_a_few_of_a_large_batch_and_links_to_the_rest(client):
    batch = f.ReleaseBatchFactory(status=PUBLISHED, title="Decree of many")
    person = f.PersonFactory(name="Qari Test", status=PUBLISHED)
    f.BatchMembershipFactory(batch=batch, person=person)
    for i in range(RELATED_PER_BATCH + 10):
        f.BatchMembershipFactory(
            batch=batch, person=f.PersonFactory(name=f"Member {i:03d}", status=PUBLISHED)
        )
    html = client.get(person.get_absolute_url()).content.decode()
    assert len(set(re.findall(r"Member (\d{3})", html))) == RELATED_PER_BATCH
    assert f'More people named in <a href="{batch.get_absolute_url()}">Decree of many</a>' in html


def test_a_small_batch_is_named_whole_without_a_more_link(client):
    batch = f.ReleaseBatchFactory(status=PUBLISHED, title="Small decree")
    person = f.PersonFactory(name="Qari Test", status=PUBLISHED)
    f.BatchMembershipFactory(batch=batch, person=person)
    for i in range(3):
        f.BatchMembershipFactory(
            batch=batch, person=f.PersonFactory(name=f"Member {i:03d}", status=PUBLISHED)
        )
    html = client.get(person.get_absolute_url()).content.decode()
    assert len(set(re.findall(r"Member (\d{3})", html))) == 3
    assert "More people named in" not in html
