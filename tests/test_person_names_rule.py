"""One rule for a person's names, held alike by the API and the admin: names are required
(unless the person is a placeholder, an unnamed person), and exactly one of them is primary."""

import json

import pytest

from detainees.domain.models import Person
from tests import factories as f
from tests.conftest import member_of
from tests.test_admin_merge import person_form as base_form

pytestmark = pytest.mark.django_db
NEEDS_A_NAME = "A person needs at least one name."


@pytest.fixture
def api(token_client):
    return token_client(member_of("Researcher", "names-researcher"))


def post(api, body):
    return api.post("/api/v1/persons/", json.dumps(body), content_type="application/json")


def test_an_empty_body_creates_no_nameless_person(api):
    response = post(api, {})
    assert response.status_code == 400
    assert NEEDS_A_NAME in response.json()["names"][0]
    assert not Person.objects.exists()


def test_names_without_a_primary_one_are_refused(api):
    response = post(api, {"names": [{"name": "Abdul Rashid"}, {"name": "Rashid"}]})
    assert response.status_code == 400
    assert response.json()["names"] == ["Mark exactly one name as primary."]
    assert not Person.objects.exists()


def test_a_placeholder_may_have_no_name(api):
    response = post(api, {"is_placeholder": True, "biography": "One of two associates."})
    assert response.status_code == 201, response.json()
    assert Person.objects.get().is_placeholder


def test_a_nameless_placeholder_cannot_stop_being_one_without_a_name(api):
    created = post(api, {"is_placeholder": True}).json()
    url = f"/api/v1/persons/{created['id']}/"
    etag = api.get(url).headers["ETag"]
    response = api.patch(
        url,
        json.dumps({"is_placeholder": False}),
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 400
    assert NEEDS_A_NAME in response.json()["names"][0]
    assert Person.objects.get().is_placeholder


REVIEW = "detainees-reviewcomment-content_type-object_id"


def person_form(name, **extra):
    """The admin's person form as a Researcher sees it (with the review comments inline)."""
    data = base_form(name, **extra)
    data.update({f"{REVIEW}-TOTAL_FORMS": "0", f"{REVIEW}-INITIAL_FORMS": "0"})
    if not name:
        data["names-TOTAL_FORMS"] = "0"
    return data


@pytest.fixture
def admin_researcher(client):
    client.force_login(member_of("Researcher", "names-admin"))
    return client


def test_the_admin_refuses_names_without_a_primary_one(admin_researcher):
    data = person_form("Abdul Rashid")
    data.pop("names-0-is_primary")
    response = admin_researcher.post("/admin/detainees/person/add/", data)
    assert response.status_code == 200
    assert "Mark exactly one name as primary." in response.content.decode()
    assert not Person.objects.exists()


def test_the_admin_refuses_a_person_without_names(admin_researcher):
    data = person_form("")
    response = admin_researcher.post("/admin/detainees/person/add/", data)
    assert response.status_code == 200
    assert NEEDS_A_NAME in response.content.decode()
    assert not Person.objects.exists()


def test_the_admin_saves_a_placeholder_without_names(admin_researcher):
    data = person_form("", is_placeholder="on", biography="Captured with him.")
    response = admin_researcher.post("/admin/detainees/person/add/", data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    assert Person.objects.get().is_placeholder


def test_the_admin_refuses_removing_the_last_name_of_a_named_person(admin_researcher):
    person = f.PersonFactory(name="Mullah Test")
    name = person.names.get()
    data = person_form("Mullah Test")
    data.update(
        {
            "names-INITIAL_FORMS": "1",
            "names-0-id": str(name.pk),
            "names-0-person": str(person.pk),
            "names-0-DELETE": "on",
        }
    )
    response = admin_researcher.post(f"/admin/detainees/person/{person.pk}/change/", data)
    assert response.status_code == 200
    assert NEEDS_A_NAME in response.content.decode()
    assert person.names.count() == 1
