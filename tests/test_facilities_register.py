"""Detention centres as national registers list them: coordinates of any precision (rounded to
five places, about 1 m, rather than refused), other names, and who operated or owned a site
beside who controlled it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from detainees.domain.models import (
    Event,
    Facility,
    FacilityControl,
    FacilityName,
    Organization,
    Place,
    PublicationStatus,
)
from detainees.read.person import person_page, person_queryset
from detainees.read.search import search_facilities
from detainees.read.timeline import custodian_on
from detainees.write.demo import PERSON_SLUG
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
OPERATOR = FacilityControl.Role.OPERATOR

FACILITIES = """id,name,kind,latitude,longitude
F1,Pul-e-Charkhi Prison,prison,34.5461234,69.3356789
F2,Kandahar Central Prison,prison,31.6087555,65.7072445
"""
FACILITY_NAMES = """id,facility,name,kind,language
FN1,F1,Policharki,spelling,
FN2,F1,زندان پلچرخی,original_script,fa
"""


def write(tmp_path, files: dict[str, str]):
    directory = tmp_path / "register"
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


# --- Coordinates --------------------------------------------------------------------------------


def test_seven_decimal_coordinates_are_imported_rounded_with_no_error(tmp_path):
    files = {"facilities.csv": FACILITIES, "facility_names.csv": FACILITY_NAMES}

    report = import_rows(read_file(write(tmp_path, files)))

    assert ("facilities", 2, 0, 0) in report.rows()
    pul = Facility.objects.get(name="Pul-e-Charkhi Prison")
    assert (pul.latitude, pul.longitude) == (Decimal("34.54612"), Decimal("69.33568"))
    kandahar = Facility.objects.get(name="Kandahar Central Prison")
    # Half to even: ...555 at the fifth place goes to ...56, ...445 to ...44.
    assert (kandahar.latitude, kandahar.longitude) == (Decimal("31.60876"), Decimal("65.70724"))
    assert sorted(pul.names.values_list("name", "kind", "language")) == [
        ("Policharki", "spelling", ""),
        ("زندان پلچرخی", "original_script", "fa"),
    ]
    # The same file again changes nothing: the rounded values are the stored ones.
    again = import_rows(read_file(write(tmp_path / "again", files)))
    assert ("facilities", 0, 0, 2) in again.rows()


def test_a_place_takes_seven_decimal_coordinates_too(tmp_path):
    places = (
        "id,name,kind,country,latitude,longitude\nAF,Afghanistan,country,AF,33.9391107,67.7099532\n"
    )
    import_rows(read_file(write(tmp_path, {"places.csv": places})))
    afghanistan = Place.objects.get()
    assert (afghanistan.latitude, afghanistan.longitude) == (
        Decimal("33.93911"),
        Decimal("67.70995"),
    )


def test_a_coordinate_that_is_no_number_or_out_of_range_is_a_line_numbered_error(tmp_path):
    facilities = (
        "id,name,latitude,longitude\n"
        "F1,Good prison,34.5,69.2\n"
        "F2,Word prison,abc,69.2\n"
        "F3,Polar prison,95.0,69.2\n"
        "F4,Far prison,34.5,-180.001\n"
        "F5,Huge prison,1e999999999,69.2\n"
    )
    path = write(tmp_path, {"facilities.csv": facilities})

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path))

    assert [str(e) for e in refused.value.errors] == [
        "facilities.csv, line 3: latitude: 'abc' is not a number",
        "facilities.csv, line 4: latitude: must be at most 90 (95.0 given)",
        "facilities.csv, line 5: longitude: must be at least -180 (-180.001 given)",
        "facilities.csv, line 6: latitude: must be at most 90 (1e999999999 given)",
    ]
    assert not Facility.objects.exists()


def test_the_database_refuses_a_facility_with_one_coordinate_or_out_of_range():
    facility = f.FacilityFactory()
    for values in ({"latitude": Decimal("34.5")}, {"latitude": 91, "longitude": 10}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Facility.objects.filter(pk=facility.pk).update(**values)


def facility_form(**overrides):
    data = {
        "name": "Pul-e-Charkhi Prison",
        "kind": "prison",
        "latitude": "34.5461234",
        "longitude": "69.3356789",
        "description": "",
        "status": "draft",
        "internal_notes": "",
        "names-TOTAL_FORMS": "1",
        "names-0-name": "Policharki",
        "names-0-kind": "spelling",
        "names-0-language": "",
    }
    for prefix in ("names", "controls", "detainees-reviewcomment-content_type-object_id"):
        data.setdefault(f"{prefix}-TOTAL_FORMS", "0")
        data.update(
            {
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(overrides)
    return data


def test_the_admin_rounds_coordinates_and_saves_other_names(admin_client):
    response = admin_client.post(reverse("admin:detainees_facility_add"), facility_form())

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    facility = Facility.objects.get()
    assert (facility.latitude, facility.longitude) == (Decimal("34.54612"), Decimal("69.33568"))
    assert facility.names.get().name == "Policharki"


@pytest.mark.parametrize("latitude", ["95.1234567", "1e999999999"])
def test_the_admin_shows_an_out_of_range_latitude_as_a_form_error(admin_client, latitude):
    response = admin_client.post(
        reverse("admin:detainees_facility_add"), facility_form(latitude=latitude)
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["latitude"]
    assert "less than or equal to 90" in errors["latitude"][0]
    assert not Facility.objects.exists()


def test_the_api_creates_a_facility_with_rounded_coordinates_and_other_names(as_researcher):
    payload = {
        "name": "Pul-e-Charkhi Prison",
        "kind": "prison",
        "latitude": "34.5461234",
        "longitude": 69.3356789,
        "names": [{"name": "Policharki", "kind": "spelling"}],
    }
    response = as_researcher.post("/api/v1/facilities/", payload, content_type="application/json")

    assert response.status_code == 201, response.content[:500]
    data = response.json()
    assert (data["latitude"], data["longitude"]) == ("34.54612", "69.33568")
    facility = Facility.objects.get(public_id=data["id"])
    assert facility.status == PublicationStatus.DRAFT
    assert (facility.latitude, facility.longitude) == (Decimal("34.54612"), Decimal("69.33568"))
    assert data["names"] == [{"name": "Policharki", "kind": "spelling", "language": ""}]


def test_the_api_answers_400_for_a_coordinate_out_of_range_or_not_a_number(as_researcher):
    payload = {"name": "Polar prison", "latitude": "1e999999999", "longitude": "abc"}
    response = as_researcher.post("/api/v1/facilities/", payload, content_type="application/json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"latitude", "longitude"}
    assert "90" in errors["latitude"][0]
    payload = {"name": "Polar prison", "latitude": 95.0, "longitude": 69.2}
    response = as_researcher.post("/api/v1/facilities/", payload, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["latitude"]
    assert not Facility.objects.exists()


def test_the_api_rounds_a_places_coordinates_too(as_researcher):
    payload = {"name": "Afghanistan", "kind": "country", "country": "AF"}
    payload |= {"latitude": "33.9391107", "longitude": "67.7099532"}
    response = as_researcher.post("/api/v1/places/", payload, content_type="application/json")

    assert response.status_code == 201, response.content[:500]
    assert (response.json()["latitude"], response.json()["longitude"]) == ("33.93911", "67.70995")


# --- Other names --------------------------------------------------------------------------------


@pytest.fixture
def pul_e_charkhi():
    facility = f.FacilityFactory(
        name="Pul-e-Charkhi Prison",
        status=PUBLISHED,
        latitude=Decimal("34.54612"),
        longitude=Decimal("69.33568"),
    )
    FacilityName.objects.create(facility=facility, name="Policharki", kind="spelling")
    FacilityName.objects.create(
        facility=facility, name="Kabul Central Prison", kind=FacilityName.Kind.OFFICIAL
    )
    return facility


def test_the_facility_search_finds_a_facility_by_another_name(pul_e_charkhi):
    f.FacilityFactory(name="Kandahar Central Prison", status=PUBLISHED)

    assert list(search_facilities("Policharki")) == [pul_e_charkhi]
    assert list(search_facilities("Polichirki")) == [pul_e_charkhi]  # a near spelling
    assert search_facilities("Kabul Central Prison")[0] == pul_e_charkhi


def test_the_site_search_finds_a_facility_by_another_name(client, pul_e_charkhi):
    response = client.get("/search/", {"q": "Policharki"})
    assert response.status_code == 200
    assert pul_e_charkhi.get_absolute_url() in response.content.decode()


def test_the_facility_page_and_api_show_other_names_and_coordinates(client, pul_e_charkhi):
    html = client.get(pul_e_charkhi.get_absolute_url()).content.decode()
    assert "Also known as" in html
    assert "Policharki" in html and "Kabul Central Prison" in html
    assert "34.54612" in html and "69.33568" in html

    data = client.get(f"/api/v1/facilities/{pul_e_charkhi.public_id}/").json()
    assert data["names"] == [
        {"name": "Kabul Central Prison", "kind": "official", "language": ""},
        {"name": "Policharki", "kind": "spelling", "language": ""},
    ]
    assert (data["latitude"], data["longitude"]) == ("34.54612", "69.33568")


def test_a_draft_facilitys_other_names_are_not_found(pul_e_charkhi):
    Facility.objects.filter(pk=pul_e_charkhi.pk).update(status=PublicationStatus.DRAFT)
    assert list(search_facilities("Policharki")) == []


def test_the_facility_list_in_the_api_runs_the_same_queries_for_one_or_many(client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/facilities/").status_code == 200
        return len(captured)

    army = f.OrganizationFactory(status=PUBLISHED)
    facility = f.FacilityFactory(status=PUBLISHED)
    FacilityName.objects.create(facility=facility, name="Other 0")
    f.FacilityControlFactory(facility=facility, controller=army, start="2010")
    one = queries()
    for i in range(1, 6):
        facility = f.FacilityFactory(status=PUBLISHED)
        FacilityName.objects.create(facility=facility, name=f"Other {i}")
        f.FacilityControlFactory(facility=facility, controller=army, start="2010")
    assert queries() == one


# --- Operators and owners -----------------------------------------------------------------------


def control(facility, organization, start, end="", role=FacilityControl.Role.CONTROLLER):
    row = FacilityControl(
        facility=facility,
        controller=organization,
        role=role,
        start=start,
        end=end,
        claim_status="confirmed",
    )
    row.full_clean()
    row.save()
    return row


def test_an_operator_period_may_overlap_a_controller_period():
    facility = f.FacilityFactory()
    control(facility, f.OrganizationFactory(name="Army"), "2010", "2014")
    control(facility, f.OrganizationFactory(name="Police unit"), "2011", "2013", role=OPERATOR)
    control(facility, f.OrganizationFactory(name="Ministry"), "2005", role="owner")

    assert FacilityControl.objects.filter(facility=facility).count() == 3
    assert list(FacilityControl.objects.controllers().values_list("controller__name")) == [
        ("Army",)
    ]


def test_two_operators_cannot_certainly_run_a_facility_at_once():
    facility = f.FacilityFactory()
    control(facility, f.OrganizationFactory(), "2011", "2013", role=OPERATOR)
    second = FacilityControl(
        facility=facility,
        controller=f.OrganizationFactory(),
        role=OPERATOR,
        start="2012",
        end="2014",
    )
    with pytest.raises(ValidationError, match="certainly held this role"):
        second.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_the_admin_refuses_two_overlapping_operators_as_a_form_error(admin_client):
    facility = f.FacilityFactory()
    police, guards = f.OrganizationFactory(name="Police"), f.OrganizationFactory(name="Guards")
    data = facility_form(
        name=facility.name,
        latitude="",
        longitude="",
        **{
            "names-TOTAL_FORMS": "0",
            "controls-TOTAL_FORMS": "2",
            "controls-0-role": "operator",
            "controls-0-controller": str(police.pk),
            "controls-0-start": "2011",
            "controls-0-end": "2013",
            "controls-0-claim_status": "confirmed",
            "controls-1-role": "operator",
            "controls-1-controller": str(guards.pk),
            "controls-1-start": "2012",
            "controls-1-end": "2014",
            "controls-1-claim_status": "confirmed",
        },
    )
    url = reverse("admin:detainees_facility_change", args=[facility.pk])

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "certainly held this role" in response.content.decode()
    assert not FacilityControl.objects.exists()

    data["controls-1-role"] = "controller"  # an army controlling what the police run
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert sorted(facility.controls.values_list("role", flat=True)) == ["controller", "operator"]


def test_the_admin_refuses_an_operator_overlapping_a_stored_one(admin_client):
    facility = f.FacilityFactory()
    control(facility, f.OrganizationFactory(), "2011", "2013", role=OPERATOR)
    data = {
        "facility": str(facility.pk),
        "role": "operator",
        "controller": str(f.OrganizationFactory().pk),
        "start": "2012",
        "end": "2014",
        "claim_status": "reported",
        "note": "",
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
        "citations-MIN_NUM_FORMS": "0",
        "citations-MAX_NUM_FORMS": "1000",
    }

    response = admin_client.post(reverse("admin:detainees_facilitycontrol_add"), data)

    assert response.status_code == 200
    assert "certainly held this role" in response.content.decode()
    assert FacilityControl.objects.count() == 1
    data["role"] = "owner"
    response = admin_client.post(reverse("admin:detainees_facilitycontrol_add"), data)
    assert response.status_code == 302
    assert FacilityControl.objects.count() == 2


def test_the_facility_page_and_api_show_each_period_with_its_role(client, pul_e_charkhi):
    army = f.OrganizationFactory(name="Afghan National Army", status=PUBLISHED)
    police = f.OrganizationFactory(name="Military Police Guard Command", status=PUBLISHED)
    control(pul_e_charkhi, army, "2013-03")
    control(pul_e_charkhi, police, "2013-03", role=OPERATOR)

    html = client.get(pul_e_charkhi.get_absolute_url()).content.decode()
    rows = html.split("Who controlled it")[1].split("</table>")[0]
    assert "Afghan National Army</a></td><td>Controller" in rows
    assert "Military Police Guard Command</a></td><td>Operator" in rows
    held = client.get(pul_e_charkhi.get_absolute_url(), {"on": "2014"}).content.decode()
    assert "the facility was controlled by Afghan National Army." in held

    data = client.get(f"/api/v1/facilities/{pul_e_charkhi.public_id}/").json()
    assert [(c["role"], c["controller"]["name"]) for c in data["controls"]] == [
        ("controller", "Afghan National Army"),
        ("operator", "Military Police Guard Command"),
    ]


def test_an_operator_period_does_not_change_the_custodian_on_the_person_page(client, demo):
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    bilal = person_queryset().get(slug=PERSON_SLUG)

    def custodians():
        return [
            [(s.organization.name, s.start, s.end) for s in fact.custodians]
            for fact in person_page(person_queryset().get(pk=bilal.pk))["timeline"]
            if fact.obj.kind == Event.Kind.CUSTODY
        ]

    before = custodians()
    us_forces = Organization.objects.get(name="United States Forces – Afghanistan")
    guards = f.OrganizationFactory(name="Parwan guard unit", status=PUBLISHED)
    control(parwan, guards, "2010", role=OPERATOR)
    control(
        parwan,
        f.OrganizationFactory(name="Ministry of Defence", status=PUBLISHED),
        "2009",
        role="owner",
    )

    assert custodians() == before
    assert custodian_on(person_queryset().get(pk=bilal.pk), date(2012, 1, 1)) == us_forces
    html = client.get(bilal.get_absolute_url()).content.decode()
    assert "Parwan guard unit" not in html and "Ministry of Defence" not in html
    # The custodian facet of the people list follows the timeline.
    listed = client.get("/people/", {"custodian": us_forces.slug}).content.decode()
    assert bilal.get_absolute_url() in listed
    listed = client.get("/people/", {"custodian": guards.slug}).content.decode()
    assert bilal.get_absolute_url() not in listed
