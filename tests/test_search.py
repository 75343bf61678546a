"""Search: any spelling of a name finds its record first, drafts never show, queries stay few."""

import pytest
from django.db import connection

from detainees.domain.models import (
    Facility,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    Place,
    PublicationStatus,
    Source,
)
from detainees.domain.names import name_key
from detainees.read.search import (
    refresh_search_keys,
    search_all,
    search_facilities,
    search_organizations,
    search_people,
    search_places,
    search_sources,
)
from detainees.write.demo import load_demo
from tests.factories import OrganizationFactory, PlaceFactory, SourceFactory

PUBLISHED = PublicationStatus.PUBLISHED


def make_person(primary: str, *others, status=PUBLISHED) -> Person:
    """A person with a primary name and other names, each a string or (name, language)."""
    reason = "Withdrawn in a test." if status == PublicationStatus.WITHDRAWN else ""
    person = Person.objects.create(status=status, withdrawal_reason=reason)
    PersonName.objects.create(person=person, name=primary, is_primary=True)
    for other in others:
        name, language = other if isinstance(other, tuple) else (other, "")
        PersonName.objects.create(
            person=person, name=name, language=language, kind=PersonName.Kind.SPELLING
        )
    return person


def named(name: str) -> Person:
    return Person.objects.get(names__name=name, names__is_primary=True)


def write_people() -> dict[str, Person]:
    """The demo case, made-up people with tricky names, and near misses for each of them."""
    load_demo()
    return {
        "bilal": named("Qari Bilal"),
        "sibghatullah": named("Qari Sibghatullah"),
        "karzai": named("Hamid Karzai"),
        "omari": make_person("Mohammad Nabi Omari"),
        "haqqani": make_person("Jalaluddin Haqqani", ("جلال الدين حقاني", "ar")),
        "masri": make_person("Abu Ubaidah al-Masri"),
        "hekmatyar": make_person("Gulbuddin Hekmatyar"),
        "yoldosh": make_person("Tohir Yo'ldosh", ("Тоҳир Йўлдош", "uz-Cyrl")),
        "mojaddedi": make_person("Sibghatullah Mojaddedi"),
        # Near misses: each shares a word or a close spelling with someone above.
        "omar": make_person("Mullah Mohammad Omar"),
        "wali_karzai": make_person("Ahmed Wali Karzai"),
        "bilal_ahmad": make_person("Bilal Ahmad"),
        "nabi": make_person("Nabi Jan"),
    }


@pytest.fixture(scope="module")
def written_people(module_data):
    """Written once for the file: no test changes them (what a test adds rolls back)."""
    return module_data(write_people)


@pytest.fixture
def people(written_people, db):
    return written_people


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Qari Belal", "bilal"),
        ("Bilal", "bilal"),
        ("belal", "bilal"),
        ("Qari Bilal", "bilal"),
        ("Bilal Qari", "bilal"),
        ("  QARI   bilal ", "bilal"),
        ("Sibghatullah", "sibghatullah"),
        ("Sebghatullah", "sibghatullah"),
        ("Qari Sebghatollah", "sibghatullah"),
        ("Mojaddedi", "mojaddedi"),
        ("Sebghatullah Mujaddidi", "mojaddedi"),
        ("Karzai", "karzai"),
        ("Hamed Karzai", "karzai"),
        ("President Hamid Karzai", "karzai"),
        ("Karzai Hamid", "karzai"),
        ("Mohammad Nabi Omari", "omari"),
        ("Muhammad Nabi Omari", "omari"),
        ("Mohammed Omari", "omari"),
        ("Haqqani", "haqqani"),
        ("Haqani", "haqqani"),
        ("Jalaludin Haqani", "haqqani"),
        ("Maulvi Jalaluddin Haqqani", "haqqani"),
        ("Mawlawi Jalal ud-Din Haqqani", "haqqani"),
        ("Haqqani Jalaluddin", "haqqani"),
        ("جلال الدين حقاني", "haqqani"),
        ("جلال‌الدین حقانی", "haqqani"),  # Persian letters and a zero-width non-joiner
        ("Abu Ubaidah al-Masri", "masri"),
        ("Abu Ubaida Masri", "masri"),
        ("Abu Ubaydah el-Masri", "masri"),
        ("el-Masri", "masri"),
        ("Hékmatyar", "hekmatyar"),
        ("hekmatyar", "hekmatyar"),
        ("Gulbuddin Hikmatyar", "hekmatyar"),
        ("Тоҳир Йўлдош", "yoldosh"),
        ("мулла Тохир Йулдош", "yoldosh"),
        ("Tohir Yoldosh", "yoldosh"),
        ("Mullah Omar", "omar"),
    ],
)
def test_a_name_variant_finds_its_person_first(people, query, expected):
    found = list(search_people(query))
    assert found, f"{query!r} found nobody"
    assert found[0] == people[expected], [(p.search_name, p.search_rank) for p in found]


