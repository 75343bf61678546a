"""The stored lists' triggers watch every table and column the lists are computed from.

The triggers were written by hand (migration 0024); the facets and the listed columns are code
that changes. These tests read both from PostgreSQL: what the computing SQL depends on, and what
the installed triggers fire on, so a facet reading a column no trigger watches fails here
instead of leaving the lists stale.
"""

import dataclasses

import pytest
from django.db import connection
from django.db.models import F, Value

from detainees.domain.models import Affiliation, EventOrganization
from detainees.read import listing_store
from detainees.read.facets import EVENT_FACETS, FACETS, Facet, subject_roles
from detainees.read.listing_store import COLUMNS_READER, EVERY_COLUMN, Read

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("store", listing_store.STORES, ids=lambda s: s.name)
def test_the_triggers_watch_everything_a_stored_list_is_computed_from(store):
    assert listing_store.unwatched(store) == []


def test_what_the_people_list_reads_is_found_in_its_facets_and_columns():
    found = listing_store.reads(listing_store.PEOPLE)
    assert {
        Read(COLUMNS_READER, "detainees_personname", "name"),
        Read(COLUMNS_READER, "detainees_event", "custody_end_reason"),
        Read("nationality", "detainees_nationality", "country"),
        Read("nationality", "detainees_nationality", "claim_status"),
        Read("custodian", "detainees_facilitycontrol", "claim_status"),
        Read("custodian", "detainees_organization", "status"),
        Read("country", "detainees_place", "country"),
        Read("province", "detainees_place", "parent_id"),
    } <= found
    # Names are not stored (the counts read them when they show them): renaming changes no row.
    assert Read("organization", "detainees_organization", "name") not in found
    assert {r.reader for r in found} == {COLUMNS_READER, *FACETS} - {"status"}


def test_what_the_events_list_reads_is_found_in_its_facets():
    found = listing_store.reads(listing_store.EVENTS)
    assert {
        Read("year", "detainees_event", "date_earliest"),
        Read("force", "detainees_eventorganization", "role"),
        Read("group", "detainees_organization", "slug"),
        Read("province", "detainees_place", "kind"),
    } <= found
    assert {r.reader for r in found} == {COLUMNS_READER, *EVENT_FACETS}


def test_the_installed_triggers_are_read_as_migration_0024_wrote_them():
    people = listing_store.watched(listing_store.PEOPLE)
    assert people["detainees_nationality"] == {EVERY_COLUMN}
    assert people["detainees_facilitycontrol"] == {EVERY_COLUMN}
    assert people["detainees_organization"] == {"slug", "status"}
    assert people["detainees_place"] == {"slug", "status", "kind", "parent_id", "country"}
    events = listing_store.watched(listing_store.EVENTS)
    assert set(events) == {
        "detainees_event",
        "detainees_eventorganization",
        "detainees_organization",
        "detainees_place",
    }


def with_facet(store, facet):
    return dataclasses.replace(store, facets={**store.facets, facet.name: facet})


def test_a_facet_reading_a_column_no_trigger_watches_is_found():
    # Organizations are watched for their slug and status only: their kind changes no row yet.
    by_kind = Facet(
        "organization_kind",
        "Kind of affiliated organization",
        lambda: [
            Affiliation.objects.public().values(
                person_key=F("person_id"), value=F("organization__kind"), label=Value("")
            )
        ],
    )
    store = with_facet(listing_store.PEOPLE, by_kind)
    assert listing_store.unwatched(store) == [
        Read("organization_kind", "detainees_organization", "kind")
    ]


def test_a_facet_reading_a_table_no_trigger_watches_is_found():
    by_source = Facet(
        "source",
        "Cited in",
        lambda: [
            subject_roles().values(
                person_key=F("person_id"),
                value=F("event__citations__source__title"),
                label=Value(""),
            )
        ],
    )
    store = with_facet(listing_store.PEOPLE, by_source)
    missing = listing_store.unwatched(store)
    assert {r.table for r in missing} == {"detainees_citation", "detainees_source"}
    assert Read("source", "detainees_source", "title") in missing
    assert Read("source", "detainees_citation", "event_id") in missing


def test_an_event_facet_reading_an_unwatched_column_is_found():
    by_kind = Facet(
        "organization_kind",
        "Kind of organization",
        lambda: [
            EventOrganization.objects.public().values(
                event_key=F("event_id"), value=F("organization__kind"), label=Value("")
            )
        ],
        key="event_key",
    )
    store = with_facet(listing_store.EVENTS, by_kind)
    assert listing_store.unwatched(store) == [
        Read("organization_kind", "detainees_organization", "kind")
    ]


def test_a_dropped_trigger_is_found():
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER people_list_update ON detainees_nationality")
    missing = listing_store.unwatched(listing_store.PEOPLE)
    assert Read("nationality", "detainees_nationality", "country") in missing
    assert Read("nationality", "detainees_nationality", "claim_status") in missing
    assert {r.table for r in missing} == {"detainees_nationality"}


def test_a_trigger_no_longer_comparing_a_column_read_is_found():
    # The people list's trigger on places, as if it had been written before the country facet.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('detainees_place_people_list_touch'::regproc)")
        (definition,) = cursor.fetchone()
        assert ", n.country" in definition
        cursor.execute(definition.replace(", n.country", "").replace(", o.country", ""))
    assert listing_store.unwatched(listing_store.PEOPLE) == [
        Read("country", "detainees_place", "country")
    ]
