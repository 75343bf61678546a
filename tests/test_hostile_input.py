"""Hostile input never makes a server error: search text with no letters, NUL and broken
UTF-8, edited page cursors, deeply nested or oversized JSON bodies."""

import base64
import json
import urllib.parse
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detainees.read.pagination import encode_cursor
from tests.conftest import member_of

pytestmark = pytest.mark.django_db

PUNCTUATION = ["-", "?", ".", "'", "*", "%", "_", "\\", "(", "\u2014", "\U0001f600", "!!", " "]

# Every place a visitor or a script types a name or words.
SEARCHED = [
    "/people/?q={}",
    "/people.csv?q={}",
    "/figures/?q={}",
    "/search/?q={}",
    "/api/v1/persons/?search={}",
    "/api/v1/persons/facets/?search={}",
    "/api/v1/persons/?search={}&format=csv",
]


def fetch(client, url):
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize("template", SEARCHED)
def test_a_query_of_punctuation_only_finds_nothing_and_fails_nowhere(client, demo, template):
    for text in PUNCTUATION:
        response = fetch(client, template.format(urllib.parse.quote(text)))
        assert response.status_code == 200, (template, text, response.content[:300])


def test_punctuation_lists_nobody_while_a_name_still_finds_its_person(client, demo):
    names = client.get("/api/v1/persons/", {"search": "-"}).json()["results"]
    assert names == []
    found = client.get("/api/v1/persons/", {"search": "Qari Bilal"}).json()["results"]
    assert [p["slug"] for p in found][:1] == ["qari-bilal"]


@pytest.mark.parametrize(
    "url",
    ["/search/?q=a%00b", "/people/?q=%00", "/events/?kind=%00", "/people/?after=%00"],
)
def test_a_nul_character_is_a_400_naming_the_parameter(client, url):
    response = client.get(url)
    assert response.status_code == 400
    name = urllib.parse.urlsplit(url).query.split("=")[0]
    assert dict(response.context["problems"]) == {
        name: ["This parameter must not contain a NUL character."]
    }
    assert f"<code>{name}</code>" in response.content.decode()


def test_a_nul_character_in_the_api_answers_json_naming_the_parameter(client):
    response = client.get("/api/v1/persons/?search=a%00b")
    assert response.status_code == 400
    assert response.json() == {"search": ["This parameter must not contain a NUL character."]}


def test_text_not_in_utf8_is_refused_not_searched(client):
    response = client.get("/api/v1/persons/?search=%C0%AF")
    assert response.status_code == 400
    assert "UTF-8" in response.json()["search"][0]


def _raw_cursor(value, pk=1) -> str:
    raw = json.dumps([value, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


EDITED_CURSORS = [
    _raw_cursor(12345),
    _raw_cursor(None),
    _raw_cursor([1, 2]),
    _raw_cursor({"d": "2011-13-45"}),
    _raw_cursor({"t": "yesterday"}),
    _raw_cursor("x", pk="abc"),
    _raw_cursor("x", pk=2**70),
    _raw_cursor(True),
    _raw_cursor(1e308),
    encode_cursor(date(2011, 4, 20), 1),
    encode_cursor(datetime(2011, 4, 20, 12), 1),
    encode_cursor("Qari Bilal", 1),
    "a" * 5000,
    "!!!",
]


@pytest.mark.parametrize(
    "template",
    [
        "/people/?after={}",
        "/people/?after={}&sort=captured",
        "/people/?after={}&q=bilal",
        "/events/?after={}",
        "/api/v1/persons/?cursor={}",
        "/api/v1/persons/?cursor={}&ordering=-updated",
        "/api/v1/events/?cursor={}",
        "/api/v1/sources/?cursor={}",
        "/api/v1/changes/?cursor={}",
    ],
)
def test_an_edited_cursor_is_a_400_or_a_page_never_an_error(client, demo, template):
    for cursor in EDITED_CURSORS:
        response = fetch(client, template.format(cursor))
        assert response.status_code in (200, 400), (template, cursor, response.content[:300])


@pytest.fixture
def researcher_client(token_client, db):
    return token_client(member_of("Researcher", "hostile-researcher"))


def test_json_nested_a_thousand_deep_is_a_400(researcher_client):
    body = "[" * 1000 + "]" * 1000
    response = researcher_client.post("/api/v1/persons/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in json.dumps(response.json())


def test_json_nested_past_the_limit_within_the_parser_is_a_400(researcher_client):
    body = {"names": [{"name": "A"}], "biography": "x"}
    for _ in range(40):
        body = {"names": [body]}
    response = researcher_client.post("/api/v1/persons/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32" in json.dumps(response.json())


def test_a_body_over_the_limit_is_refused_unread(researcher_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"names": [{"name": "x" * 2000, "is_primary": True}]})
    response = researcher_client.post("/api/v1/persons/", body, content_type="application/json")
    assert response.status_code == 413
    assert "limit" in json.dumps(response.json())


def test_not_a_number_is_not_json(researcher_client):
    response = researcher_client.post(
        "/api/v1/persons/", '{"names": NaN}', content_type="application/json"
    )
    assert response.status_code == 400


HOSTILE_TEXT = st.one_of(
    st.sampled_from(PUNCTUATION + ["%", "' OR 1=1 --", "a.*+?(", "\\x", "$$", "[[:alpha:]"]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=40,
    ),
    st.text(alphabet="-_.%*?()[]{}|\\^$'\"", max_size=300),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=HOSTILE_TEXT, where=st.sampled_from(SEARCHED))
def test_no_search_text_makes_a_server_error(client, demo, text, where):
    response = fetch(client, where.format(urllib.parse.quote(text)))
    assert response.status_code < 500, (where, text)


def test_a_person_with_five_thousand_names_is_refused_before_any_is_checked(
    researcher_client, django_assert_max_num_queries
):
    names = [{"name": f"Name {i}", "is_primary": i == 0} for i in range(5000)]
    with django_assert_max_num_queries(10):
        response = researcher_client.post(
            "/api/v1/persons/", {"names": names}, content_type="application/json"
        )
    assert response.status_code == 400
    assert response.json() == {"names": ["At most 100 items; 5000 sent."]}


def test_an_event_with_too_many_citations_is_refused_naming_the_list(researcher_client):
    citations = [{"source": "00000000-0000-0000-0000-000000000000"}] * 101
    response = researcher_client.post(
        "/api/v1/events/",
        {"kind": "capture", "summary": "x", "citations": citations},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["citations"] == ["At most 100 items; 101 sent."]