@pytest.mark.parametrize(
    "variants",
    [
        ("Qari Belal", "Bilal", "bilal qari", "Mullah Bilal"),
        ("Mohammad Omar", "Muhammad Omar", "Mohammed Omar", "Mohamad Omar", "Omar Mohd"),
        ("Jalaluddin Haqqani", "Jalal ud-Din Haqani", "Maulvi Jalaluddin Haqqani"),
        ("Abu Ubaidah al-Masri", "Abu Ubayda Masri", "abu ubaida el masri"),
        ("Abdul Rahman", "Abd al-Rahman", "Abdurrahman", "Abdelrahman"),
        ("Sibghatullah", "Sibghat Ullah", "Sebghatollah"),
        ("Hékmatyar", "Hekmatyar", "HEKMATYAR"),
        ("Kunduz", "Kondoz", "Qunduz"),
        ("al-Qaeda", "al Qaida", "Al-Qa'ida"),
    ],
)
def test_spelling_variants_of_a_name_share_one_key(variants):
    assert len({name_key(v) for v in variants}) == 1, [name_key(v) for v in variants]


def test_a_key_keeps_other_scripts_and_names_that_are_only_titles():
    assert name_key("جلال الدين حقاني") == name_key("جلال‌الدین حقانی")
    assert name_key("Тоҳир Йўлдош") == name_key("тоҳир йўлдош")
    assert name_key("Mullah") == name_key("mulla") != ""
    assert name_key("") == name_key(" - ") == ""


@pytest.mark.django_db
def test_a_person_is_found_once_through_all_their_matching_names():
    person = make_person("Qari Bilal", "Bilal", "Qari Belal")
    found = list(search_people("Belal"))
    assert found == [person]
    assert found[0].search_name == "Qari Belal"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [PublicationStatus.DRAFT, PublicationStatus.IN_REVIEW, PublicationStatus.WITHDRAWN],
)
def test_an_unpublished_person_is_never_found(status):
    make_person("Qari Zakir", "Zakir", status=status)
    assert not search_people("Qari Zakir").exists()
    assert search_all("Zakir")["people"] == []


@pytest.mark.django_db
def test_a_given_queryset_decides_what_may_be_found():
    draft = make_person("Qari Zakir", status=PublicationStatus.DRAFT)
    other = make_person("Zakir Jan", status=PublicationStatus.DRAFT)
    assert list(search_people("Zakir", queryset=Person.objects.all())) == [draft, other]
    assert list(search_people("Zakir", queryset=Person.objects.filter(pk=draft.pk))) == [draft]


def test_a_title_alone_finds_the_names_that_have_it(people):
    found = list(search_people("Qari"))
    assert set(found) == {people["bilal"], people["sibghatullah"]}
    assert [p.search_name for p in search_people("mullah")] == ["Mullah Mohammad Omar"]


def test_an_exact_spelling_ranks_above_a_variant_sharing_its_key(people):
    hamed = make_person("Hamed Karzai")
    assert name_key("Hamed Karzai") == name_key("Hamid Karzai")
    assert list(search_people("Hamed Karzai"))[:2] == [hamed, people["karzai"]]
    assert list(search_people("Hamid Karzai"))[:2] == [people["karzai"], hamed]


def test_results_are_ranked_best_first(people):
    found = list(search_people("Karzai"))
    assert found[:2] == [people["karzai"], people["wali_karzai"]]
    ranks = [p.search_rank for p in found]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] > ranks[1]
    exact, fuzzy = search_people("Bilal"), search_people("Bilaal")
    assert exact[0].search_rank > fuzzy[0].search_rank


