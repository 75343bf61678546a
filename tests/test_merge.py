"""Merging two records of one person: everything moves, nothing is lost, old links redirect."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Correction,
    EventPerson,
    Nationality,
    Person,
    PersonName,
    PersonRedirect,
    PublicationStatus,
    ReviewComment,
    Tombstone,
)

# pghistory generates the event models into the app's models module.
from detainees.models import EventPersonHistory, PersonHistory
from detainees.write.services import MergeError, merge_persons, plan_merge
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def references_to(person_pk) -> dict[str, int]:
    """Rows of every model that still point at this person's primary key, by relation.

    The audit history keeps the removed person's past (its links are not constraints)."""
    found = {}
    for rel in Person._meta.related_objects:
        if not rel.field.db_constraint:
            continue
        count = rel.related_model._base_manager.filter(**{rel.field.attname: person_pk}).count()
        if count:
            found[rel.get_accessor_name()] = count
    return found


@pytest.fixture
def editor(db):
    user = get_user_model().objects.create_user("merger", password="x-pass-123", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="merge_person"),
        Permission.objects.get(codename="change_person"),
        Permission.objects.get(codename="view_person"),
    )
    return user


@pytest.fixture
def pair():
    """Qari Bilal, and a second record of him with overlapping and new facts."""
    bilal = f.PersonFactory(name="Qari Bilal", status=PUBLISHED, gender="male")
    other = f.PersonFactory(
        name="Qari Belal", status=PUBLISHED, biography="IMU commander.", internal_notes="check"
    )
    source = f.SourceFactory(status=PUBLISHED)
    # The same capture on both records (folded), and one event only the second has (moved).
    capture = f.EventFactory(status=PUBLISHED)
    f.EventPersonFactory(event=capture, person=bilal)
    f.EventPersonFactory(event=capture, person=other)
    release = f.EventFactory(kind="release", date="2013", status=PUBLISHED)
    f.EventPersonFactory(event=release, person=other)
    # A shared name, with a citation on the duplicate, and one variant.
    PersonName.objects.create(person=bilal, name="Bilal", kind="alias")
    dup = PersonName.objects.create(person=other, name="Bilal", kind="alias")
    Citation.objects.create(source=source, person_name=dup, quote="also known as Bilal")
    PersonName.objects.create(person=other, name="Билол", kind="original_script")
    # Nationality on both (folded, with its citation), affiliation, batch and a citation.
    f.NationalityFactory(person=bilal, country="UZ")
    nat = f.NationalityFactory(person=other, country="UZ")
    Citation.objects.create(source=source, nationality=nat, quote="from Uzbekistan")
    f.AffiliationFactory(person=other, role="commander", status=PUBLISHED)
    f.BatchMembershipFactory(person=other)
    Citation.objects.create(source=source, person=other, quote="a biography")
    return bilal, other


def test_merging_moves_every_fact_and_leaves_nothing_pointing_at_the_removed(pair, editor):
    bilal, other = pair
    other_pk, other_public_id, other_slug = other.pk, other.public_id, other.slug
    citations_before = Citation.objects.count()

    redirect = merge_persons(survivor=bilal, removed=other, user=editor, reason="Same man")

    assert not Person.objects.filter(pk=other_pk).exists()
    assert references_to(other_pk) == {}
    bilal.refresh_from_db()
    names = {(n.name, n.kind, n.is_primary) for n in bilal.names.all()}
    assert names == {
        ("Qari Bilal", "common", True),
        ("Qari Belal", "common", False),
        ("Bilal", "alias", False),
        ("Билол", "original_script", False),
    }
    assert bilal.primary_name.name == "Qari Bilal"
    assert EventPerson.objects.filter(person=bilal).count() == 2
    assert Nationality.objects.filter(person=bilal).count() == 1
    assert Affiliation.objects.filter(person=bilal, role="commander").exists()
    assert BatchMembership.objects.filter(person=bilal).exists()
    # No citation was lost: the duplicates' citations moved to the survivor's rows.
    assert Citation.objects.count() == citations_before
    assert Citation.objects.filter(person_name__person=bilal, quote="also known as Bilal").exists()
    assert Citation.objects.filter(nationality__person=bilal, quote="from Uzbekistan").exists()
    assert Citation.objects.filter(person=bilal, quote="a biography").exists()
    # The survivor's blanks are filled, its own values kept; private notes carried over.
    assert bilal.gender == "male"
    assert bilal.biography == "IMU commander."
    assert "check" in bilal.internal_notes
    # The merge is recorded, and scripts see the removed record go.
    assert redirect.old_public_id == other_public_id
    assert redirect.old_slug == other_slug
    assert redirect.merged_by == editor
    assert redirect.reason == "Same man"
    assert redirect.was_published
    assert Tombstone.objects.filter(public_id=other_public_id, change="deleted").exists()


