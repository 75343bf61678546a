"""Every rule the database holds rejects a bad row written with raw SQL, outside Django."""

import pytest
from django.db import IntegrityError, connection, transaction

from detainees.domain.models import Event, Place, Source
from tests import factories as f

pytestmark = pytest.mark.django_db


def rejects(sql: str, params=()) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def accepts(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


EVENT_UPDATES = {
    "bounds out of order": "date_earliest = '2012-01-01', date_latest = '2011-01-01'",
    "unknown date with bounds": "date = '', date_earliest = '2011-01-01'",
    "unknown kind": "kind = 'kidnap'",
    "unknown claim status": "claim_status = 'rumoured'",
    "unknown publication status": "status = 'live'",
    "capture with an end date": "end_date = '2012', end_date_earliest = '2012-01-01', "
    "end_date_latest = '2012-12-31'",
    "capture with a custody end reason": "custody_end_reason = 'escape'",
    "capture with a release kind": "release_kind = 'pardon'",
    "capture with a re-engagement status": "reengagement = 'confirmed'",
    "negative count of unnamed people": "unnamed_count = -1",
    "negative strength estimate": "strength_estimate = -5",
    "unknown release kind": "kind = 'release', release_kind = 'bribe'",
    "re-engagement without a status": "kind = 'reengagement'",
}


@pytest.mark.parametrize("update", EVENT_UPDATES.values(), ids=EVENT_UPDATES.keys())
def test_event_row_rules_hold_outside_django(update):
    event = f.EventFactory(kind=Event.Kind.CAPTURE, date="2011-04-20")
    rejects(f"UPDATE detainees_event SET {update} WHERE id = %s", [event.pk])  # noqa: S608 (names from the models)


def test_custody_cannot_end_before_it_starts():
    event = f.EventFactory(kind=Event.Kind.CUSTODY, date="2012", end_date="2013")
    rejects(
        "UPDATE detainees_event SET end_date = '2010', end_date_earliest = '2010-01-01', "
        "end_date_latest = '2010-12-31' WHERE id = %s",
        [event.pk],
    )


def test_only_transfers_have_a_facility_left():
    event = f.EventFactory(kind=Event.Kind.CAPTURE)
    facility = f.FacilityFactory()
    rejects(
        "UPDATE detainees_event SET from_facility_id = %s WHERE id = %s", [facility.pk, event.pk]
    )
    transfer = f.EventFactory(kind=Event.Kind.TRANSFER)
    accepts(
        "UPDATE detainees_event SET from_facility_id = %s WHERE id = %s",
        [facility.pk, transfer.pk],
    )


def test_a_person_has_at_most_one_primary_name():
    person = f.PersonFactory(name="Qari Bilal")
    rejects(
        "INSERT INTO detainees_personname (person_id, name, kind, is_primary, language, "
        "claim_status) VALUES (%s, 'Bilal', 'common', true, '', 'reported')",
        [person.pk],
    )
    accepts(
        "INSERT INTO detainees_personname (person_id, name, kind, is_primary, language, "
        "claim_status) VALUES (%s, 'Bilal', 'common', false, '', 'reported')",
        [person.pk],
    )


def test_a_name_is_never_empty_nor_repeated_for_one_person():
    person = f.PersonFactory(name="Qari Bilal")
    insert = (
        "INSERT INTO detainees_personname (person_id, name, kind, is_primary, language, "
        "claim_status) VALUES (%s, %s, 'common', false, '', 'reported')"
    )
    rejects(insert, [person.pk, ""])
    accepts(insert, [person.pk, "Belal"])
    rejects(insert, [person.pk, "Belal"])


def test_birth_bounds_must_be_ordered():
    person = f.PersonFactory()
    rejects(
        "UPDATE detainees_person SET birth = '1970', birth_earliest = '1971-01-01', "
        "birth_latest = '1970-01-01' WHERE id = %s",
        [person.pk],
    )


PLACE_UPDATES = {
    "country with a parent": ("country", "parent_id = {other}"),
    "province without a parent": ("province", "parent_id = NULL"),
    "latitude out of range": ("province", "latitude = 91, longitude = 10"),
    "one coordinate only": ("province", "latitude = 36.7"),
    "country code not ISO": ("province", "country = 'af'"),
    "unknown kind": ("province", "kind = 'village'"),
}


@pytest.mark.parametrize("kind,update", PLACE_UPDATES.values(), ids=PLACE_UPDATES.keys())
def test_place_row_rules_hold_outside_django(kind, update):
    country = f.CountryFactory()
    province = f.PlaceFactory(parent=country)
    place = country if kind == Place.Kind.COUNTRY else province
    other = province.pk if place is country else country.pk
    rejects(f"UPDATE detainees_place SET {update.format(other=other)} WHERE id = %s", [place.pk])  # noqa: S608 (names from the models)


def test_a_place_name_is_unique_under_its_parent_and_each_country_has_one_row():
    country = f.CountryFactory()
    f.PlaceFactory(parent=country, name="Kunduz")
    province = f.PlaceFactory(parent=country, name="Parwan")
    rejects("UPDATE detainees_place SET name = 'Kunduz' WHERE id = %s", [province.pk])
    pakistan = Place.objects.create(name="Pakistan", kind=Place.Kind.COUNTRY, country="PK")
    rejects("UPDATE detainees_place SET country = 'AF' WHERE id = %s", [pakistan.pk])


def test_an_organization_is_not_its_own_parent_and_names_are_unique():
    org = f.OrganizationFactory(name="ISAF")
    rejects("UPDATE detainees_organization SET parent_id = id WHERE id = %s", [org.pk])
    other = f.OrganizationFactory()
    rejects("UPDATE detainees_organization SET name = 'ISAF' WHERE id = %s", [other.pk])
    rejects("UPDATE detainees_organization SET kind = 'club' WHERE id = %s", [other.pk])


def test_a_confidential_source_is_never_published():
    source = f.SourceFactory(is_confidential=True)
    rejects("UPDATE detainees_source SET status = 'published' WHERE id = %s", [source.pk])
    public = f.SourceFactory()
    accepts("UPDATE detainees_source SET status = 'published' WHERE id = %s", [public.pk])


def test_a_publisher_reference_and_a_url_identify_one_source():
    isaf = f.OrganizationFactory()
    f.SourceFactory(publisher=isaf, reference_number="2011-04-S-034", url="https://a.example/1")
    other = f.SourceFactory(publisher=isaf)
    rejects(
        "UPDATE detainees_source SET reference_number = '2011-04-S-034' WHERE id = %s", [other.pk]
    )
    rejects("UPDATE detainees_source SET url = 'https://a.example/1' WHERE id = %s", [other.pk])
    rejects("UPDATE detainees_source SET kind = 'tweet' WHERE id = %s", [other.pk])
    rejects("UPDATE detainees_source SET title = '' WHERE id = %s", [other.pk])
    assert Source.objects.filter(reference_number="").count() == 1


def test_a_citation_supports_exactly_one_fact():
    citation = f.CitationFactory()
    rejects("UPDATE detainees_citation SET event_id = NULL WHERE id = %s", [citation.pk])
    person = f.PersonFactory()
    rejects("UPDATE detainees_citation SET person_id = %s WHERE id = %s", [person.pk, citation.pk])


def test_a_batch_cannot_release_more_than_it_covered():
    batch = f.ReleaseBatchFactory(declared_considered=88, declared_released=65)
    rejects("UPDATE detainees_releasebatch SET declared_released = 89 WHERE id = %s", [batch.pk])
    rejects("UPDATE detainees_releasebatch SET declared_considered = -1 WHERE id = %s", [batch.pk])


def test_a_person_is_listed_once_per_batch_with_a_known_inclusion_value():
    membership = f.BatchMembershipFactory()
    rejects(
        "INSERT INTO detainees_batchmembership (batch_id, person_id, inclusion, note, "
        "claim_status) VALUES (%s, %s, 'released', '', 'reported')",
        [membership.batch_id, membership.person_id],
    )
    rejects(
        "UPDATE detainees_batchmembership SET inclusion = 'maybe' WHERE id = %s", [membership.pk]
    )


def test_two_controllers_cannot_certainly_hold_a_facility_on_the_same_day():
    control = f.FacilityControlFactory(start="2010", end="2013-03")
    insert = (
        "INSERT INTO detainees_facilitycontrol (facility_id, controller_id, start, "
        'start_earliest, start_latest, "end", end_earliest, end_latest, claim_status, note) '
        "VALUES (%s, %s, %s, %s, %s, '', NULL, NULL, 'reported', '')"
    )
    other = f.OrganizationFactory()
    rejects(insert, [control.facility_id, other.pk, "2012", "2012-01-01", "2012-12-31"])
    # A handover dated only to the month: both controllers may hold it in March, neither is
    # certain to on any one day, so the rows stand.
    accepts(insert, [control.facility_id, other.pk, "2013-03", "2013-03-01", "2013-03-31"])


def test_facility_control_and_affiliation_cannot_end_before_they_start():
    control = f.FacilityControlFactory(start="2012", end="2013")
    rejects(
        "UPDATE detainees_facilitycontrol SET \"end\" = '2010', end_earliest = '2010-01-01', "
        "end_latest = '2010-12-31' WHERE id = %s",
        [control.pk],
    )
    affiliation = f.AffiliationFactory(start="2012", end="2013")
    rejects(
        "UPDATE detainees_affiliation SET \"end\" = '2010', end_earliest = '2010-01-01', "
        "end_latest = '2010-12-31' WHERE id = %s",
        [affiliation.pk],
    )
    rejects(
        "UPDATE detainees_affiliation SET strength_estimate = -300 WHERE id = %s",
        [affiliation.pk],
    )


def test_nationality_is_an_iso_code_given_once():
    nationality = f.NationalityFactory(country="UZ")
    rejects("UPDATE detainees_nationality SET country = 'uz' WHERE id = %s", [nationality.pk])
    rejects(
        "INSERT INTO detainees_nationality (person_id, country, claim_status) "
        "VALUES (%s, 'UZ', 'reported')",
        [nationality.person_id],
    )


def test_roles_in_events_are_known_values_given_once():
    role = f.EventPersonFactory()
    rejects("UPDATE detainees_eventperson SET role = 'witness' WHERE id = %s", [role.pk])
    rejects(
        "INSERT INTO detainees_eventperson (event_id, person_id, role, capacity, note) "
        "VALUES (%s, %s, 'subject', '', '')",
        [role.event_id, role.person_id],
    )
    org = f.OrganizationFactory()
    rejects(
        "INSERT INTO detainees_eventorganization (event_id, organization_id, role, note) "
        "VALUES (%s, %s, 'bystander', '')",
        [role.event_id, org.pk],
    )
