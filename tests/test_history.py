"""Audit history: every change recorded with who made it, however it was made."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from detainees.domain.models import Event, Person, PersonName, PublicationStatus
from detainees.write.demo import PERSON_SLUG
from detainees.write.history import acting, history_of
from tests import factories as f

pytestmark = pytest.mark.django_db

PersonHistory = Person.history.rel.related_model
PersonNameHistory = PersonName.history.rel.related_model


def test_a_bulk_admin_action_is_recorded_with_the_acting_user(admin_client, superuser):
    people = [f.PersonFactory(status=PublicationStatus.DRAFT) for _ in range(2)]
    response = admin_client.post(
        reverse("admin:detainees_person_changelist"),
        {"action": "delete_selected", "_selected_action": [p.pk for p in people], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Person.objects.filter(pk__in=[p.pk for p in people]).exists()
    deletions = PersonHistory.objects.filter(
        pgh_obj_id__in=[p.pk for p in people], pgh_label="delete"
    ).select_related("pgh_context")
    assert len(deletions) == 2
    for event in deletions:
        assert event.pgh_context.metadata["user"] == superuser.pk
        assert event.pgh_context.metadata["username"] == "editor"
        assert event.pgh_context.metadata["url"] == "/admin/detainees/person/"


def test_a_queryset_update_is_recorded_with_before_and_after(db, superuser):
    person = f.PersonFactory(biography="Before.")
    with acting(superuser, "fix biographies"):
        Person.objects.filter(pk=person.pk).update(biography="After.")
    change = history_of(person)[0]
    assert change.action == "changed"
    assert change.who == "editor"
    assert change.reason == "fix biographies"
    assert [(c.label, c.before, c.after) for c in change.fields] == [
        ("biography", "Before.", "After."),
    ]


def test_an_import_is_recorded_with_the_acting_user(db, superuser):
    call_command("load_demo", "--user", "editor", stdout=None)
    person = Person.objects.get(slug=PERSON_SLUG)
    created = PersonHistory.objects.get(pgh_obj=person, pgh_label="insert")
    assert created.pgh_context.metadata == {
        "user": superuser.pk,
        "username": "editor",
        "reason": "load_demo: the Qari Bilal demonstration case",
        "command": "load_demo",
    }
    names = PersonNameHistory.objects.filter(person_id=person.pk)
    assert names.exists()
    assert {n.pgh_context_id for n in names} == {created.pgh_context_id}


def test_running_the_import_again_records_nothing_new(db, superuser):
    call_command("load_demo", stdout=None)
    before = PersonHistory.objects.count() + PersonNameHistory.objects.count()
    call_command("load_demo", "--user", "editor", stdout=None)
    assert PersonHistory.objects.count() + PersonNameHistory.objects.count() == before


def test_an_unknown_import_user_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named"):
        call_command("load_demo", "--user", "nobody", stdout=None)


def test_a_change_made_outside_any_context_is_recorded_without_a_user(db):
    person = f.PersonFactory(name=False)
    PersonName.objects.create(person=person, name="Qari Bilal", is_primary=True)
    changes = history_of(person)
    assert [(c.action, c.what, c.who) for c in changes] == [
        ("created", "Person name: Qari Bilal", "no user recorded"),
        ("created", "Person", "no user recorded"),
    ]


def test_history_cannot_be_edited_or_deleted(db):
    person = f.PersonFactory()
    event = PersonHistory.objects.get(pgh_obj=person)
    with pytest.raises(Exception, match="append_only"), transaction.atomic():
        PersonHistory.objects.filter(pk=event.pk).update(biography="rewritten")
    with pytest.raises(Exception, match="append_only"), transaction.atomic():
        PersonHistory.objects.filter(pk=event.pk).delete()


def test_a_save_that_changes_nothing_records_nothing(db):
    person = f.PersonFactory()
    person.save()
    assert PersonHistory.objects.filter(pgh_obj=person).count() == 1


def test_the_admin_history_page_shows_who_when_and_a_readable_diff(admin_client, superuser):
    person = f.PersonFactory(status=PublicationStatus.DRAFT, name=False)
    name = PersonName.objects.create(person=person, name="Qari Belal", is_primary=True)
    source = f.SourceFactory(title="Pajhwok, 21 April 2011")
    with acting(superuser, "checked the spelling"):
        name.name = "Qari Bilal"
        name.save()
        person.status = PublicationStatus.IN_REVIEW
        person.internal_notes = "Ask the desk about his birth year."
        person.save()
        f.CitationFactory(person=person, event=None, source=source, quote="captured")
    response = admin_client.get(reverse("admin:detainees_person_history", args=[person.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "checked the spelling" in html
    assert "<del>Draft</del> → <ins>In review</ins>" in html
    assert "<del>Qari Belal</del> → <ins>Qari Bilal</ins>" in html
    assert "Ask the desk about his birth year." in html  # staff-only page
    assert "Pajhwok, 21 April 2011" in html  # the citation's source, by name
    assert "no user recorded" in html  # the rows created before acting()


def test_every_admin_history_page_opens(admin_client, db):
    call_command("load_demo", stdout=None)
    from django.contrib import admin

    for model in admin.site._registry:
        if model._meta.app_label != "detainees":
            continue
        obj = model.objects.first()
        if obj is None:
            continue
        url = reverse(f"admin:detainees_{model._meta.model_name}_history", args=[obj.pk])
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_the_history_page_needs_a_staff_login(client, db):
    person = f.PersonFactory()
    url = reverse("admin:detainees_person_history", args=[person.pk])
    assert client.get(url).status_code == 302


def test_a_constraint_failure_leaves_no_history(db):
    person = f.PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(status="withdrawn", withdrawal_reason="")
    assert PersonHistory.objects.filter(pgh_obj=person).count() == 1


def test_the_person_page_shows_when_anything_on_it_last_changed(client):
    person = f.PersonFactory(status=PublicationStatus.PUBLISHED)
    event = f.EventFactory(status=PublicationStatus.PUBLISHED)
    f.EventPersonFactory(event=event, person=person)
    later = datetime(2030, 1, 2, tzinfo=UTC)
    Event.objects.filter(pk=event.pk).update(updated=later)  # edited on its own admin page
    html = client.get(person.get_absolute_url()).content.decode()
    assert 'Last updated <time datetime="2030-01-02T00:00:00+00:00">2 January 2030</time>' in html


def test_granting_staff_rights_is_recorded_without_the_password(db, superuser):
    from django.contrib.auth import get_user_model

    from detainees.domain.models.history import TrackedUser

    user = get_user_model().objects.create_user("intern", password="a long passphrase here")
    with acting(superuser, "joined the desk"):
        get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    UserHistory = TrackedUser.history.rel.related_model
    granted = UserHistory.objects.get(pgh_obj_id=user.pk, pgh_label="update")
    assert granted.is_staff is True
    assert granted.pgh_context.metadata["username"] == "editor"
    assert not hasattr(granted, "password")