def test_the_plan_lists_what_will_move_without_writing(pair):
    bilal, other = pair
    plan = plan_merge(survivor=bilal, removed=other)
    assert plan.conflicts == []
    assert plan.moves["people in event"] == 1
    assert plan.collapsed["person in event"] == 1
    assert plan.collapsed["nationality"] == 1
    assert Person.objects.filter(pk=other.pk).exists()
    assert other.names.count() == 3
    assert other.names.filter(is_primary=True).exists()


def test_the_old_addresses_redirect_to_the_survivor(client, pair, editor):
    bilal, other = pair
    old_slug, old_id = other.slug, other.public_id
    merge_persons(survivor=bilal, removed=other, user=editor, reason="Same man")

    response = client.get(f"/people/{old_slug}/")
    assert response.status_code == 301
    assert response["Location"] == bilal.get_absolute_url()
    response = client.get(f"/id/{old_id}/")
    assert response.status_code == 301
    assert response["Location"] == bilal.get_absolute_url()
    response = client.get(f"/api/v1/persons/{old_id}/")
    assert response.status_code == 301
    assert response["Location"].endswith(f"/api/v1/persons/{bilal.public_id}/")
    assert client.get(response["Location"]).status_code == 200


def test_a_merged_draft_does_not_reveal_its_old_addresses(client, editor):
    survivor = f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    draft = f.PersonFactory(name="Bilal draft")
    old_slug, old_id = draft.slug, draft.public_id
    merge_persons(survivor=survivor, removed=draft, user=editor, reason="Same man")
    assert client.get(f"/people/{old_slug}/").status_code == 404
    assert client.get(f"/id/{old_id}/").status_code == 404
    assert client.get(f"/api/v1/persons/{old_id}/").status_code == 404


def test_a_redirect_to_an_unpublished_survivor_is_a_404(client, editor):
    survivor = f.PersonFactory(name="Qari Bilal")
    removed = f.PersonFactory(name="Qari Belal", status=PUBLISHED)
    old_slug = removed.slug
    merge_persons(survivor=survivor, removed=removed, user=editor, reason="Same man")
    assert client.get(f"/people/{old_slug}/").status_code == 404


def test_merging_again_carries_earlier_redirects_along(client, editor):
    a = f.PersonFactory(name="A", status=PUBLISHED)
    b = f.PersonFactory(name="B", status=PUBLISHED)
    c = f.PersonFactory(name="C", status=PUBLISHED)
    b_slug = b.slug
    merge_persons(survivor=b, removed=a, user=editor, reason="same")
    merge_persons(survivor=c, removed=b, user=editor, reason="same")
    assert set(PersonRedirect.objects.values_list("person", flat=True)) == {c.pk}
    response = client.get(f"/people/{b_slug}/")
    assert response["Location"] == c.get_absolute_url()


def test_a_placeholder_merged_into_a_named_person_loses_its_placeholder_flag(editor):
    named = f.PersonFactory(name="Qari Bilal")
    placeholder = f.PersonFactory(name=False, is_placeholder=True)
    f.EventPersonFactory(person=placeholder)
    merge_persons(survivor=named, removed=placeholder, user=editor, reason="identified")
    assert named.event_roles.count() == 1


