"""The Qari Bilal case as load_demo imports it from data/demo/, and the local admin bootstrap."""

import stat
import uuid
from datetime import date
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Nationality,
    Person,
    PublicationStatus,
    Publishable,
    ReleaseBatch,
)
from detainees.read.timeline import consistency_warnings, custodian_on, status_line, timeline
from detainees.write.demo import PERSON_SLUG, load_demo
from tests import factories as f

pytestmark = pytest.mark.django_db

US_FORCES = "United States Forces – Afghanistan"
AFGHAN_GOVERNMENT = "Government of Afghanistan"


@pytest.fixture
def bilal(demo):
    """The demo as load_demo() entered it (the shared `demo` is that load)."""
    return Person.objects.with_timeline().get(slug=PERSON_SLUG)


def detainee_models():
    return list(apps.get_app_config("detainees").get_models())


def snapshot():
    """Row counts of every model, and every row's `updated` stamp where it has one."""
    rows = {}
    for model in detainee_models():
        rows[model._meta.label] = model.objects.count()
        if any(f.name == "updated" for f in model._meta.get_fields()):
            rows[f"{model._meta.label}.updated"] = sorted(
                model.objects.values_list("pk", "updated")
            )
    return rows


def read_person_page(person) -> list:
    """Touch everything the person page shows: names, timeline rows, sources, status, warnings."""
    seen = [person.display_name, [n.name for n in person.names.all()]]
    for entry in timeline(person):
        event = entry.event
        seen += [event.place and event.place.label, event.facility and event.facility.name]
        seen += [c.text for c in entry.custodians]
        seen += [(p.person.display_name, p.role) for p in event.people.all()]
        seen += [str(o) for o in event.organizations.all()]
        seen += [(c.source.title, str(c.source.publisher), c.quote) for c in event.citations.all()]
    for affiliation in person.affiliations.all():
        seen += [str(affiliation), affiliation.place and affiliation.place.label]
        seen += [c.source.title for c in affiliation.citations.all()]
    seen += [n.country.name for n in person.nationalities.all()]
    seen += [c.quote for n in person.names.all() for c in n.citations.all()]
    for tie in [*person.relationships.all(), *person.relationships_as_other.all()]:
        seen += [str(tie), tie.label_for(person), [c.quote for c in tie.citations.all()]]
    seen += [status_line(person), consistency_warnings(person)]
    return seen


def test_the_timeline_lists_the_events_in_date_order(bilal):
    events = [entry.event for entry in timeline(bilal)]

    assert [e.kind for e in events] == [
        Event.Kind.CUSTODY,  # in a Pakistani jail, start unknown
        Event.Kind.ESCAPE,  # 2010
        Event.Kind.CAPTURE,  # 20 April 2011, ISAF
        Event.Kind.CUSTODY,  # Parwan, inferred
        Event.Kind.RELEASE,
        Event.Kind.CAPTURE,  # detained again by the Afghan authorities
        Event.Kind.RELEASE,
        Event.Kind.REENGAGEMENT,  # 2014
    ]
    earliest = [e.date_earliest or date.min for e in events]
    assert earliest == sorted(earliest)
    assert events[0].date == "" and events[0].end_date == "2010"
    assert events[2].date == "2011-04-20"


def test_the_status_line_reads_released_and_reengaged_confirmed(bilal):
    line = status_line(bilal)

    assert line.startswith("Released")
    assert "ordered by Hamid Karzai, President of Afghanistan" in line
    assert line.endswith("re-engaged, confirmed 2014")


def test_the_person_is_named_with_the_honorific_and_found_by_his_variants(bilal):
    assert bilal.display_name == "Qari Bilal"
    assert {n.name for n in bilal.names.all()} == {"Qari Bilal", "Bilal", "Qari Belal"}
    assert [str(n.country) for n in bilal.nationalities.all()] == ["UZ"]


def test_every_fact_has_at_least_one_citation(bilal):
    for model in (
        Event,
        Affiliation,
        Nationality,
        BatchMembership,
        FacilityControl,
        ReleaseBatch,
    ):
        assert model.objects.exists(), model
        uncited = model.objects.filter(citations__isnull=True)
        assert list(uncited) == [], model

    assert consistency_warnings(bilal) == []
    for person in Person.objects.with_timeline():
        assert consistency_warnings(person) == [], person


def test_every_demo_record_is_published(bilal):
    for model in detainee_models():
        if issubclass(model, Publishable):
            assert not model.objects.exclude(status=PublicationStatus.PUBLISHED).exists(), model


