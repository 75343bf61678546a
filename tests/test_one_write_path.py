"""One write path: the admin, the API and the importers change records through
`detainees.write.services`, so a rule written there holds whichever way a record is changed."""

import pytest
from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.urls import reverse

from detainees.admin import common
from detainees.admin.people import PersonAdmin
from detainees.domain import roles
from detainees.domain.models import ImportJob, Person, PublicationStatus, Source
from detainees.write import services
from detainees.write.importers import generic
from tests import factories as f
from tests.test_permissions_everywhere import make_user, via_admin, via_api, via_import
from tests.test_roles import form_data

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT
IN_REVIEW = PublicationStatus.IN_REVIEW
PUBLISHED = PublicationStatus.PUBLISHED
WITHDRAWN = PublicationStatus.WITHDRAWN
EMBARGOED = "Embargoed: do not publish before the family is told."


@pytest.fixture
def embargo(monkeypatch):
    """A rule added to the service only: a person whose biography says embargoed is never
    published, whoever asks."""
    rule = services.check_transition

    def check_transition(*, user, record, old, new):
        if new == PUBLISHED and "Embargoed" in getattr(record, "biography", ""):
            raise services.RoleNotAllowed("This person is under embargo.")
        rule(user=user, record=record, old=old, new=new)

    monkeypatch.setattr(services, "check_transition", check_transition)


def in_review(biography):
    return lambda: f.PersonFactory(status=IN_REVIEW, biography=biography)


@pytest.mark.parametrize("path", ["admin", "api", "import"])
def test_a_rule_added_to_the_service_is_obeyed_by_the_admin_the_api_and_the_importer(
    client, token_client, tmp_path, embargo, path
):
    editor = make_user(roles.EDITOR)
    attempt = {"admin": via_admin, "api": via_api, "import": via_import}[path]
    first = {"admin": client, "api": token_client, "import": tmp_path}[path]
    embargoed, free = in_review(EMBARGOED)(), in_review("Released in 2014.")()
    assert attempt(first, editor, embargoed, "status", PUBLISHED) is False
    assert Person.objects.get(pk=embargoed.pk).status == IN_REVIEW
    # The rule refuses what it says and nothing more: the editor still publishes the others.
    assert attempt(first, editor, free, "status", PUBLISHED) is True
    assert Person.objects.get(pk=free.pk).status == PUBLISHED


