"""People as national registers record them: birthplace, age at an event, what a source
withholds, name parts sorted by surname, and countries that no longer exist."""

import csv
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from detainees.domain.models import (
    Event,
    EventPerson,
    Nationality,
    Person,
    PersonListing,
    PersonName,
    Place,
    PublicationStatus,
)
from detainees.read.listing import annotate_listing
from detainees.read.person import Age, age_at_event
from detainees.write.exports.package import DESCRIPTOR, RECORDS, write_export
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests import factories as f
from tests.test_admin import REVIEW_COMMENTS, admin_url, event_post_data
from tests.test_export import empty_database

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def published_person(name="Person", **kwargs):
    return f.PersonFactory(status=PUBLISHED, name=name, **kwargs)


def sarajevo():
    country = f.CountryFactory(name="Yugoslavia", country="YU", status=PUBLISHED)
    return f.PlaceFactory(name="Sarajevo", parent=country, country="YU", status=PUBLISHED)


def captured(person, when, *, age=None):
    event = f.EventFactory(kind=Event.Kind.CAPTURE, date=when, status=PUBLISHED, summary="Held")
    return f.EventPersonFactory(event=event, person=person, age=age)


# --- Age at an event ----------------------------------------------------------------------------


def age(stated=None, born=(None, None), event=(None, None)):
    return age_at_event(
        stated=stated,
        birth_earliest=born[0],
        birth_latest=born[1],
        event_earliest=event[0],
        event_latest=event[1],
    )


def test_a_stated_age_wins_over_the_birth_date():
    result = age(31, born=(date(1960, 1, 1), date(1960, 12, 31)), event=(date(2011, 4, 20),) * 2)
    assert result == Age(31, 31, stated=True) and result.text == "aged 31"


def test_a_birth_day_and_an_event_day_give_one_age():
    assert age(born=(date(1980, 5, 10),) * 2, event=(date(2011, 5, 9),) * 2).text == "aged 30"
    assert age(born=(date(1980, 5, 10),) * 2, event=(date(2011, 5, 10),) * 2).text == "aged 31"


def test_a_birth_year_gives_a_range_of_two_ages():
    result = age(born=(date(1980, 1, 1), date(1980, 12, 31)), event=(date(2004, 6, 1),) * 2)
    assert result == Age(23, 24, stated=False) and result.text == "aged 23\u201324"


def test_fuzzy_event_dates_widen_the_range():
    result = age(born=(date(1980, 3, 1),) * 2, event=(date(2000, 1, 1), date(2002, 12, 31)))
    assert (result.low, result.high) == (19, 22)


def test_no_age_without_both_dates_or_before_birth():
    assert age(born=(date(1980, 1, 1),) * 2) is None
    assert age(event=(date(2000, 1, 1),) * 2) is None
    assert age(born=(date(1980, 1, 1),) * 2, event=(date(1970, 1, 1),) * 2) is None


# --- Constraints --------------------------------------------------------------------------------


def test_the_database_refuses_an_age_of_200():
    link = captured(f.PersonFactory(), "2011")
    with pytest.raises(IntegrityError), transaction.atomic():
        EventPerson.objects.filter(pk=link.pk).update(age=200)
    link.age = 200
    with pytest.raises(ValidationError) as error:
        link.full_clean()
    assert "age" in error.value.message_dict


def test_the_database_refuses_an_unknown_withheld_value():
    person = f.PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(withheld=["name", "shoe size"])
    person.withheld = ["shoe size"]
    with pytest.raises(ValidationError) as error:
        person.full_clean()
    assert "withheld" in error.value.message_dict


@pytest.mark.parametrize("code", ["YU", "CS", "SU", "DD", "YD"])
def test_historical_countries_pass_the_country_checks(code):
    nationality = f.NationalityFactory(country=code)
    nationality.full_clean()
    f.CountryFactory(name=nationality.country.name, country=code)
    assert nationality.country.name in {
        "Yugoslavia",
        "Czechoslovakia",
        "Soviet Union",
        "East Germany",
        "South Yemen",
    }


# --- Admin --------------------------------------------------------------------------------------