def test_the_parwan_handover_makes_the_government_of_afghanistan_his_custodian_from_march_2013(
    bilal,
):
    assert custodian_on(bilal, date(2012, 6, 15)).name == US_FORCES
    assert custodian_on(bilal, date(2013, 4, 15)).name == AFGHAN_GOVERNMENT

    parwan = next(e for e in timeline(bilal) if e.event.facility is not None)
    assert parwan.is_inferred
    assert parwan.event.organizations_in(EventOrganization.Role.CUSTODIAN) == []
    spans = [(s.organization.name, s.start, s.via_facility) for s in parwan.custodians]
    assert spans == [(US_FORCES, "2011-04-20", True), (AFGHAN_GOVERNMENT, "2013-03", True)]
    assert parwan.custodians[0].end == "2013-03"


def test_the_escape_ends_a_custody_in_pakistan_with_the_facility_unknown(bilal):
    jail = timeline(bilal)[0]

    assert jail.event.facility is None
    assert jail.event.custody_end_reason == Event.CustodyEnd.ESCAPE
    assert [s.organization.name for s in jail.custodians] == ["Government of Pakistan"]


def test_the_february_2014_batch_records_65_of_88_with_his_inclusion_unknown(bilal):
    batch = ReleaseBatch.objects.get()

    assert batch.date == "2014-02"
    assert (batch.declared_released, batch.declared_considered) == (65, 88)
    assert batch.ordered_by.name == AFGHAN_GOVERNMENT
    membership = batch.memberships.get()
    assert membership.person == bilal
    assert membership.inclusion == BatchMembership.Inclusion.UNKNOWN
    assert "not known if Bilal" in membership.citations.get().quote


def test_both_releases_are_bounded_by_the_capture_and_the_article_and_ordered_by_karzai(bilal):
    releases = [e.event for e in timeline(bilal) if e.event.kind == Event.Kind.RELEASE]

    assert len(releases) == 2
    for release in releases:
        assert release.date == "2011-04-20/2014"
        assert release.release_kind == Event.ReleaseKind.PARDON
        ordered = release.people_in(EventPerson.Role.ORDERED_BY)
        assert [(p.person.display_name, p.capacity) for p in ordered] == [
            ("Hamid Karzai", "President of Afghanistan")
        ]
        carried_out = release.organizations_in(EventOrganization.Role.CARRIED_OUT_BY)
        assert [o.name for o in carried_out] == [AFGHAN_GOVERNMENT]


def test_the_reengagement_is_confirmed_with_role_place_and_strength(bilal):
    event = timeline(bilal)[-1].event

    assert event.reengagement == Event.Reengagement.CONFIRMED
    assert (event.role, event.place.name, event.strength_estimate) == ("commander", "Kunduz", 300)
    assert event.strength_note == "more than 300 fighters"
    assert [o.abbreviation for o in event.organizations_in(EventOrganization.Role.GROUP)] == ["IMU"]


def test_the_capture_has_two_sources_one_of_which_carries_an_attribution(bilal):
    capture = next(e.event for e in timeline(bilal) if e.event.date == "2011-04-20")

    assert capture.kind == Event.Kind.CAPTURE
    assert capture.claim_status == ClaimStatus.CONFIRMED
    assert (capture.place.name, capture.place.parent.name) == ("Khanabad", "Kunduz")
    assert (capture.unnamed_count, capture.unnamed_description) == (2, "associates")
    parts = {(o.organization.abbreviation, o.role) for o in capture.organizations.all()}
    # The forces that made the capture, and the group whose leader they came for.
    assert parts == {("ISAF", "capturing_force"), ("ANSF", "partner_force"), ("IMU", "group")}
    related = capture.people_in(EventPerson.Role.RELATED)
    assert [(p.person.display_name, p.note) for p in related] == [
        ("Qari Sibghatullah", "seized at his home")
    ]
    citations = list(capture.citations.all())
    assert len({c.source_id for c in citations}) >= 2
    pajhwok = [c for c in citations if c.source.publisher.name == "Pajhwok Afghan News"]
    assert [c.attribution for c in pajhwok] == ["Kunduz police chief, to Pajhwok Afghan News"]
    isaf = [c for c in citations if c.source.publisher.abbreviation == "ISAF"]
    assert isaf and isaf[0].aspect == "capture, date and place; does not name him"


