"""The editorial roles: what researchers, editors and admins may do, in the admin and the API."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from detainees.domain import roles
from detainees.domain.models import (
    Affiliation,
    Correction,
    Person,
    PublicationStatus,
    ReviewComment,
)
from detainees.write import services
from tests import factories as f

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT
IN_REVIEW = PublicationStatus.IN_REVIEW
PUBLISHED = PublicationStatus.PUBLISHED
WITHDRAWN = PublicationStatus.WITHDRAWN
MARKER = "REVIEW-PRIVATE-7f3a"


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_data(response, **changes) -> dict:
    """What a browser would post back from an admin form page, with `changes` applied."""
    data = {}

    def put(bound):
        value = bound.value()
        if value is None or value is False:
            return
        widget = bound.field.widget
        if hasattr(widget, "widgets"):  # a date and a time, say: one input each
            for i, part in enumerate(widget.decompress(value)):
                data[f"{bound.html_name}_{i}"] = str(part or "")
        elif value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = str(value)

    for bound in response.context["adminform"].form:
        put(bound)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            put(bound)
        for form in formset.forms:
            for bound in form:
                put(bound)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def status_choices(response) -> list[str]:
    return [value for value, _ in response.context["adminform"].form.fields["status"].choices]


@pytest.fixture
def as_researcher(client, researcher):
    client.force_login(researcher)
    return client


@pytest.fixture
def as_editor(client, editor):
    client.force_login(editor)
    return client


# --- The groups -------------------------------------------------------------------------------


def test_the_migration_creates_each_group_with_exactly_its_permissions():
    for name, labels in roles.ROLES.items():
        group = Group.objects.get(name=name)
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert held == set(labels), name


def test_researchers_cannot_publish_withdraw_or_delete_and_editors_can(researcher, editor):
    for model in roles.PUBLISHABLE:
        for action in ("publish", "withdraw", "delete"):
            assert not researcher.has_perm(f"detainees.{action}_{model}")
            assert editor.has_perm(f"detainees.{action}_{model}")
        assert researcher.has_perm(f"detainees.change_{model}")
    assert not researcher.has_perm("detainees.add_correction")
    assert editor.has_perm("detainees.add_correction")


def test_only_admins_manage_users_and_issue_tokens(researcher, editor, client):
    from tests.conftest import member_of

    boss = member_of(roles.ADMIN, "boss")
    for user in (researcher, editor):
        assert not user.has_perm("auth.change_user")
        assert not user.has_perm("authtoken.add_tokenproxy")
    client.force_login(boss)
    assert client.get(reverse("admin:authtoken_tokenproxy_add")).status_code == 200
    response = client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": boss.pk})
    assert response.status_code == 302
    assert boss.auth_token.key


def test_ensure_roles_adds_a_missing_permission_without_dropping_hand_grants():
    from django.apps import apps
    from django.contrib.auth.models import Permission

    editor_group = Group.objects.get(name=roles.EDITOR)
    extra = Permission.objects.get(codename="view_tombstone")  # granted by hand in the admin
    editor_group.permissions.add(extra)
    editor_group.permissions.remove(*editor_group.permissions.filter(codename="publish_person"))
    roles.ensure_roles(apps)
    assert editor_group.permissions.filter(codename="publish_person").exists()
    assert editor_group.permissions.filter(pk=extra.pk).exists()


# --- State changes, one rule for every path ---------------------------------------------------


@pytest.mark.parametrize(
    "old,new,researcher_may,editor_may",
    [
        (DRAFT, IN_REVIEW, True, True),
        (IN_REVIEW, DRAFT, True, True),
        (IN_REVIEW, PUBLISHED, False, True),
        (DRAFT, PUBLISHED, False, True),
        (PUBLISHED, WITHDRAWN, False, True),
        (WITHDRAWN, PUBLISHED, False, True),
        (WITHDRAWN, DRAFT, False, True),
        (DRAFT, WITHDRAWN, False, False),
        (PUBLISHED, DRAFT, False, False),
    ],
)
def test_who_may_move_a_record_between_states(
    researcher, editor, old, new, researcher_may, editor_may
):
    person = f.PersonFactory(status=old)
    for user, may in ((researcher, researcher_may), (editor, editor_may)):
        if may:
            services.check_transition(user=user, record=person, old=old, new=new)
        else:
            with pytest.raises(services.TrackerError):
                services.check_transition(user=user, record=person, old=old, new=new)


# --- The admin --------------------------------------------------------------------------------


def test_a_researcher_is_offered_only_draft_and_review(as_researcher):
    response = as_researcher.get(admin_url(Person, "add"))
    assert status_choices(response) == [DRAFT, IN_REVIEW]
    person = f.PersonFactory(status=IN_REVIEW)
    response = as_researcher.get(admin_url(Person, "change", person.pk))
    assert status_choices(response) == [DRAFT, IN_REVIEW]


def test_an_editor_is_offered_publishing(as_editor):
    person = f.PersonFactory(status=IN_REVIEW)
    response = as_editor.get(admin_url(Person, "change", person.pk))
    assert status_choices(response) == [DRAFT, IN_REVIEW, PUBLISHED]
    response = as_editor.post(response.request["PATH_INFO"], form_data(response, status=PUBLISHED))
    assert response.status_code == 302
    assert Person.objects.get().status == PUBLISHED


def test_a_forged_post_publishing_as_a_researcher_is_refused(as_researcher):
    person = f.PersonFactory(status=IN_REVIEW, biography="before")
    url = admin_url(Person, "change", person.pk)
    response = as_researcher.get(url)
    data = form_data(response, status=PUBLISHED, biography="after")
    response = as_researcher.post(url, data)
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    person.refresh_from_db()
    assert (person.status, person.biography) == (IN_REVIEW, "before")


def test_a_researcher_sees_a_published_record_read_only_and_cannot_post_to_it(as_researcher):
    person = f.PersonFactory(status=PUBLISHED)
    url = admin_url(Person, "change", person.pk)
    response = as_researcher.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert as_researcher.post(url, {"status": DRAFT, "biography": "x"}).status_code == 403
    assert Person.objects.get().biography == ""


def test_a_researcher_cannot_delete_in_the_admin(as_researcher):
    person = f.PersonFactory()
    assert as_researcher.get(admin_url(Person, "delete", person.pk)).status_code == 403
    assert (
        as_researcher.post(admin_url(Person, "delete", person.pk), {"post": "yes"}).status_code
        == 403
    )
    assert Person.objects.exists()


def test_a_researcher_cannot_publish_an_affiliation_through_the_person_page(as_researcher):
    person = f.PersonFactory()
    affiliation = f.AffiliationFactory(person=person)
    url = admin_url(Person, "change", person.pk)
    response = as_researcher.get(url)
    data = form_data(response, **{"affiliations-0-status": PUBLISHED})
    response = as_researcher.post(url, data)
    assert response.status_code == 200
    affiliation.refresh_from_db()
    assert affiliation.status == DRAFT
    assert Affiliation.objects.filter(status=PUBLISHED).count() == 0


def test_an_editor_records_a_correction_in_the_admin_and_the_page_shows_it(client, editor):
    person = f.PersonFactory(status=PUBLISHED)
    client.force_login(editor)
    url = admin_url(Person, "change", person.pk)
    response = client.get(url)
    note = "The birth year was wrong: 1970, not 1971."
    data = form_data(response, birth="1970", is_correction="on", correction_note=note)
    assert client.post(url, data).status_code == 302
    correction = Correction.objects.get()
    assert (correction.record, correction.corrected_by) == (person, editor)
    client.logout()
    person.refresh_from_db()
    page = client.get(person.get_absolute_url()).content.decode()
    assert note in page and editor.username not in page


def test_a_correction_without_a_note_is_refused(as_editor):
    person = f.PersonFactory(status=PUBLISHED)
    url = admin_url(Person, "change", person.pk)
    response = as_editor.post(url, form_data(as_editor.get(url), biography="x", is_correction="on"))
    assert response.status_code == 200
    assert "correction_note" in response.context["adminform"].form.errors
    assert not Correction.objects.exists()


def test_researchers_are_not_offered_corrections(as_researcher):
    person = f.PersonFactory(status=IN_REVIEW)
    response = as_researcher.get(admin_url(Person, "change", person.pk))
    assert "is_correction" not in response.content.decode()


# --- Reviewer comments ------------------------------------------------------------------------


def test_reviewer_comments_are_kept_with_their_author_and_never_made_public(
    client, researcher, editor
):
    person = f.PersonFactory(name="Commented Person", status=IN_REVIEW)
    client.force_login(editor)
    url = admin_url(Person, "change", person.pk)
    prefix = "detainees-reviewcomment-content_type-object_id"
    data = form_data(
        client.get(url),
        **{f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-text": f"Second source? {MARKER}"},
    )
    assert client.post(url, data).status_code == 302
    comment = ReviewComment.objects.get()
    assert (comment.record, comment.author) == (person, editor)
    # The researcher reads it on the record's admin page.
    client.force_login(researcher)
    assert MARKER in client.get(url).content.decode()
    # Published, the record's public outputs carry none of it.
    Person.objects.filter(pk=person.pk).update(status=PUBLISHED)
    person.refresh_from_db()
    client.logout()
    for path in (
        person.get_absolute_url(),
        f"/api/v1/persons/{person.public_id}/",
        "/api/v1/persons/?format=csv",
        "/api/v1/export.jsonl",
        f"/people/{person.slug}/feed/",
    ):
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert MARKER.encode() not in body, path


def test_the_names_of_a_published_person_are_read_only_to_a_researcher_on_their_own_page(
    as_researcher,
):
    from detainees.domain.models import PersonName

    person = f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    name = person.names.get()
    url = admin_url(PersonName, "change", name.pk)
    assert not as_researcher.get(url).context["has_change_permission"]
    data = {
        "person": person.pk,
        "name": "Bilal",
        "kind": "common",
        "claim_status": "reported",
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
    }
    assert as_researcher.post(url, data).status_code == 403
    add = as_researcher.post(admin_url(PersonName, "add"), {**data, "name": "Belal"})
    assert add.status_code == 200  # the form again, saying why
    assert "only an editor" in str(add.context["adminform"].form.non_field_errors())
    assert list(person.names.values_list("name", flat=True)) == ["Qari Bilal"]
