"""A facility's periods of control written through the API: who held it and when, with sources;
the handover they record is what the person page names as the custodian."""

import pytest

from detainees.domain.models import (
    Citation,
    Facility,
    FacilityControl,
    Organization,
    Person,
    PublicationStatus,
)
from detainees.domain.models.places import CONTROL_OVERLAP_MESSAGE
from tests import factories as f
from tests.test_api_by_key import queries_of
from tests.test_api_round_trip import got, history_rows
from tests.test_api_writes import send

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
US_FORCES = "United States Forces – Afghanistan"
AFGHAN_GOVERNMENT = "Government of Afghanistan"


def handover(us, afghan, source=None) -> list[dict]:
    """The Parwan handover as data/demo/facility_controls.csv records it."""
    cites = [{"source": str(source.public_id), "aspect": "the handover"}] if source else []
    return [
        {
            "controller": str(us.public_id),
            "start": "2009/2010",
            "end": "2013-03",
            "note": "US control began when the facility opened.",
            "citations": cites,
        },
        {"controller": {"id": str(afghan.public_id)}, "start": "March 2013", "citations": cites},
    ]


def custodians(client, person) -> list[tuple[str, str]]:
    data = client.get(f"/api/v1/persons/{person.public_id}/").json()
    parwan = next(e for e in data["timeline"] if e["kind"] == "custody" and e["facility"])
    return [(c["name"], c["start"]) for c in parwan["custodians"] if c["via_facility"]]


def test_the_parwan_handover_written_through_the_api_names_bilal_s_custodians(
    demo, as_editor, client
):
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    bilal = Person.objects.get(slug="qari-bilal")
    us = Organization.objects.get(name=US_FORCES)
    afghan = Organization.objects.get(name=AFGHAN_GOVERNMENT)
    source = Citation.objects.filter(facility_control__facility=parwan).first().source
    parwan.controls.all().delete()
    assert custodians(client, bilal) == []
    path = f"/api/v1/facilities/{parwan.public_id}/"
    body, etag = got(as_editor, path)

    send(as_editor, "put", path, {**body, "controls": handover(us, afghan, source)}, etag=etag)

    assert custodians(client, bilal) == [(US_FORCES, "2011-04-20"), (AFGHAN_GOVERNMENT, "2013-03")]
    page = client.get(f"/people/{bilal.slug}/").content.decode()
    assert f"Custodian</dt><dd>{AFGHAN_GOVERNMENT}" in page
    controls = client.get(path).json()["controls"]
    assert [(c["controller"]["id"], c["start"]["edtf"], c["end"]["edtf"]) for c in controls] == [
        (str(us.public_id), "2009/2010", "2013-03"),
        (str(afghan.public_id), "2013-03", ""),
    ]
    assert controls[1]["start"]["as_written"] == "March 2013"
    assert controls[0]["note"] == "US control began when the facility opened."
    assert [c["aspect"] for c in controls[1]["citations"]] == ["the handover"]


def test_a_researcher_adds_controls_to_a_draft_facility_but_not_to_a_published_one(
    as_researcher,
):
    us, afghan = f.OrganizationFactory(), f.OrganizationFactory()
    body = {"name": "Bagram Annex", "kind": "detention_facility", "controls": handover(us, afghan)}
    data = send(as_researcher, "post", "/api/v1/facilities/", body, status=201).json()
    facility = Facility.objects.get(public_id=data["id"])
    assert [(c.controller, c.role) for c in facility.controls.order_by("pk")] == [
        (us, "controller"),
        (afghan, "controller"),
    ]
    assert data["controls"][1]["controller"] == str(afghan.public_id)

    Facility.objects.filter(pk=facility.pk).update(status=PUBLISHED)
    path = f"/api/v1/facilities/{facility.public_id}/"
    response = send(
        as_researcher, "patch", path, {"controls": []}, etag=got(as_researcher, path)[1]
    )

    assert response.status_code == 403
    assert facility.controls.count() == 2


def test_a_round_trip_of_a_facility_with_controls_is_a_no_op(demo, as_editor):
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    path = f"/api/v1/facilities/{parwan.public_id}/"
    body, etag = got(as_editor, path)
    assert len(body["controls"]) == 2 and body["controls"][0]["citations"]
    before = history_rows()

    send(as_editor, "put", path, body, etag=etag, status=200)
    assert got(as_editor, path) == (body, etag)
    assert history_rows() == before
    # A control changed in the GET's shape is written, its sources kept as the GET gave them.
    controls = [dict(c) for c in body["controls"]]
    controls[1]["claim_status"] = "disputed"
    send(as_editor, "put", path, {**body, "controls": controls}, etag=etag, status=200)

    after, _ = got(as_editor, path)
    assert after["controls"] == controls
    assert history_rows() > before


# --- Refusals, by row ----------------------------------------------------------------------------


