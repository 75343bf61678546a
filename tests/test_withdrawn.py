"""Withdrawn records answer 410 Gone with their public reason, and nothing else about them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from detainees.domain.models import Person, PublicationStatus, Tombstone
from tests import factories as f

pytestmark = pytest.mark.django_db

PUBLISHED = PublicationStatus.PUBLISHED
WITHDRAWN = PublicationStatus.WITHDRAWN
REASON = "Two records described the same man; see the merged record."

# Each record with a public page and API detail: its factory, page, and API list.
RECORDS = {
    "person": (lambda **kw: f.PersonFactory(name="Qari Zakir", **kw), "person-detail", "persons"),
    "organization": (f.OrganizationFactory, "organization-detail", "organizations"),
    "facility": (f.FacilityFactory, "facility-detail", "facilities"),
    "place": (f.PlaceFactory, "place-detail", "places"),
    "batch": (f.ReleaseBatchFactory, "batch-detail", "batches"),
    "source": (f.SourceFactory, "source-detail", "sources"),
}


def page_url(record, url_name):
    key = record.public_id if url_name == "source-detail" else record.slug
    return reverse(f"detainees:{url_name}", args=[key])


def withdraw(record, reason=REASON):
    record.status = WITHDRAWN
    record.withdrawal_reason = reason
    record.save()
    return record


@pytest.mark.parametrize("kind", RECORDS)
def test_a_withdrawn_record_page_answers_410_with_only_its_reason(client, kind):
    make, url_name, _ = RECORDS[kind]
    record = withdraw(make(status=PUBLISHED, internal_notes="Private: the desk doubts it."))
    record.refresh_from_db()
    shown_before = str(record)
    response = client.get(page_url(record, url_name))
    assert response.status_code == 410
    html = response.content.decode()
    assert REASON in html
    assert "Withdrawn" in html
    assert shown_before not in html  # not even its name
    assert "Private" not in html


@pytest.mark.parametrize("kind", RECORDS)
def test_a_withdrawn_record_answers_410_in_the_api_too(client, kind):
    make, _, list_name = RECORDS[kind]
    record = withdraw(make(status=PUBLISHED))
    response = client.get(f"/api/v1/{list_name}/{record.public_id}/")
    assert response.status_code == 410
    assert response.json() == {
        "detail": f"This {record._meta.verbose_name} was withdrawn.",
        "reason": REASON,
    }


def test_a_withdrawn_event_answers_410_in_the_api(client):
    event = withdraw(f.EventFactory(status=PUBLISHED))
    response = client.get(f"/api/v1/events/{event.public_id}/")
    assert response.status_code == 410
    assert response.json()["reason"] == REASON


@pytest.mark.parametrize("kind", RECORDS)
@pytest.mark.parametrize("status", [PublicationStatus.DRAFT, PublicationStatus.IN_REVIEW])
def test_a_draft_stays_404(client, kind, status):
    make, url_name, list_name = RECORDS[kind]
    record = make(status=status)
    assert client.get(page_url(record, url_name)).status_code == 404
    assert client.get(f"/api/v1/{list_name}/{record.public_id}/").status_code == 404


@pytest.mark.parametrize("kind", RECORDS)
def test_a_record_withdrawn_before_it_was_ever_published_stays_404(client, kind):
    make, url_name, list_name = RECORDS[kind]
    record = withdraw(make(status=PublicationStatus.IN_REVIEW))
    assert not Tombstone.objects.filter(public_id=record.public_id).exists()
    assert client.get(page_url(record, url_name)).status_code == 404
    assert client.get(f"/api/v1/{list_name}/{record.public_id}/").status_code == 404


def test_a_published_record_moved_back_to_draft_stays_404(client):
    person = f.PersonFactory(status=PUBLISHED)
    Person.objects.filter(pk=person.pk).update(status=PublicationStatus.DRAFT)
    assert client.get(person.get_absolute_url()).status_code == 404


def test_a_withdrawn_persons_permalink_and_feed_answer_410(client):
    person = withdraw(f.PersonFactory(status=PUBLISHED))
    permalink = client.get(reverse("detainees:permalink", args=[person.public_id]))
    assert permalink.status_code == 410
    assert REASON in permalink.content.decode()
    feed = client.get(reverse("detainees:person-feed", args=[person.slug]))
    assert feed.status_code == 410
    assert feed.content.decode() == f"Withdrawn: {REASON}"


def test_a_record_published_again_answers_200(client):
    person = withdraw(f.PersonFactory(status=PUBLISHED))
    person.status = PUBLISHED
    person.save()
    assert client.get(person.get_absolute_url()).status_code == 200


def test_the_changes_feed_carries_the_public_reason(client):
    person = withdraw(f.PersonFactory(status=PUBLISHED))
    place = f.PlaceFactory(status=PUBLISHED)
    place.status = PublicationStatus.DRAFT
    place.save()
    event = f.EventFactory(status=PUBLISHED)
    event.delete()
    rows = client.get("/api/v1/changes/").json()["results"]
    assert [(r["type"], r["id"], r["change"], r["reason"]) for r in rows] == [
        ("person", str(person.public_id), "withdrawn", REASON),
        ("place", str(place.public_id), "withdrawn", ""),  # moved to draft: no public reason
        ("event", str(event.public_id), "deleted", ""),
    ]


def test_withdrawing_without_a_reason_is_refused_by_the_database(db):
    person = f.PersonFactory(status=PUBLISHED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(status=WITHDRAWN)
    person.status = WITHDRAWN
    with pytest.raises(ValidationError, match="Give a public reason"):
        person.full_clean()


def test_the_admin_asks_for_a_reason_when_withdrawing(admin_client):
    org = f.OrganizationFactory(status=PUBLISHED)
    url = reverse("admin:detainees_organization_change", args=[org.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "status": WITHDRAWN,
            "withdrawal_reason": "",
            "names-TOTAL_FORMS": 0,
            "names-INITIAL_FORMS": 0,
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Give a public reason when withdrawing a record." in response.content.decode()
    org.refresh_from_db()
    assert org.status == PUBLISHED
