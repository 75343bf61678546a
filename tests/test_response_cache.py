"""The shared cache of anonymous public responses (tracker/response_cache.py): a hit is the miss's
bytes and headers, costs no query, and any committed change to public data makes the next read
fresh; signed-in readers, drafts, cookies and streamed downloads stay out of it."""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from detainees.api.schema_view import SchemaView, _schemas
from detainees.domain import roles
from detainees.domain.models import Person
from detainees.write import services
from tests import factories as f
from tests.test_permissions_everywhere import make_user, via_api, via_import
from tracker import response_cache

PUBLISHED = "published"
# Real commits: the cache is emptied by commits, which the usual per-test transaction never makes.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 300
    cache.clear()


def stored_entries() -> int:
    return sum(1 for key in cache._cache if response_cache.ENTRY_PREFIX in key)


def read(url, client=None, **headers):
    """A response as the client receives it, and the number of queries it cost."""
    with CaptureQueriesContext(connection) as queries:
        response = (client or Client()).get(url, headers=headers)
    return response, len(queries)


def same(a, b) -> None:
    assert a.status_code == b.status_code
    assert a.content == b.content
    assert list(a.items()) == list(b.items())


@pytest.fixture
def person():
    return f.PersonFactory(status=PUBLISHED, biography="Released in 2014.")


PUBLIC_URLS = [
    "/",
    "/people/",
    "/events/",
    "/api/v1/persons/",
    "/api/v1/persons/?format=csv",
    "/api/v1/events/",
    "/feeds/releases/",
    "/figures/",
    "/search/?q=a",
    "/map/",
]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_a_hit_is_the_miss_byte_for_byte_and_costs_no_query(person, url):
    miss, miss_queries = read(url)
    assert miss.status_code == 200, url
    hit, hit_queries = read(url)
    same(hit, miss)
    assert miss_queries > 0
    assert hit_queries == 0


def test_a_person_page_and_detail_are_served_from_the_cache(person):
    for url in (person.get_absolute_url(), f"/api/v1/persons/{person.public_id}/"):
        miss, _ = read(url)
        hit, queries = read(url)
        same(hit, miss)
        assert queries == 0, url


def test_with_the_cache_off_every_read_goes_to_the_database(person, settings):
    settings.PUBLIC_RESPONSE_CACHE_SECONDS = 0
    read("/people/")
    assert read("/people/")[1] > 0
    assert stored_entries() == 0


def test_head_is_answered_from_the_entry_a_get_made(person):
    miss, _ = read("/people/")
    with CaptureQueriesContext(connection) as queries:
        head = Client().head("/people/")
    assert len(queries) == 0
    assert list(head.items()) == list(miss.items())


def test_json_and_csv_of_one_url_are_separate_entries(person):
    url = f"/api/v1/persons/{person.public_id}/"
    as_json, _ = read(url, accept="application/json")
    as_csv, _ = read(url, accept="text/csv")
    assert as_json["Content-Type"] != as_csv["Content-Type"]
    again_json, q1 = read(url, accept="application/json")
    again_csv, q2 = read(url, accept="text/csv")
    same(again_json, as_json)
    same(again_csv, as_csv)
    assert q1 == q2 == 0


def test_a_conditional_read_goes_to_the_view_and_gets_its_304(person):
    url = f"/api/v1/persons/{person.public_id}/"
    miss, _ = read(url)
    conditional, queries = read(url, if_none_match=miss["ETag"])
    assert conditional.status_code == 304
    assert conditional["ETag"] == miss["ETag"]
    assert queries > 0


def change(person, how, client=None, tmp_path=None):
    editor = make_user(roles.EDITOR)
    if how == "withdraw":
        services.withdraw_record(record=person, by=editor, withdrawal_reason="Wrong person.")
    elif how == "edit":
        services.save_record(record=person, values={"biography": "Released in 2015."}, by=editor)
    elif how == "api":
        assert via_api(client, editor, person, "biography", "Released in 2015.")
    elif how == "import":
        assert via_import(tmp_path, editor, person, "biography", "Released in 2015.")
    elif how == "delete":
        services.delete_record(record=person, by=editor, reason="A duplicate.")
    elif how == "raw":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE detainees_person SET biography = %s WHERE id = %s",
                ["Released in 2015.", person.pk],
            )