def test_two_certain_controllers_at_once_are_named_at_the_later_row(demo, as_editor):
    parwan = Facility.objects.get(name="Parwan Detention Facility")
    stored = list(parwan.controls.values_list("pk", flat=True))
    us = Organization.objects.get(name=US_FORCES)
    afghan = Organization.objects.get(name=AFGHAN_GOVERNMENT)
    controls = handover(us, afghan)
    controls[1]["start"] = "2012"  # before the US period ends
    path = f"/api/v1/facilities/{parwan.public_id}/"
    body, etag = got(as_editor, path)

    response = send(as_editor, "put", path, {**body, "controls": controls}, etag=etag, status=400)

    assert response.json() == {"controls": {"1": {"non_field_errors": [CONTROL_OVERLAP_MESSAGE]}}}
    assert sorted(parwan.controls.values_list("pk", flat=True)) == sorted(stored)
    # An operator beside the controller is no overlap: another role.
    controls[1]["role"] = "operator"
    send(as_editor, "put", path, {**body, "controls": controls}, etag=etag, status=200)


def test_a_period_with_no_certain_day_beside_a_longer_one_is_written(as_researcher):
    us, afghan = f.OrganizationFactory(), f.OrganizationFactory()
    controls = [
        {"controller": str(us.public_id), "start": "2001", "end": "2020"},
        # Started sometime in 2013, ended by June 2013: possibly no day of it certain.
        {"controller": str(afghan.public_id), "start": "2013", "end": "2013-06"},
    ]
    body = {"name": "Bagram Annex", "kind": "detention_facility", "controls": controls}

    send(as_researcher, "post", "/api/v1/facilities/", body, status=201)

    assert FacilityControl.objects.count() == 2


@pytest.mark.parametrize(
    "row, errors",
    [
        ({"end": "2005"}, {"end": ["Control cannot end before it starts."]}),
        ({"role": "landlord"}, {"role": ['"landlord" is not a valid choice.']}),
        ({"controller": None}, {"controller": ["This field may not be null."]}),
        ({"start": "the thirteenth of Smarch"}, "start"),
        ({"citations": [{"source": "nope"}]}, {"citations": {"0": {"source": None}}}),
    ],
)
def test_a_bad_control_is_named_at_its_position(as_researcher, row, errors):
    us, afghan = f.OrganizationFactory(), f.OrganizationFactory()
    controls = handover(us, afghan)
    controls[1] = {**controls[1], **row}
    body = {"name": "Bagram Annex", "kind": "detention_facility", "controls": controls}

    response = send(as_researcher, "post", "/api/v1/facilities/", body, status=400)

    got_errors = response.json()
    assert list(got_errors) == ["controls"] and list(got_errors["controls"]) == ["1"]
    if isinstance(errors, str):
        assert list(got_errors["controls"]["1"]) == [errors]
    elif "citations" in errors:
        assert list(got_errors["controls"]["1"]["citations"]["0"]) == ["source"]
    else:
        assert got_errors["controls"]["1"] == errors
    assert not Facility.objects.exists() and not FacilityControl.objects.exists()


def test_a_control_by_a_draft_organization_is_not_deleted_from_the_get(as_editor):
    facility = f.FacilityFactory(status=PUBLISHED)
    public, draft = f.OrganizationFactory(status=PUBLISHED), f.OrganizationFactory()
    f.FacilityControlFactory(facility=facility, controller=public, start="2009", end="2010")
    f.FacilityControlFactory(facility=facility, controller=draft, start="2011")
    path = f"/api/v1/facilities/{facility.public_id}/"
    body, etag = got(as_editor, path)
    assert len(body["controls"]) == 1
    controls = [{**body["controls"][0], "note": "Named in the register."}]

    response = send(as_editor, "put", path, {**body, "controls": controls}, etag=etag, status=400)

    assert list(response.json()) == ["controls"]
    assert facility.controls.count() == 2
    send(as_editor, "put", path, body, etag=etag, status=200)
    assert facility.controls.count() == 2


def test_a_facility_with_controls_written_twice_by_key_is_unchanged(as_researcher):
    us, afghan = f.OrganizationFactory(), f.OrganizationFactory()
    body = {"name": "Bagram Annex", "kind": "detention_facility", "controls": handover(us, afghan)}
    path = "/api/v1/facilities/by-key/lwj-desk/F-1/"
    first = send(as_researcher, "put", path, body, status=201)
    before = history_rows()

    again = send(as_researcher, "put", path, body, status=200)

    assert again["ETag"] == first["ETag"]
    assert history_rows() == before
    assert FacilityControl.objects.count() == 2


def test_the_facility_list_runs_a_constant_number_of_queries(client):
    source = f.SourceFactory(status=PUBLISHED)

    def add(n):
        for _ in range(n):
            facility = f.FacilityFactory(status=PUBLISHED)
            for year in (2001, 2005):
                control = f.FacilityControlFactory(
                    facility=facility,
                    controller=f.OrganizationFactory(status=PUBLISHED),
                    start=str(year),
                    end=str(year + 2),
                )
                f.CitationFactory(event=None, facility_control=control, source=source)

    add(2)
    few = queries_of(client, "/api/v1/facilities/")
    add(8)
    assert queries_of(client, "/api/v1/facilities/") == few
    rows = client.get("/api/v1/facilities/").json()["results"]
    assert len(rows) == 10 and all(len(r["controls"]) == 2 for r in rows)