def test_running_load_demo_twice_changes_nothing(bilal):
    before = snapshot()

    report = load_demo()

    assert (report.created, report.updated) == (0, 0)
    assert snapshot() == before
    assert Person.objects.get(slug=PERSON_SLUG).pk == bilal.pk


def test_the_load_demo_command_says_what_it_created_and_found():
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = out.getvalue()
    out = StringIO()
    call_command("load_demo", stdout=out)

    assert "0 updated" in first and "records created" in first
    assert out.getvalue().startswith("Qari Bilal demo case: 0 records created, 0 updated")


def test_the_load_demo_command_names_what_the_database_refuses_and_writes_nothing():
    # The case takes the facility already there by its name, whose controller for 2010-2014
    # overlaps the case's own control periods.
    parwan = f.FacilityFactory(name="Parwan Detention Facility")
    f.FacilityControlFactory(facility=parwan, start="2010", end="2014")
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("load_demo", stdout=StringIO(), stderr=err)

    assert "facility_controls.csv, line 2: Another organization certainly held" in err.getvalue()
    assert not Person.objects.exists()


def test_load_demo_says_how_to_reset_a_database_holding_an_earlier_versions_case():
    # Before the case was a data package its records got random ids: its person is found by
    # slug, the package's rows are not, and the load is refused rather than doubled.
    f.PersonFactory(slug=PERSON_SLUG, status="published")
    parwan = f.FacilityFactory(name="Parwan Detention Facility")
    f.FacilityControlFactory(facility=parwan, start="2010", end="2014")

    with pytest.raises(CommandError, match="make clean-data"):
        call_command("load_demo", stdout=StringIO(), stderr=StringIO())

    assert Person.objects.count() == 1


def test_with_timeline_reads_the_person_page_in_a_constant_number_of_queries(
    bilal, django_assert_max_num_queries
):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            read_person_page(Person.objects.with_timeline().get(slug=PERSON_SLUG))
        return len(queries)

    with django_assert_max_num_queries(22):
        read_person_page(Person.objects.with_timeline().get(slug=PERSON_SLUG))
    # The case records Qari Bilal's tie to Qari Sibghatullah; one from the other side too, as
    # a relation's nested prefetches (names, citations) run only where it holds rows.
    f.CitationFactory(event=None, relationship=f.RelationshipFactory(other=bilal))
    before = page_queries()

    # A longer timeline with more people, organizations and sources costs no more queries.
    capture = next(e.event for e in timeline(bilal) if e.event.date == "2011-04-20")
    extra = Event.objects.create(kind=Event.Kind.DEATH, date="2015", summary="Reported killed")
    EventPerson.objects.create(event=extra, person=bilal)
    for citation in capture.citations.all():
        # A copy is a new row: it needs its own permanent id as well as its own pk.
        citation.pk, citation.public_id, citation.event = None, uuid.uuid4(), extra
        citation.save()
    # More relatives, on either side, with their sources, cost none either.
    for kind in ("spouse", "captured_with"):
        tie = f.RelationshipFactory(person=bilal, kind=kind)
        f.CitationFactory(event=None, relationship=tie)
        f.RelationshipFactory(other=bilal, kind=kind)
    assert page_queries() == before


# --- ensure_local_admin ---------------------------------------------------------------------


def run_ensure_local_admin() -> str:
    out = StringIO()
    call_command("ensure_local_admin", stdout=out)
    return out.getvalue()


@pytest.fixture
def password_file(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    return tmp_path / ".data" / "admin-password.txt"


def test_ensure_local_admin_creates_the_admin_once_and_stores_the_password(password_file):
    output = run_ensure_local_admin()

    password = password_file.read_text().strip()
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff
    assert user.check_password(password)
    assert len(password) >= 16
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert f"Admin login: http://127.0.0.1:8000/admin/  user: admin  password: {password}" in (
        output
    )


def test_a_second_run_of_ensure_local_admin_keeps_the_password_and_does_not_print_it(
    password_file,
):
    run_ensure_local_admin()
    password = password_file.read_text().strip()

    output = run_ensure_local_admin()

    assert get_user_model().objects.filter(username="admin").count() == 1
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert password_file.read_text().strip() == password
    assert password not in output
    assert str(password_file) in output


def test_ensure_local_admin_leaves_an_existing_admin_alone(password_file):
    get_user_model().objects.create_superuser("admin", "", "chosen-by-hand-123")

    output = run_ensure_local_admin()

    assert get_user_model().objects.get(username="admin").check_password("chosen-by-hand-123")
    assert not password_file.exists()
    assert "password:" not in output