@pytest.mark.parametrize("how", ["withdraw", "edit", "api", "import", "delete", "raw"])
def test_a_committed_change_makes_the_next_read_fresh(person, how, token_client, tmp_path):
    page = person.get_absolute_url()
    detail = f"/api/v1/persons/{person.public_id}/"
    before = {url: read(url)[0] for url in (page, detail)}
    assert read(page)[1] == 0  # stored
    change(person, how, token_client, tmp_path)
    for url, old in before.items():
        fresh, queries = read(url)
        assert queries > 0, (how, url)
        assert fresh.content != old.content, (how, url)
        if how in ("edit", "api", "import", "raw") and url == detail:
            assert b"Released in 2015." in fresh.content, (how, url)
        elif how in ("withdraw", "delete"):
            assert fresh.status_code in (404, 410), (how, url)


def test_publishing_a_draft_shows_it_on_the_next_read():
    draft = f.PersonFactory(status="draft", biography="Not yet public.")
    listing, _ = read("/api/v1/persons/")
    assert str(draft.public_id).encode() not in listing.content
    assert read("/api/v1/persons/")[1] == 0
    services.publish_record(record=draft, by=make_user(roles.EDITOR))
    fresh, queries = read("/api/v1/persons/")
    assert queries > 0
    assert str(draft.public_id).encode() in fresh.content
    assert read(draft.get_absolute_url())[0].status_code == 200


def test_drafts_never_reach_the_cache():
    draft = f.PersonFactory(status="draft", biography="Private draft text.")
    for url in (draft.get_absolute_url(), f"/api/v1/persons/{draft.public_id}/"):
        assert read(url)[0].status_code == 404
    assert stored_entries() == 0
    read("/api/v1/persons/")
    read("/people/")
    for key, value in cache._cache.items():
        if response_cache.ENTRY_PREFIX in key:
            assert b"Private draft text." not in value


def test_a_rolled_back_write_leaves_the_cache_as_it_was(person):
    read("/people/")
    try:
        with transaction.atomic():
            Person.objects.filter(pk=person.pk).update(biography="Never committed.")
            # Inside the transaction, its own change is what it reads: the cache is passed by.
            inside, queries = read(person.get_absolute_url())
            assert queries > 0
            assert b"Never committed." in inside.content
            raise RuntimeError
    except RuntimeError:
        pass
    assert read("/people/")[1] == 0


def test_signed_in_readers_and_token_clients_neither_read_nor_fill_the_cache(
    person, admin_client, token_client
):
    api = token_client(make_user(roles.EDITOR))
    for url in ("/people/", "/api/v1/persons/"):
        _, first = read(url, client=admin_client)
        _, again = read(url, client=admin_client)
        assert again > 0
        read(url, client=api)
        assert read(url, client=api)[1] > 0
    assert stored_entries() == 0
    # Nor does an anonymous entry reach them.
    read("/people/")
    assert read("/people/", client=admin_client)[1] > 0


def test_a_response_that_sets_a_cookie_is_not_stored():
    response, _ = read("/admin/login/")  # the admin, and a CSRF cookie: twice excluded
    assert response.cookies
    assert stored_entries() == 0


def test_a_reader_with_a_session_cookie_is_not_served_from_the_cache(person):
    read("/people/")
    client = Client()
    client.cookies["sessionid"] = "whatever"
    assert read("/people/", client=client)[1] > 0


def test_health_probes_are_never_stored(person):
    for url in ("/healthz", "/readyz"):
        read(url)
        assert read(url)[0]["Cache-Control"] == "no-store"
    assert read("/readyz")[1] > 0  # the probe reaches the database each time
    assert stored_entries() == 0


def test_streamed_downloads_are_not_stored(person):
    response = Client().get("/people.csv")
    assert response.streaming
    b"".join(response.streaming_content)
    assert stored_entries() == 0