def test_a_placeholder_survivor_takes_the_named_persons_primary_name(editor):
    placeholder = f.PersonFactory(name=False, is_placeholder=True)
    named = f.PersonFactory(name="Qari Bilal")
    merge_persons(survivor=placeholder, removed=named, user=editor, reason="identified")
    placeholder.refresh_from_db()
    assert placeholder.primary_name.name == "Qari Bilal"
    assert placeholder.primary_name.is_primary
    assert not placeholder.is_placeholder


def test_conflicting_values_stop_the_merge_and_nothing_is_written(pair, editor):
    bilal, other = pair
    Person.objects.filter(pk=bilal.pk).update(biography="Uzbek militant.")
    bilal.refresh_from_db()
    with pytest.raises(MergeError, match="biography"):
        merge_persons(survivor=bilal, removed=other, user=editor, reason="Same man")
    assert Person.objects.filter(pk=other.pk).exists()
    assert other.names.count() == 3
    assert other.event_roles.count() == 2
    assert not PersonRedirect.objects.exists()


def test_conflicting_claims_on_a_shared_fact_stop_the_merge(editor):
    a = f.PersonFactory(name="A")
    b = f.PersonFactory(name="B")
    f.NationalityFactory(person=a, country="UZ", claim_status="confirmed")
    f.NationalityFactory(person=b, country="UZ", claim_status="disputed")
    with pytest.raises(MergeError, match="claim status"):
        merge_persons(survivor=a, removed=b, user=editor, reason="same")


def test_a_person_cannot_be_merged_into_themselves(editor):
    a = f.PersonFactory(name="A")
    with pytest.raises(MergeError):
        merge_persons(survivor=a, removed=a, user=editor, reason="same")


def test_a_merge_needs_a_reason(editor):
    a, b = f.PersonFactory(name="A"), f.PersonFactory(name="B")
    with pytest.raises(MergeError):
        merge_persons(survivor=a, removed=b, user=editor, reason=" ")


def test_a_merged_persons_slug_is_never_given_to_someone_new(client, editor):
    survivor = f.PersonFactory(name="Qari Bilal", status=PUBLISHED)
    removed = f.PersonFactory(name="Mullah Omar", status=PUBLISHED)
    removed.refresh_slug()
    assert removed.slug == "mullah-omar"
    merge_persons(survivor=survivor, removed=removed, user=editor, reason="same")
    newcomer = f.PersonFactory(name="Mullah Omar")
    newcomer.refresh_slug()
    assert newcomer.slug == "mullah-omar-2"
    assert client.get("/people/mullah-omar/")["Location"] == survivor.get_absolute_url()


def test_the_history_records_the_merge_as_the_editors(pair, editor):
    bilal, other = pair
    other_pk = other.pk
    merge_persons(survivor=bilal, removed=other, user=editor, reason="Same man")

    deleted = PersonHistory.objects.get(pgh_obj_id=other_pk, pgh_label="delete")
    moved = EventPersonHistory.objects.filter(person_id=bilal.pk, pgh_label="update")
    assert moved.exists()
    for event in (deleted, *moved):
        assert event.pgh_context.metadata["user"] == editor.pk
        assert "Same man" in event.pgh_context.metadata["reason"]


def test_review_comments_and_corrections_follow_the_survivor(pair, editor):
    bilal, other = pair
    person_type = ContentType.objects.get_for_model(Person)
    ReviewComment.objects.create(record=other, author=editor, text="Check the 2011 date.")
    Correction.objects.create(record=other, note="The capture was in April, not May.")

    merge_persons(survivor=bilal, removed=other, user=editor, reason="Same man")

    for model in (ReviewComment, Correction):
        assert model.objects.filter(content_type=person_type, object_id=bilal.pk).count() == 1
        assert not model.objects.filter(content_type=person_type, object_id=other.pk).exists()
    assert [c.note for c in bilal.corrections.all()] == ["The capture was in April, not May."]


def test_deleting_a_person_deletes_its_corrections(editor):
    person = f.PersonFactory(status=PUBLISHED)
    Correction.objects.create(record=person, note="The capture was in April, not May.")
    person.delete()
    assert not Correction.objects.exists()