@pytest.mark.django_db
def test_search_people_costs_one_query_for_one_or_many_results(django_assert_num_queries):
    make_person("Qari Bilal")
    for n in range(25):
        make_person(f"Mohammad Karim {n}", f"Muhammad Karim {n}")
    for query, expected in [("Bilal", 1), ("Mohammad Karim", 25)]:
        with django_assert_num_queries(1):
            found = [(p.pk, p.search_rank, p.search_name) for p in search_people(query)]
        assert len(found) == expected


def test_search_all_returns_the_best_of_each_kind(people):
    results = search_all("Kunduz", limit=3)
    assert set(results) == {"people", "organizations", "facilities", "places", "sources"}
    assert results["people"] == []
    assert results["places"][0].name == "Kunduz"
    assert "Senior IMU leader captured in Kunduz" in [s.title for s in results["sources"]]
    assert all(len(found) <= 3 for found in results.values())


def test_search_all_costs_six_queries_with_names_shown(people, django_assert_num_queries):
    with django_assert_num_queries(6):
        results = search_all("Bilal")
        shown = [[name.name for name in p.names.all()] for p in results["people"]]
    assert results["people"][0] == people["bilal"]
    assert "Qari Belal" in shown[0]
    with django_assert_num_queries(0):
        assert search_all("") == dict.fromkeys(results, [])


@pytest.mark.django_db
def test_an_empty_query_finds_nothing():
    make_person("Qari Bilal")
    for query in ["", "   ", "-", "'"]:
        assert not search_people(query).exists()
        assert not search_sources(query).exists()


# Organizations, places, facilities, sources.


@pytest.mark.parametrize(
    "query, expected",
    [
        ("IMU", "Islamic Movement of Uzbekistan"),
        ("imu", "Islamic Movement of Uzbekistan"),
        ("Islamic Movement of Uzbekistan", "Islamic Movement of Uzbekistan"),
        ("Uzbek Islamic movement", "Islamic Movement of Uzbekistan"),
        ("Ozbekiston Islomiy Harakati", "Islamic Movement of Uzbekistan"),
        ("al-Qaida", "al Qaeda"),
        ("Al Qaeda", "al Qaeda"),
        ("ISAF", "International Security Assistance Force"),
        ("Coalition forces", "International Security Assistance Force"),
        ("Tolo News", "TOLOnews"),
        ("Long War Journal", "FDD's Long War Journal"),
    ],
)
def test_an_organization_is_found_by_name_variant_or_abbreviation(people, query, expected):
    found = list(search_organizations(query))
    assert found and found[0].name == expected, [(o.name, o.search_rank) for o in found]


@pytest.mark.django_db
def test_an_unpublished_organization_is_never_found():
    draft = OrganizationFactory(name="Hezb-e Islami", abbreviation="HIG")
    OrganizationName.objects.create(organization=draft, name="Hizb-i Islami Gulbuddin")
    for query in ["Hezb-e Islami", "HIG", "Hizb-i Islami Gulbuddin"]:
        assert not search_organizations(query).exists()
    draft.status = PUBLISHED
    draft.save()
    for query in ["Hezb-e Islami", "HIG", "Hizb i Islami Gulbuddin"]:
        assert list(search_organizations(query)) == [draft]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Kunduz", "Kunduz"),
        ("Kondoz", "Kunduz"),
        ("Qunduz", "Kunduz"),
        ("Khan Abad", "Khanabad"),
        ("Khanabad", "Khanabad"),
        ("Chahar Dara", "Chahar Darah"),
        ("Baluchistan", "Balochistan"),
    ],
)
def test_a_place_is_found_by_a_spelling_variant(people, query, expected):
    found = list(search_places(query))
    assert found and found[0].name == expected, [(p.name, p.search_rank) for p in found]


@pytest.mark.django_db
def test_an_unpublished_place_is_never_found():
    PlaceFactory(name="Imam Sahib", status=PublicationStatus.DRAFT)
    assert not search_places("Imam Sahib").exists()


@pytest.mark.parametrize("query", ["Parwan", "parwan detention facility", "Parvan"])
def test_a_facility_is_found_by_a_word_of_its_name(people, query):
    found = list(search_facilities(query))
    assert found and found[0].name == "Parwan Detention Facility"