def test_other_hosts_get_other_entries(person, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    read("/people/", host="a.example")
    assert read("/people/", host="b.example")[1] > 0
    assert read("/people/", host="a.example")[1] == 0


def test_hits_count_against_the_api_rate_limit(person, settings):
    settings.API_ANON_RATE = "2/minute"
    statuses = [read("/api/v1/persons/")[0].status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_failing_cache_makes_every_read_a_miss(person, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(response_cache.cache, "get_many", broken)
    monkeypatch.setattr(response_cache.cache, "incr", broken)
    response, queries = read("/people/")
    assert response.status_code == 200
    assert queries > 0


def test_writes_to_sessions_and_logins_do_not_empty_the_cache():
    assert response_cache.is_public_write('UPDATE "detainees_person" SET x = 1')
    assert response_cache.is_public_write("INSERT INTO detainees_event (id) VALUES (1)")
    assert response_cache.is_public_write('DELETE FROM "detainees_source" WHERE id = 1')
    assert response_cache.is_public_write("TRUNCATE detainees_person CASCADE")
    assert response_cache.is_public_write("COPY detainees_person (id) FROM STDIN")
    assert response_cache.is_public_write("REFRESH MATERIALIZED VIEW figures")
    assert response_cache.is_public_write("WITH moved AS (UPDATE a SET b = 1) SELECT 1")
    # A write of a request django-pghistory tracks: its context is set in front.
    tracked = "SELECT set_config('pghistory.context_id', %s, true); UPDATE {} SET x = 1"
    assert response_cache.is_public_write(tracked.format('"detainees_person"'))
    assert response_cache.is_public_write(b'INSERT INTO "detainees_person" (id) VALUES (1)')
    assert not response_cache.is_public_write(tracked.format('"auth_user"'))
    assert not response_cache.is_public_write('UPDATE "django_session" SET x = 1')
    assert not response_cache.is_public_write('UPDATE "auth_user" SET "last_login" = now()')
    assert not response_cache.is_public_write("INSERT INTO axes_accessattempt (id) VALUES (1)")
    assert not response_cache.is_public_write("SELECT * FROM detainees_person FOR UPDATE")
    assert not response_cache.is_public_write("SELECT procrastinate_fetch_job_v2(1, NULL)")
    # What a reader stores of what others' writes changed: the stored figures and counts.
    assert not response_cache.is_public_write(
        "INSERT INTO detainees_figures_stored (selection, generation, figures) VALUES (1, 2, 3)"
    )
    assert not response_cache.is_public_write(
        "INSERT INTO detainees_facet_counts_stored (list, selection) VALUES (1, 2)"
    )
    assert response_cache.is_public_write("INSERT INTO detainees_figures_storedx (a) VALUES (1)")


@pytest.mark.django_db
def test_the_schema_generated_once_equals_a_fresh_one(client):
    _schemas.clear()
    first = client.get("/api/schema/?format=json")
    assert first.status_code == 200
    assert _schemas
    cached = client.get("/api/schema/?format=json")
    view = SchemaView()
    generator = view.generator_class(urlconf=None, api_version=None, patterns=None)
    fresh = generator.get_schema(request=None, public=True)
    assert cached.content == first.content
    assert list(_schemas.values())[0] == fresh


def test_a_connection_opened_inside_a_wrapper_block_leaves_that_block_its_own_wrapper():
    """django-pghistory's request context is an `execute_wrapper()` block; a connection opened
    inside it (a request's first query) gets the cache's wrapper without taking the block's
    place, so the block's wrapper is gone once it ends."""
    from django.db import connection

    def theirs(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    saved = list(connection.execute_wrappers)
    try:
        connection.execute_wrappers[:] = [
            w for w in saved if w is not response_cache._bump_after_commit
        ]
        with connection.execute_wrapper(theirs):
            response_cache._watch_writes(None, connection)
        assert theirs not in connection.execute_wrappers
        assert response_cache._bump_after_commit in connection.execute_wrappers
    finally:
        connection.execute_wrappers[:] = saved
