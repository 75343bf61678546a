"""Derived views on made-up records: custodians across a handover, warnings, status line."""

import pytest

from detainees.domain.models import BatchMembership, Event, EventOrganization, Person
from detainees.read.timeline import consistency_warnings, custodians, status_line
from tests import factories as f

pytestmark = pytest.mark.django_db


def held_at(facility, person, **dates):
    event = f.EventFactory(kind=Event.Kind.CUSTODY, facility=facility, **dates)
    f.EventPersonFactory(event=event, person=person)
    return event


def test_a_custodian_span_never_ends_before_it_starts():
    facility = f.FacilityFactory()
    us = f.OrganizationFactory(name="US forces")
    afghan = f.OrganizationFactory(name="Afghan government")
    f.FacilityControlFactory(facility=facility, controller=us, start="2010", end="2013-03")
    f.FacilityControlFactory(facility=facility, controller=afghan, start="2013-03")
    person = f.PersonFactory()
    event = held_at(
        facility,
        person,
        date="2011-04-20",
        end_date="2011-04-20/2014",
        custody_end_reason="release",
    )
    spans = custodians(Event.objects.with_details().get(pk=event.pk))
    assert [(str(s.organization), s.start, s.end) for s in spans] == [
        ("US forces", "2011-04-20", "2013-03"),
        ("Afghan government", "2013-03", "2013-03/2014"),
    ]
    assert spans[1].text == "Afghan government, from March 2013 until between March 2013 and 2014"


def test_a_custodian_named_on_the_episode_wins_over_the_facility_controller():
    facility = f.FacilityFactory()
    f.FacilityControlFactory(facility=facility, start="2010")
    person = f.PersonFactory()
    event = held_at(facility, person, date="2012")
    nds = f.OrganizationFactory(name="NDS")
    EventOrganization.objects.create(event=event, organization=nds, role="custodian")
    spans = custodians(Event.objects.with_details().get(pk=event.pk))
    assert [str(s.organization) for s in spans] == ["NDS"]


def test_an_uncited_batch_membership_is_a_consistency_warning():
    membership = f.BatchMembershipFactory(inclusion=BatchMembership.Inclusion.UNKNOWN)
    person = Person.objects.with_timeline().get(pk=membership.person_id)
    assert any("batch membership" in w for w in consistency_warnings(person))


def test_overlapping_certain_custody_in_two_places_is_a_warning():
    person = f.PersonFactory()
    held_at(
        f.FacilityFactory(),
        person,
        date="2012-01",
        end_date="2012-12",
        custody_end_reason="transfer",
    )
    held_at(
        f.FacilityFactory(),
        person,
        date="2012-06",
        end_date="2013-06",
        custody_end_reason="release",
    )
    person = Person.objects.with_timeline().get(pk=person.pk)
    assert any("Custody episodes overlap" in w for w in consistency_warnings(person))


def test_a_person_still_held_reads_in_custody_with_the_current_controller():
    facility = f.FacilityFactory()
    f.FacilityControlFactory(
        facility=facility, controller=f.OrganizationFactory(name="Afghan government"), start="2013"
    )
    person = f.PersonFactory()
    held_at(facility, person, date="2014-05")
    person = Person.objects.with_timeline().get(pk=person.pk)
    assert status_line(person) == "In custody since May 2014, held by Afghan government"


def test_a_person_with_no_events_has_an_unknown_status():
    person = Person.objects.with_timeline().get(pk=f.PersonFactory().pk)
    assert status_line(person) == "Status unknown"
