"""The admin warns of likely duplicates and lets editors with the permission merge them."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from detainees.domain.models import Person, PersonRedirect, PublicationStatus
from tests import factories as f

pytestmark = pytest.mark.django_db
MERGE_URL = "/admin/detainees/person/merge/"
CHANGELIST = "/admin/detainees/person/"


NAMES = ("view_personname", "add_personname", "change_personname", "delete_personname")


def staff(username, *codenames):
    """A staff user with these permissions, and those on the names inline."""
    user = get_user_model().objects.create_user(username, password="x-pass-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=[*codenames, *NAMES]))
    return user


@pytest.fixture
def researcher(client):
    client.force_login(staff("researcher", "view_person", "add_person", "change_person"))
    return client


@pytest.fixture
def editor(client):
    client.force_login(
        staff("editor", "view_person", "add_person", "change_person", "merge_person")
    )
    return client


def person_form(name, **extra):
    data = {
        "gender": "unknown",
        "fate": "unknown",
        "fate_claim_status": "reported",
        "birth": "",
        "biography": "",
        "status": "draft",
        "internal_notes": "",
        "names-TOTAL_FORMS": "1",
        "names-INITIAL_FORMS": "0",
        "names-MIN_NUM_FORMS": "0",
        "names-MAX_NUM_FORMS": "1000",
        "names-0-name": name,
        "names-0-kind": "common",
        "names-0-is_primary": "on",
        "names-0-claim_status": "reported",
        **extra,
    }
    for prefix in (
        "nationalities",
        "affiliations",
        "relationships",
        "relationships_as_other",
        "citations",
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


# --- Duplicate warnings -----------------------------------------------------------------------


def test_adding_a_person_with_a_close_name_lists_the_candidates_and_saves_nothing(researcher):
    bilal = f.PersonFactory(name="Qari Bilal")
    response = researcher.post("/admin/detainees/person/add/", person_form("Qari Belal"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Possible duplicate" in html
    assert f'href="/admin/detainees/person/{bilal.pk}/change/"' in html
    assert "This is a different person" in html
    assert Person.objects.count() == 1


def test_ticking_different_person_saves_anyway(researcher):
    f.PersonFactory(name="Qari Bilal")
    data = person_form("Qari Belal", not_a_duplicate="on")
    response = researcher.post("/admin/detainees/person/add/", data)
    assert response.status_code == 302
    assert Person.objects.count() == 2


def test_a_name_close_to_nobody_saves_at_once(researcher):
    f.PersonFactory(name="Qari Bilal")
    response = researcher.post("/admin/detainees/person/add/", person_form("Hamid Karzai"))
    assert response.status_code == 302


def test_the_change_page_links_the_candidates_and_offers_a_merge_to_editors(editor):
    bilal = f.PersonFactory(name="Qari Bilal")
    other = f.PersonFactory(name="Bilal")
    response = editor.get(f"/admin/detainees/person/{other.pk}/change/")
    html = response.content.decode()
    assert 'id="possible-duplicates"' in html
    assert f'href="/admin/detainees/person/{bilal.pk}/change/"' in html
    assert f"{MERGE_URL}?survivor={bilal.pk}&amp;removed={other.pk}" in html


def test_the_change_page_offers_no_merge_without_the_permission(researcher):
    f.PersonFactory(name="Qari Bilal")
    other = f.PersonFactory(name="Bilal")
    html = researcher.get(f"/admin/detainees/person/{other.pk}/change/").content.decode()
    assert 'id="possible-duplicates"' in html
    assert MERGE_URL not in html


# --- Merging ----------------------------------------------------------------------------------


def test_the_merge_action_is_offered_only_with_the_permission(client):
    f.PersonFactory(name="Qari Bilal")
    client.force_login(staff("r", "view_person", "change_person"))
    assert "merge_selected" not in client.get(CHANGELIST).content.decode()
    client.force_login(staff("e", "view_person", "change_person", "merge_person"))
    assert "merge_selected" in client.get(CHANGELIST).content.decode()


def test_the_action_on_two_people_opens_the_confirmation_keeping_the_named_one(editor):
    placeholder = f.PersonFactory(name=False, is_placeholder=True)
    named = f.PersonFactory(name="Qari Bilal")
    data = {"action": "merge_selected", "_selected_action": [placeholder.pk, named.pk]}
    response = editor.post(CHANGELIST, data)
    assert response.status_code == 302
    assert response["Location"] == f"{MERGE_URL}?survivor={named.pk}&removed={placeholder.pk}"


def test_the_action_wants_exactly_two_people(editor):
    people = [f.PersonFactory(name=n) for n in ("A", "B", "C")]
    data = {"action": "merge_selected", "_selected_action": [p.pk for p in people]}
    response = editor.post(CHANGELIST, data, follow=True)
    assert "Select exactly two people" in response.content.decode()


def test_the_confirmation_shows_what_will_move_then_merges(editor):
    bilal = f.PersonFactory(name="Qari Bilal", status=PublicationStatus.PUBLISHED)
    other = f.PersonFactory(name="Qari Belal", status=PublicationStatus.PUBLISHED)
    f.EventPersonFactory(person=other)
    response = editor.get(MERGE_URL, {"survivor": bilal.pk, "removed": other.pk})
    html = response.content.decode()
    assert "1 people in event move over." in html
    assert "its public address and permalink redirect here" in html
    assert Person.objects.filter(pk=other.pk).exists()

    data = {"survivor": bilal.pk, "removed": other.pk, "reason": "Same man, two spellings"}
    response = editor.post(MERGE_URL, data)
    assert response["Location"] == reverse("admin:detainees_person_change", args=[bilal.pk])
    assert not Person.objects.filter(pk=other.pk).exists()
    redirect = PersonRedirect.objects.get()
    assert redirect.merged_by.username == "editor"
    assert redirect.reason == "Same man, two spellings"
    history = editor.get(f"/admin/detainees/person/{bilal.pk}/history/").content.decode()
    assert "Merged Qari Belal" in history


def test_the_confirmation_lists_conflicts_and_offers_no_button(editor):
    a = f.PersonFactory(name="A", biography="One thing.")
    b = f.PersonFactory(name="B", biography="Another.")
    html = editor.get(MERGE_URL, {"survivor": a.pk, "removed": b.pk}).content.decode()
    assert 'id="merge-conflicts"' in html
    assert 'value="Merge"' not in html


def test_a_refused_merge_says_why_and_keeps_both(editor):
    a = f.PersonFactory(name="A")
    b = f.PersonFactory(name="B")
    response = editor.post(MERGE_URL, {"survivor": a.pk, "removed": b.pk, "reason": ""})
    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    assert Person.objects.count() == 2


def test_a_forged_merge_without_the_permission_is_refused(researcher):
    a = f.PersonFactory(name="A")
    b = f.PersonFactory(name="B")
    data = {"survivor": a.pk, "removed": b.pk, "reason": "forged"}
    assert researcher.post(MERGE_URL, data).status_code == 403
    assert researcher.get(MERGE_URL, data).status_code == 403
    data = {"action": "merge_selected", "_selected_action": [a.pk, b.pk]}
    researcher.post(CHANGELIST, data)
    assert Person.objects.count() == 2
    assert not PersonRedirect.objects.exists()