def test_the_admin_shows_the_services_refusal_as_a_form_error(client, embargo):
    editor = make_user(roles.EDITOR)
    person = in_review(EMBARGOED)()
    client.force_login(editor)
    page = client.get(reverse("admin:detainees_person_change", args=[person.pk]))
    data = form_data(page) | {"status": PUBLISHED}
    response = client.post(reverse("admin:detainees_person_change", args=[person.pk]), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == ["This person is under embargo."]


def test_a_bulk_action_obeys_the_rule_added_to_the_service(client, embargo):
    editor = make_user(roles.EDITOR)
    embargoed, free = in_review(EMBARGOED)(), in_review("Released in 2014.")()
    client.force_login(editor)
    response = client.post(
        reverse("admin:detainees_person_changelist"),
        {"action": "publish_selected", "_selected_action": [embargoed.pk, free.pk]},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert "1 person published." in shown
    assert f"Not published: {embargoed}: This person is under embargo." in shown
    assert Person.objects.get(pk=embargoed.pk).status == IN_REVIEW
    assert Person.objects.get(pk=free.pk).status == PUBLISHED


# --- Every ModelAdmin writes through the services --------------------------------------------

SHARED_ACTIONS = {
    delete_selected,  # Django's: it deletes through delete_queryset, the shared one
    common.publish_selected,
    common.send_selected_to_review,
    common.return_selected_to_draft,
    common.withdraw_selected,
    PersonAdmin.merge_selected,  # leads to the merge page, which calls services.merge_persons
}


def test_every_registered_model_admin_saves_deletes_and_acts_through_the_services(rf):
    superuser = make_user("superuser")
    request = rf.get("/admin/")
    request.user = superuser
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "detainees":
            continue  # accounts, tokens, sign-in logs: not the tracker's records
        if not (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        ):
            continue  # read-only pages (the job logs) write nothing
        kind = type(model_admin)
        assert isinstance(model_admin, common.RuleAdminMixin), model.__name__
        assert kind.save_model is common.RuleAdminMixin.save_model, model.__name__
        assert kind.delete_model is common.RuleAdminMixin.delete_model, model.__name__
        assert kind.delete_queryset is common.RuleAdminMixin.delete_queryset, model.__name__
        assert kind.save_formset in (
            common.RuleAdminMixin.save_formset,
            common.RecordAdmin.save_formset,  # reviewer comments, then the shared one
        ), model.__name__
        for func, _, _ in model_admin.get_actions(request).values():
            assert func in SHARED_ACTIONS, (model.__name__, func)
        checked += 1
    assert ImportJob in admin.site._registry
    assert checked >= 14


def test_an_admin_save_calls_the_service_and_a_refusal_there_writes_nothing(client, monkeypatch):
    """The form's checks and the save's are the service's: if the service refuses at save
    time (a rule the form does not know), nothing is written and the answer is a 403."""
    editor = make_user(roles.EDITOR)
    person = f.PersonFactory(status=DRAFT, biography="Before.")
    client.force_login(editor)
    url = reverse("admin:detainees_person_change", args=[person.pk])
    data = form_data(client.get(url)) | {"biography": "After."}
    calls = []
    save_row = services.save_row

    def refusing(**kwargs):
        calls.append(kwargs["row"])
        save_row(**kwargs)
        raise services.RoleNotAllowed("Refused after writing: the transaction must undo it.")

    monkeypatch.setattr(services, "save_row", refusing)
    response = client.post(url, data)
    assert response.status_code == 403
    assert [type(row) for row in calls] == [Person]
    assert Person.objects.get(pk=person.pk).biography == "Before."


# --- Bulk state changes --------------------------------------------------------------------------


def test_a_researcher_is_offered_review_and_draft_but_not_publish_or_withdraw(client):
    researcher = make_user(roles.RESEARCHER)
    draft = f.PersonFactory(status=DRAFT)
    client.force_login(researcher)
    response = client.get(reverse("admin:detainees_person_changelist"))
    offered = {name for name, _ in response.context["action_form"].fields["action"].choices}
    assert {"send_selected_to_review", "return_selected_to_draft"} <= offered
    assert not offered & {"publish_selected", "withdraw_selected"}
    # A forged post of an action not offered is refused by Django, and writes nothing.
    client.post(
        reverse("admin:detainees_person_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    assert Person.objects.get(pk=draft.pk).status == DRAFT
    client.post(
        reverse("admin:detainees_person_changelist"),
        {"action": "send_selected_to_review", "_selected_action": [draft.pk]},
    )
    assert Person.objects.get(pk=draft.pk).status == IN_REVIEW


def test_withdrawing_in_bulk_needs_a_public_reason_and_records_it(client):
    editor = make_user(roles.EDITOR)
    people = [f.PersonFactory(status=PUBLISHED) for _ in range(2)]
    pks = [p.pk for p in people]
    client.force_login(editor)
    changelist = reverse("admin:detainees_person_changelist")
    response = client.post(
        changelist, {"action": "withdraw_selected", "_selected_action": pks}, follow=True
    )
    assert "Give the public reason for withdrawing in the box." in [
        str(m) for m in response.context["messages"]
    ]
    assert set(Person.objects.filter(pk__in=pks).values_list("status", flat=True)) == {PUBLISHED}
    response = client.post(
        changelist,
        {
            "action": "withdraw_selected",
            "_selected_action": pks,
            "withdrawal_reason": "Two records of one man.",
        },
        follow=True,
    )
    assert "2 people withdrawn." in [str(m) for m in response.context["messages"]]
    assert set(Person.objects.filter(pk__in=pks).values_list("status", "withdrawal_reason")) == {
        (WITHDRAWN, "Two records of one man.")
    }
    history = Person.history.rel.related_model.objects.filter(pgh_obj_id__in=pks)
    latest = history.filter(status=WITHDRAWN).select_related("pgh_context")
    assert {e.pgh_context.metadata["user"] for e in latest} == {editor.pk}


def test_an_editor_returns_a_withdrawn_record_to_draft_and_republishes_in_bulk(client):
    editor = make_user(roles.EDITOR)
    person = f.PersonFactory(status=WITHDRAWN, withdrawal_reason="Unsure.")
    client.force_login(editor)
    changelist = reverse("admin:detainees_person_changelist")
    for action, status in (("return_selected_to_draft", DRAFT), ("publish_selected", PUBLISHED)):
        client.post(changelist, {"action": action, "_selected_action": [person.pk]})
        assert Person.objects.get(pk=person.pk).status == status


# --- The importer asks the services ---------------------------------------------------------------


def test_the_importer_has_no_rule_of_its_own_for_states_or_publishing():
    assert not hasattr(generic, "may_publish")
    assert not hasattr(generic, "_status_after")


@pytest.mark.parametrize(
    ("is_new", "publish", "confidential", "stored", "expected"),
    [
        (True, False, False, PUBLISHED, DRAFT),
        (True, True, False, DRAFT, PUBLISHED),
        (True, True, True, DRAFT, DRAFT),  # a confidential source stays private
        (False, False, False, IN_REVIEW, IN_REVIEW),
        (False, True, False, WITHDRAWN, PUBLISHED),
        (False, True, True, IN_REVIEW, IN_REVIEW),
    ],
)
def test_the_state_an_imported_row_leaves_its_record_in(
    is_new, publish, confidential, stored, expected
):
    source = Source(status=stored, is_confidential=confidential)
    assert services.imported_status(source, is_new=is_new, publish=publish) == expected


def test_who_may_publish_an_import_is_who_may_publish_every_type():
    researcher = make_user(roles.RESEARCHER)
    assert services.may_publish(make_user(roles.EDITOR))
    assert not services.may_publish(researcher)
    assert not services.may_publish(None)
    assert services.may_publish(researcher, Person) is False