def person_post_data(**overrides):
    data = {
        "gender": "unknown",
        "birth": "",
        "birthplace": "",
        "biography": "",
        "fate": "unknown",
        "fate_claim_status": "reported",
        "status": "draft",
        "internal_notes": "",
    }
    for prefix in (
        "names",
        "nationalities",
        "affiliations",
        "relationships",
        "relationships_as_other",
        "citations",
        REVIEW_COMMENTS,
    ):
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


def test_the_admin_enters_birthplace_withheld_name_parts_and_a_historical_nationality(
    admin_client,
):
    place = sarajevo()
    data = person_post_data(
        birthplace=str(place.pk),
        withheld=["gender", "birth"],
        **{
            "names-TOTAL_FORMS": "1",
            "names-0-name": "Emina Hodžić",
            "names-0-given": "Emina",
            "names-0-family": "Hodžić",
            "names-0-kind": "married",
            "names-0-is_primary": "on",
            "names-0-claim_status": "reported",
            "nationalities-TOTAL_FORMS": "1",
            "nationalities-0-country": "YU",
            "nationalities-0-claim_status": "reported",
        },
    )
    response = admin_client.post(admin_url(Person, "add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]

    person = Person.objects.get()
    assert person.birthplace == place
    assert person.withheld == ["gender", "birth"]
    name = person.names.get()
    assert (name.given, name.family, name.kind) == ("Emina", "Hodžić", "married")
    assert person.nationalities.get().country.code == "YU"
    change = admin_client.get(admin_url(Person, "change", person.pk)).content.decode()
    assert 'name="names-0-family"' in change and "Withheld by the source" in change


def test_the_admin_saves_a_person_whose_name_is_withheld_without_a_name(admin_client):
    refused = admin_client.post(admin_url(Person, "add"), person_post_data())
    assert refused.status_code == 200 and not Person.objects.exists()

    response = admin_client.post(admin_url(Person, "add"), person_post_data(withheld=["name"]))
    assert response.status_code == 302
    assert Person.objects.get().display_name.startswith("Name withheld by the source")


def test_the_admin_refuses_an_unknown_withheld_value_with_a_form_error(admin_client):
    response = admin_client.post(admin_url(Person, "add"), person_post_data(withheld=["shoes"]))
    assert response.status_code == 200
    assert "shoes is not one of the available choices" in response.content.decode()
    assert not Person.objects.exists()


def test_the_admin_enters_an_age_at_the_event_and_refuses_200(admin_client):
    person = f.PersonFactory(name="Mullah Test")
    people = {
        "people-TOTAL_FORMS": "1",
        "people-0-person": str(person.pk),
        "people-0-role": "subject",
    }
    refused = admin_client.post(
        admin_url(Event, "add"), event_post_data(**people, **{"people-0-age": "200"})
    )
    assert refused.status_code == 200
    assert "less than or equal to 120" in refused.content.decode()
    assert not Event.objects.exists()

    response = admin_client.post(
        admin_url(Event, "add"), event_post_data(**people, **{"people-0-age": "23"})
    )
    assert response.status_code == 302
    assert EventPerson.objects.get().age == 23


# --- API ----------------------------------------------------------------------------------------


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


def test_the_api_writes_birthplace_withheld_name_parts_and_a_historical_nationality(
    as_researcher,
):
    place = sarajevo()
    response = post(
        as_researcher,
        "/api/v1/persons/",
        {
            "birthplace": str(place.public_id),
            "withheld": ["nationality", "gender", "gender"],
            "names": [
                {"name": "Hodžić Emina", "given": "Emina", "family": "Hodžić", "is_primary": True}
            ],
            "nationalities": [{"country": "SU"}],
        },
    )
    assert response.status_code == 201, response.content
    person = Person.objects.get(public_id=response.json()["id"])
    assert person.birthplace == place and person.withheld == ["gender", "nationality"]
    assert person.names.get().family == "Hodžić"
    assert person.nationalities.get().country.code == "SU"


def test_the_api_answers_bad_register_values_with_field_messages(as_researcher):
    response = post(
        as_researcher,
        "/api/v1/persons/",
        {"withheld": ["shoe size"], "names": [{"name": "X", "is_primary": True}]},
    )
    assert response.status_code == 400
    assert "withheld" in response.json()
    person = f.PersonFactory()
    response = post(
        as_researcher,
        "/api/v1/events/",
        {
            "kind": "capture",
            "date": "2011",
            "people": [{"person": str(person.public_id), "age": 200}],
        },
    )
    assert response.status_code == 400
    assert "people" in response.json()
    assert not Event.objects.exists()


def test_the_api_person_without_a_name_needs_the_name_withheld(as_researcher):
    assert post(as_researcher, "/api/v1/persons/", {}).status_code == 400
    response = post(as_researcher, "/api/v1/persons/", {"withheld": ["name"]})
    assert response.status_code == 201, response.content


def test_the_api_detail_gives_birthplace_withheld_name_parts_and_ages(client):
    person = published_person(
        "Emina Hodžić", birth="1980", birthplace=sarajevo(), withheld=["nationality"]
    )
    PersonName.objects.filter(person=person).update(given="Emina", family="Hodžić")
    captured(person, "2004-06-01")
    captured(person, "2005-06-01", age=25)

    data = client.get(f"/api/v1/persons/{person.public_id}/").json()

    assert data["birthplace"] == {
        "id": str(person.birthplace.public_id),
        "name": "Sarajevo (province)",
    }
    assert data["withheld"] == ["nationality"]
    assert data["names"][0]["given"] == "Emina" and data["names"][0]["family"] == "Hodžić"
    assert [e["age_at_event"] for e in data["timeline"]] == [
        {"from": 23, "to": 24, "stated": False},
        {"from": 25, "to": 25, "stated": True},
    ]
    assert data["timeline"][1]["people"][0]["age"] == 25


def test_a_draft_birthplace_is_not_shown(client):
    place = f.PlaceFactory(name="Secret village", status=PublicationStatus.DRAFT)
    person = published_person("Someone", birthplace=place)

    data = client.get(f"/api/v1/persons/{person.public_id}/").json()
    page = client.get(person.get_absolute_url()).content.decode()

    assert data["birthplace"] is None
    assert "Secret village" not in page and "Birthplace" not in page


# --- Person page --------------------------------------------------------------------------------


def test_the_person_page_shows_birthplace_ages_and_a_historical_nationality(client):
    person = published_person("Emina Hodžić", birth="1980", birthplace=sarajevo())
    f.NationalityFactory(person=person, country="DD")
    captured(person, "2004-06-01")
    captured(person, "2005-06-01", age=25)

    page = client.get(person.get_absolute_url()).content.decode()

    assert "<strong>Birthplace:</strong>" in page and "Sarajevo</a>, Yugoslavia" in page
    assert "East Germany" in page
    assert "aged 23\u201324" in page and "aged 25" in page


def test_the_person_page_says_what_the_source_withholds(client):
    person = f.PersonFactory(
        status=PUBLISHED, name=False, withheld=["name", "birth", "birthplace", "gender"]
    )

    response = client.get(person.get_absolute_url())
    page = response.content.decode()

    assert response.status_code == 200
    assert page.count("Withheld by the source") == 4  # name, born, birthplace, gender
    assert "Name withheld by the source" in page  # the heading, for a person with no name
    assert "Unknown" not in page


def test_the_people_list_names_a_person_whose_name_is_withheld_as_such(client):
    f.PersonFactory(status=PUBLISHED, name=False, withheld=["name"])
    f.PersonFactory(status=PUBLISHED, name=False, is_placeholder=True)

    page = client.get("/people/", {"who": "all"}).content.decode()

    # Neither has an event: the description says what they are, and nothing more.
    assert ">person whose name the source withholds</a>" in page
    assert ">unnamed person</a>" in page


def test_a_named_person_with_nothing_withheld_shows_no_withheld_lines(client):
    person = published_person("Qari Test")
    page = client.get(person.get_absolute_url()).content.decode()
    assert "Withheld" not in page and "Birthplace" not in page


# --- People list: surname first -----------------------------------------------------------------


def named(name, given="", family=""):
    person = published_person(name)
    PersonName.objects.filter(person=person).update(given=given, family=family)
    return person


def test_the_people_list_and_the_stored_list_sort_by_surname(client):
    named("Zoran Adamović", "Zoran", "Adamović")
    named("Ana Zec", "Ana", "Zec")
    named("Mullah Baradar")
    named("Cvijetić")  # a family part alone
    PersonName.objects.filter(name="Cvijetić").update(family="Cvijetić")

    expected = ["Adamović, Zoran", "Cvijetić", "Mullah Baradar", "Zec, Ana"]
    computed = annotate_listing(Person.objects.public()).order_by("sort_name")
    assert [p.sort_name for p in computed] == expected
    stored = PersonListing.objects.order_by("sort_name")
    assert [row.sort_name for row in stored] == expected
    response = client.get("/people/", {"sort": "name", "who": "all"})
    assert [p.sort_name for p in response.context["page"].rows] == expected


def test_editing_a_names_family_part_updates_the_stored_row():
    person = named("Ana Zec")
    assert PersonListing.objects.get(person=person).sort_name == "Ana Zec"

    name = person.names.get()
    name.given, name.family = "Ana", "Zec"
    name.save()

    assert PersonListing.objects.get(person=person).sort_name == "Zec, Ana"


# --- Data package -------------------------------------------------------------------------------


def test_the_data_package_round_trip_keeps_every_register_field(tmp_path):
    place = sarajevo()
    person = published_person("Emina Hodžić", birthplace=place, withheld=["birth", "gender"])
    PersonName.objects.filter(person=person).update(
        given="Emina", family="Hodžić", kind=PersonName.Kind.MARRIED
    )
    f.NationalityFactory(person=person, country="YD")
    captured(person, "2004", age=24)
    first, second = tmp_path / "first", tmp_path / "second"
    write_export(first)

    with (first / "persons.csv").open(newline="") as rows:
        [row] = list(csv.DictReader(rows))
    assert row["withheld"] == "birth;gender"
    assert row["birthplace"] == str(place.public_id)
    with (first / "event_people.csv").open(newline="") as rows:
        assert [r["age"] for r in csv.DictReader(rows)] == ["24"]

    empty_database()
    import_rows(read_file(first / DESCRIPTOR), publish=True)
    write_export(second)

    person = Person.objects.get(public_id=person.public_id)
    assert person.withheld == ["birth", "gender"]
    assert person.birthplace.public_id == place.public_id
    name = person.names.get()
    assert (name.given, name.family, name.kind) == ("Emina", "Hodžić", "married")
    assert person.nationalities.get().country.code == "YD"
    assert EventPerson.objects.get().age == 24
    assert (first / "persons.csv").read_bytes() == (second / "persons.csv").read_bytes()
    assert (first / RECORDS).read_bytes() == (second / RECORDS).read_bytes()


def test_the_importer_reads_historical_countries_and_withheld_lists(tmp_path):
    (tmp_path / "places.csv").write_text("id,name,kind,country\nCS,Czechoslovakia,country,CS\n")
    (tmp_path / "persons.csv").write_text(
        "id,withheld,birthplace,is_placeholder\nP1, name ; nationality ,CS,\n"
    )
    (tmp_path / "nationalities.csv").write_text("id,person,country\nN1,P1,cs\n")

    import_rows(read_file(tmp_path))

    person = Person.objects.get()
    assert person.withheld == ["name", "nationality"]
    assert person.birthplace == Place.objects.get(country="CS")
    assert Nationality.objects.get().country.name == "Czechoslovakia"


def test_the_importer_names_the_line_of_a_bad_withheld_value_or_age(tmp_path):
    (tmp_path / "persons.csv").write_text(
        "id,withheld,is_placeholder\nP1,name,\nP2,name;shoe size,true\n"
    )
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(tmp_path / "persons.csv"))
    [error] = refused.value.errors
    assert error.where == "persons.csv, line 3"
    assert "'shoe size' is not one of" in error.message
    assert not Person.objects.exists()

    person = f.PersonFactory()
    event = f.EventFactory()
    path = tmp_path / "event_people.csv"
    path.write_text(f"id,event,person,age\nL1,{event.public_id},{person.public_id},200\n")
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path))
    [error] = refused.value.errors
    assert error.where == "event_people.csv, line 2"
    assert "120" in error.message
    assert not EventPerson.objects.exists()
