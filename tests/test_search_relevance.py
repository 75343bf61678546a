"""A search of several words finds the people every word names, best match first, on the search
page, the people list and the API alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Person, PersonName, PublicationStatus
from detainees.read.search import search_people

KIND = PersonName.Kind


def make_person(primary: str, *others: tuple[str, str]) -> Person:
    """A published person with a primary name and other names, each (name, kind)."""
    person = Person.objects.create(status=PublicationStatus.PUBLISHED)
    PersonName.objects.create(person=person, name=primary, is_primary=True)
    for name, kind in others:
        PersonName.objects.create(person=person, name=name, kind=kind)
    return person


def write_people() -> dict[str, Person]:
    """People whose alias and surname sit on different name rows, and namesakes of each word:
    every Karim, every Yasir, other men called Abu Hamza, other Zadrans."""
    people = {
        "karimov": make_person("Yasir Karimov", ("Toofan Yasir", KIND.NOM_DE_GUERRE)),
        "zadran": make_person("Mohammad Daud Zadran", ("Abu Hamza", KIND.KUNYA)),
        "yasir_karim": make_person("Yasir Karim"),
        "nasir_karim": make_person("Nasir Karim"),
        "hamza_nuri": make_person("Abdul Hamid Nuri", ("Abu Hamza", KIND.KUNYA)),
        "hamza_ahmadi": make_person("Sher Ali Ahmadi", ("Abu Hamza", KIND.ALIAS)),
    }
    for n, given in enumerate(["Karim", "Abdul Karim", "Karim Jan", "Fazal Karim"]):
        people[f"karim_{n}"] = make_person(f"{given} Ahmadi")
    for n, surname in enumerate(["Nuri", "Ahmadi", "Jan", "Safi"]):
        people[f"yasir_{n}"] = make_person(f"Yasir {surname}")
    for n, given in enumerate(["Gul", "Hamid", "Bashir"]):
        people[f"zadran_{n}"] = make_person(f"{given} Zadran")
    return people


@pytest.fixture(scope="module")
def written_people(module_data):
    return module_data(write_people)


@pytest.fixture
def people(written_people, db):
    return written_people


def api_ids(client, q, **params) -> list[str]:
    response = client.get("/api/v1/persons/", {"search": q, **params})
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def list_ids(client, q, **params) -> list[str]:
    # These people have names and no events: the site lists them among all people, as the
    # API lists everyone.
    response = client.get("/people/", {"q": q, "who": "all", **params})
    assert response.status_code == 200
    return [str(p.public_id) for p in response.context["page"].rows]


def search_page_ids(client, q) -> list[str]:
    response = client.get("/search/", {"q": q})
    assert response.status_code == 200
    return [str(p.public_id) for p in response.context["results"]["people"]]


@pytest.mark.parametrize("query", ["Abu Hamza Zadran", "Zadran Abu Hamza", "abu hamza zadran"])
def test_an_alias_and_a_surname_on_different_rows_find_the_person_first(client, people, query):
    zadran = str(people["zadran"].public_id)
    assert search_people(query)[0] == people["zadran"]
    assert search_page_ids(client, query)[0] == zadran
    assert list_ids(client, query)[0] == zadran
    assert api_ids(client, query)[0] == zadran


def test_a_misspelled_full_name_finds_its_person_first_and_not_every_namesake(client, people):
    found = list(search_people("Yaser Karimov"))
    assert found[0] == people["karimov"]
    assert found[0].search_name == "Yasir Karimov"
    # Yasir Karim is close in both words; Nasir Karim, every other Karim and Yasir are not.
    assert set(found) == {people["karimov"], people["yasir_karim"]}
    expected = [str(people[key].public_id) for key in ("karimov", "yasir_karim")]
    assert api_ids(client, "Yaser Karimov") == list_ids(client, "Yaser Karimov") == expected


def test_a_single_word_still_finds_every_name_near_it(people):
    karims = {people[f"karim_{n}"] for n in range(4)} | {people["yasir_karim"]}
    assert karims | {people["nasir_karim"]} <= set(search_people("Karim"))


def test_a_person_matching_only_some_words_is_not_a_result(people):
    assert list(search_people("Abu Hamza Nuri")) == [people["hamza_nuri"]]
    assert list(search_people("Gul Karimov")) == []
    # Every word counts, whichever name row has it.
    assert list(search_people("Toofan Karimov")) == [people["karimov"]]


@pytest.mark.parametrize("query", ["Yaser Karimov", "Abu Hamza Zadran", "Yasir", "Zadran"])
def test_the_api_shows_the_top_five_of_the_site(client, people, query):
    api = api_ids(client, query, page_size=5)
    assert api == list_ids(client, query, size=5)
    if len(query.split()) > 1:  # a one-word search page ranks only the nearest names
        assert api == search_page_ids(client, query)[:5]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Karimof", ["karimov"]),
        ("Karimow", ["karimov"]),
        ("Zadrans", ["zadran", "zadran_0", "zadran_1", "zadran_2"]),
    ],
)
def test_a_single_word_still_finds_misspellings(client, people, query, expected):
    expected = {str(people[key].public_id) for key in expected}
    found = api_ids(client, query)
    assert set(found[: len(expected)]) == expected
    assert found == list_ids(client, query)


def test_relevance_is_the_api_order_with_a_search_unless_another_is_asked(client, people):
    by_rank = [str(p.public_id) for p in search_people("Yasir Karim")]
    assert api_ids(client, "Yasir Karim") == by_rank
    assert api_ids(client, "Yasir Karim", ordering="relevance") == by_rank
    names = [
        r["name"]
        for r in client.get(
            "/api/v1/persons/", {"search": "Yasir Karim", "ordering": "name"}
        ).json()["results"]
    ]
    assert names == sorted(names) and len(names) == len(by_rank)


def test_relevance_without_a_search_lists_by_name_as_the_site_does(client, people):
    response = client.get("/api/v1/persons/", {"ordering": "relevance", "page_size": 100})
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == sorted(names) and len(names) == len(people)


def test_the_site_list_sorts_a_search_by_relevance_even_with_the_form_default(client, people):
    by_rank = [str(p.public_id) for p in search_people("Yasir Karim")]
    assert list_ids(client, "Yasir Karim") == by_rank
    assert list_ids(client, "Yasir Karim", sort="relevance") == by_rank
    named = (
        client.get("/people/", {"q": "Yasir Karim", "sort": "name", "who": "all"})
        .context["page"]
        .rows
    )
    assert [p.sort_name for p in named] == sorted(p.sort_name for p in named)
    # Without a name searched, "relevance" lists by name.
    everyone = (
        client.get("/people/", {"sort": "relevance", "size": 200, "who": "all"})
        .context["page"]
        .rows
    )
    assert [p.sort_name for p in everyone] == sorted(p.sort_name for p in everyone)


@pytest.mark.parametrize("query", ["Yasir Karim", "Yasir"])
def test_relevance_pages_follow_on_without_gap_or_repeat(client, people, query):
    whole = api_ids(client, query, page_size=100)
    paged, url, params = [], "/api/v1/persons/", {"search": query, "page_size": 2}
    while url:
        body = client.get(url, params).json()
        paged += [row["id"] for row in body["results"]]
        url, params = body["next"], {}
    assert paged == whole
    assert len(whole) > 2


def count_queries(client, path, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "path, q, size, who",
    [("/api/v1/persons/", "search", "page_size", {}), ("/people/", "q", "size", {"who": "all"})],
)
def test_a_search_costs_the_same_queries_for_one_row_or_many(client, people, path, q, size, who):
    for query in ["Yasir Karim", "Yasir"]:
        one = count_queries(client, path, {q: query, size: 1, **who})
        many = count_queries(client, path, {q: query, size: 50, **who})
        assert one == many
