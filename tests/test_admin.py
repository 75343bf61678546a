"""The researchers' admin: every page opens, the person page explains itself, bad input saves nothing."""

import pytest
from django.contrib import admin
from django.urls import reverse

from detainees.domain.models import Citation, Event, EventPerson, Person, PersonName
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo):
    return Person.objects.get(names__name="Qari Bilal", names__is_primary=True)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_changelist_add_and_change_page_opens_for_a_superuser(admin_client, demo):
    from detainees.domain.models import ImportJob

    for model in admin.site._registry:
        # Import jobs are a read-only log with no add page (tests/test_import_jobs.py).
        if model._meta.app_label != "detainees" or model is ImportJob:
            continue
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200, model
        assert admin_client.get(admin_url(model, "add")).status_code == 200, model
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the demo has no {model.__name__}"
        response = admin_client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200, model


def test_every_changelist_searches_and_filters(admin_client, demo):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "detainees":
            continue
        assert model_admin.search_fields, f"{model.__name__} admin has no search"
        assert model_admin.list_filter, f"{model.__name__} admin has no filters"
        response = admin_client.get(admin_url(model, "changelist"), {"q": "Bilal"})
        assert response.status_code == 200, model


def test_searching_people_finds_a_person_by_a_name_variant(admin_client, demo):
    response = admin_client.get(admin_url(Person, "changelist"), {"q": "Belal"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [demo]


def test_person_page_shows_timeline_status_line_and_warnings(admin_client, demo):
    response = admin_client.get(admin_url(Person, "change", demo.pk))
    html = response.content.decode()
    assert "Timeline" in html
    assert "20 April 2011" in html  # the capture
    assert "Parwan Detention Facility" in html
    assert "Released (" in html and "re-engaged, confirmed" in html
    assert "Consistency warnings" in html


def test_person_page_lists_warnings_when_a_fact_has_no_citation(admin_client):
    person = f.PersonFactory(name="Mullah Example")
    f.EventPersonFactory(person=person, event=f.EventFactory(kind=Event.Kind.CAPTURE))
    response = admin_client.get(admin_url(Person, "change", person.pk))
    assert "No citation for the event" in response.content.decode()


def test_autocomplete_finds_people_organizations_places_facilities_and_sources(admin_client, demo):
    cases = [
        ("person", "Bilal"),
        ("organization", "Uzbekistan"),
        ("place", "Kunduz"),
        ("facility", "Parwan"),
        ("source", "Pajhwok"),
    ]
    for model_name, term in cases:
        field = {
            "person": ("detainees", "eventperson", "person"),
            "organization": ("detainees", "eventorganization", "organization"),
            "place": ("detainees", "event", "place"),
            "facility": ("detainees", "event", "facility"),
            "source": ("detainees", "citation", "source"),
        }[model_name]
        response = admin_client.get(
            reverse("admin:autocomplete"),
            {"term": term, "app_label": field[0], "model_name": field[1], "field_name": field[2]},
        )
        assert response.status_code == 200, model_name
        assert response.json()["results"], f"no {model_name} found for {term!r}"


def test_citation_source_field_offers_adding_a_new_source_in_place(admin_client, demo):
    event = Event.objects.filter(kind=Event.Kind.CAPTURE).first()
    html = admin_client.get(admin_url(Event, "change", event.pk)).content.decode()
    assert 'id="add_id_citations-0-source"' in html
    assert "/admin/detainees/source/add/?_to_field=id&amp;_popup=1" in html


REVIEW_COMMENTS = "detainees-reviewcomment-content_type-object_id"


def event_post_data(**overrides):
    """A complete add-event form: the event, its people, organizations and citations."""
    data = {
        "kind": "capture",
        "summary": "Test capture",
        "date": "2012-05-01",
        "order_hint": "0",
        "claim_status": "reported",
        "status": "draft",
        "unnamed_count": "0",
        "internal_notes": "",
    }
    for prefix in ("people", "organizations", "citations", REVIEW_COMMENTS):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(overrides)
    return data


def test_an_event_is_entered_with_its_people_and_citations_on_one_page(admin_client):
    person = f.PersonFactory(name="Mullah Test")
    source = f.SourceFactory()
    data = event_post_data(
        date="spring 2012",
        **{
            "people-TOTAL_FORMS": "1",
            "people-0-person": str(person.pk),
            "people-0-role": "subject",
            "citations-TOTAL_FORMS": "1",
            "citations-0-source": str(source.pk),
            "citations-0-quote": "was detained in the spring",
        },
    )
    response = admin_client.post(admin_url(Event, "add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    event = Event.objects.get(summary="Test capture")
    assert event.date == "2012-21"
    assert (str(event.date_earliest), str(event.date_latest)) == ("2012-03-01", "2012-05-31")
    assert list(event.subjects()) == [person]
    assert event.citations.get().quote == "was detained in the spring"


def test_a_bad_date_shows_a_form_error_and_saves_nothing(admin_client):
    person = f.PersonFactory(name="Mullah Test")
    before = (Event.objects.count(), EventPerson.objects.count(), Citation.objects.count())
    data = event_post_data(
        date="31 February 2012",
        **{
            "people-TOTAL_FORMS": "1",
            "people-0-person": str(person.pk),
            "people-0-role": "subject",
        },
    )
    response = admin_client.post(admin_url(Event, "add"), data)
    assert response.status_code == 200
    assert "February 2012 has no day 31" in response.content.decode()
    assert (Event.objects.count(), EventPerson.objects.count(), Citation.objects.count()) == before


def test_a_release_before_the_capture_shows_an_error_and_saves_nothing(admin_client):
    person = f.PersonFactory(name="Mullah Test")
    capture = f.EventFactory(kind=Event.Kind.CAPTURE, date="2012-05-01")
    f.EventPersonFactory(event=capture, person=person)
    before = (Event.objects.count(), EventPerson.objects.count())
    data = event_post_data(
        kind="release",
        summary="Freed",
        date="2011",
        **{
            "people-TOTAL_FORMS": "1",
            "people-0-person": str(person.pk),
            "people-0-role": "subject",
        },
    )
    response = admin_client.post(admin_url(Event, "add"), data)
    assert response.status_code == 200
    assert "is dated before the earliest capture or custody" in response.content.decode()
    assert (Event.objects.count(), EventPerson.objects.count()) == before


def test_moving_a_capture_after_its_release_is_refused(admin_client):
    person = f.PersonFactory(name="Mullah Test")
    capture = f.EventFactory(kind=Event.Kind.CAPTURE, date="2012-05-01", summary="Caught")
    release = f.EventFactory(kind=Event.Kind.RELEASE, date="2013")
    f.EventPersonFactory(event=capture, person=person)
    f.EventPersonFactory(event=release, person=person)
    data = event_post_data(
        kind="capture",
        summary="Caught",
        date="2014",
        **{
            "people-TOTAL_FORMS": "1",
            "people-INITIAL_FORMS": "1",
            "people-0-id": str(capture.people.get().pk),
            "people-0-event": str(capture.pk),
            "people-0-person": str(person.pk),
            "people-0-role": "subject",
        },
    )
    response = admin_client.post(admin_url(Event, "change", capture.pk), data)
    assert response.status_code == 200
    capture.refresh_from_db()
    assert capture.date == "2012-05-01"


def test_a_second_primary_name_shows_a_form_error(admin_client):
    person = f.PersonFactory(name="Qari Bilal")
    name = person.names.get()
    data = {
        "gender": "male",
        "birth": "",
        "biography": "",
        "status": "draft",
        "internal_notes": "",
        "names-TOTAL_FORMS": "2",
        "names-INITIAL_FORMS": "1",
        "names-MIN_NUM_FORMS": "0",
        "names-MAX_NUM_FORMS": "1000",
        "names-0-id": str(name.pk),
        "names-0-person": str(person.pk),
        "names-0-name": "Qari Bilal",
        "names-0-kind": "common",
        "names-0-is_primary": "on",
        "names-0-claim_status": "reported",
        "names-1-person": str(person.pk),
        "names-1-name": "Bilal",
        "names-1-kind": "common",
        "names-1-is_primary": "on",
        "names-1-claim_status": "reported",
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
    response = admin_client.post(admin_url(Person, "change", person.pk), data)
    assert response.status_code == 200
    assert PersonName.objects.filter(person=person).count() == 1


def test_person_changelist_runs_a_constant_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    for i in range(30):
        f.PersonFactory(name=f"Person {i}")
    with django_assert_max_num_queries(12):
        response = admin_client.get(admin_url(Person, "changelist"))
    assert len(response.context["cl"].result_list) == 30