@pytest.mark.django_db
def test_a_source_is_found_by_reference_number_and_title_words():
    press = SourceFactory(
        title="ISAF détains IMU leader", reference_number="2011-04-S-034", status=PUBLISHED
    )
    report = SourceFactory(title="Parwan handover completed", status=PUBLISHED)
    SourceFactory(title="IMU leader released", reference_number="2011-04-S-035")  # draft
    SourceFactory(
        title="Confidential IMU leader notes", is_confidential=True, status=PublicationStatus.DRAFT
    )
    assert list(search_sources("2011-04-S-034")) == [press]
    assert list(search_sources("2011-04-s-034 ")) == [press]
    assert list(search_sources("IMU leader")) == [press]
    assert list(search_sources("detains")) == [press]  # accents ignored
    assert list(search_sources("detained")) == [press]  # English stemming
    assert list(search_sources("hand")) == [report]  # a word's start
    assert list(search_sources("Parwan handover")) == [report]
    assert not search_sources("Kandahar").exists()


def test_demo_sources_are_found_by_title_words(people):
    found = list(search_sources("captures Uzbekistan"))
    assert found[0].title.startswith("ISAF captures Islamic Movement of Uzbekistan")


# Keeping the keys right.


@pytest.mark.django_db
def test_renaming_through_save_updates_the_key():
    person = make_person("Qari Bilal")
    name = person.names.get()
    name.name = "Jalaluddin Haqqani"
    name.save(update_fields=["name"])
    name.refresh_from_db()
    assert name.search_key == name_key("Jalaluddin Haqqani")
    assert list(search_people("Haqani")) == [person]
    place = PlaceFactory(name="Kunduz", status=PUBLISHED)
    place.name = "Khanabad"
    place.save()
    assert list(search_places("Khan Abad")) == [place]


@pytest.mark.django_db
def test_rows_written_around_save_or_in_sql_are_found_after_refresh_search_keys():
    person = Person.objects.create(status=PUBLISHED)
    PersonName.objects.bulk_create([PersonName(person=person, name="Qari Bilal")])
    Organization.objects.bulk_create(
        [Organization(name="Taliban", slug="taliban", kind="armed_group", status=PUBLISHED)]
    )
    facility = Facility.objects.create(name="Pul-e-Charkhi Prison", status=PUBLISHED)
    Facility.objects.filter(pk=facility.pk).update(name="Pul-e-Charkhi")
    imported = Person.objects.create(status=PUBLISHED)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO detainees_personname (person_id, name, kind, is_primary, language, "
            "claim_status) VALUES (%s, 'Jalaluddin Haqqani', 'common', true, '', 'reported')",
            [imported.pk],
        )
    assert not search_people("Bilal").exists()
    assert not search_people("Haqani").exists()
    assert refresh_search_keys() == 4
    assert refresh_search_keys() == 0
    assert list(search_people("Belal")) == [person]
    assert list(search_people("Haqani")) == [imported]
    assert [o.name for o in search_organizations("Taleban")] == ["Taliban"]
    assert [f.name for f in search_facilities("Pul-i-Charkhi")] == ["Pul-e-Charkhi"]


def test_load_demo_leaves_every_key_filled(people):
    assert refresh_search_keys() == 0
    assert not PersonName.objects.filter(search_key="").exists()
    assert not Place.objects.filter(search_key="").exists()
    assert Source.objects.filter(search_vector__isnull=True).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Abddel Ghani", "Abdl Gani", "Abdd Ghanni"])
def test_the_search_box_finds_a_joined_name_through_a_misspelled_prefix(query):
    ghani = make_person("Abdul Ghani")
    make_person("Ghulam Nabi")
    assert len(name_key(query).split()) == 2  # two words: no name has both
    assert search_people(query).count() == 0
    assert search_all(query)["people"][0] == ghani


@pytest.mark.django_db
def test_the_search_box_keeps_the_people_every_word_finds(django_assert_num_queries):
    omari = make_person("Mohammad Nabi Omari")
    make_person("Mohammadnabi Omari Khan")
    with django_assert_num_queries(6):
        assert search_all("Mohammad Omari")["people"][0] == omari
