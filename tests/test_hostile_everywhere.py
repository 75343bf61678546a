"""Hostile strings in every parameter of every public page and API route never make a server
error, and every answer comes within a bound: punctuation, NUL, text that is not UTF-8, 10 kB,
regular-expression and SQL fragments, edited cursors.

The routes come from the URL conf and their parameters from each route's FilterSet (facets
included), its pagination and the parameters its view declares, so a new route or filter is
covered without editing this file. `REQUESTS` counts what the module sent."""

import base64
import json
import time
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detainees.domain.models import Facility, Organization, Person, Place, ReleaseBatch, Source
from tests.test_hostile_params import SLOW_BY_THEMSELVES, params_read, public_routes

pytestmark = [pytest.mark.django_db, pytest.mark.crawl]

BOUND = 2.0  # seconds; answers take milliseconds, the bound only catches a runaway
REQUESTS = {"sent": 0, "slowest": 0.0}
COMMON = ["format", "ordering", "cursor", "page_size", "after", "size", "sort", "q", "search"]


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, 1]).encode()).decode().rstrip("=")


# Raw query-string values (already percent-encoded where they must be).
SWEEP = {
    "punctuation": urllib.parse.quote("-?.'*%_\\("),
    "nul": "a%00b",
    "not utf-8": "%C0%AF%FF",
    "10 kB": "x" * 10_000,
    "sql": urllib.parse.quote("' OR 1=1; DROP TABLE detainees_person; --"),
    "regex": urllib.parse.quote("(a+)+$[[:alpha:]]\\1{99999}"),
    "edited cursor": _cursor({"d": "9999-99-99"}),
    "emoji": urllib.parse.quote("\U0001f600\u2014"),
}


def routes_and_params() -> list[tuple[str, object, str]]:
    found = []
    for name, pattern in public_routes():
        if name.removeprefix("api:").removeprefix("detainees:") in SLOW_BY_THEMSELVES:
            continue
        callback = pattern.callback
        view_class = getattr(callback, "cls", None)
        filterset_class = getattr(view_class or callback, "filterset_class", None)
        params = set(COMMON)
        dates, texts = params_read(pattern)
        params.update(dates, texts)
        if filterset_class is not None:
            params.update(filterset_class().filters)  # instantiated: facets join in __init__
        params.update({"captures_after", "members_after", "events_after", "on", "types"})
        found += [(name, pattern, param) for param in sorted(params)]
    return found


PAIRS = routes_and_params()


@pytest.fixture
def demo_records(demo):
    return {
        "person": Person.objects.published().first(),
        "organization": Organization.objects.published().first(),
        "facility": Facility.objects.published().first(),
        "place": Place.objects.published().first(),
        "batch": ReleaseBatch.objects.published().first(),
        "source": Source.objects.published().first(),
    }


def path_of(name: str, pattern, records) -> str:
    from django.urls import reverse

    kwargs = {}
    for key in pattern.pattern.regex.groupindex:
        kind = next((k for k in records if k in name), "person")
        record = records[kind]
        kwargs[key] = record.slug if key == "slug" else str(record.public_id)
    return reverse(name, kwargs=kwargs)


def send(client, path: str, param: str, raw_value: str):
    response, took = _timed_get(client, f"{path}?{urllib.parse.quote(param)}={raw_value}")
    if took > BOUND:
        # A runaway is slow every time; a busy machine's pause is not: the faster of two counts.
        response, again = _timed_get(client, f"{path}?{urllib.parse.quote(param)}={raw_value}")
        took = min(took, again)
    REQUESTS["sent"] += 1
    REQUESTS["slowest"] = max(REQUESTS["slowest"], took)
    return response, took


def _timed_get(client, url: str):
    started = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response, time.perf_counter() - started


def test_the_routes_cover_the_site_and_the_api():
    names = {name for name, _, _ in PAIRS}
    assert {"detainees:person-list", "detainees:event-list", "api:person-list"} <= names
    assert len(PAIRS) > 200


def test_every_parameter_of_every_route_survives_the_sweep(client, demo_records):
    failures = []
    for name, pattern, param in PAIRS:
        path = path_of(name, pattern, demo_records)
        for label, raw in SWEEP.items():
            response, took = send(client, path, param, raw)
            if response.status_code >= 500 or took > BOUND:
                failures.append((path, param, label, response.status_code, round(took, 2)))
    assert not failures, failures[:20]


HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="-_.%*?()[]{}|\\^$'\";:/<>&=+#~`,!@", max_size=200),
    st.binary(max_size=40).map(lambda b: urllib.parse.quote_from_bytes(b)),
    st.sampled_from(list(SWEEP.values())),
)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pair=st.sampled_from(PAIRS), text=HOSTILE_TEXT)
def test_no_hostile_value_in_any_parameter_makes_a_server_error(client, demo_records, pair, text):
    name, pattern, param = pair
    raw = text if "%" in text and text.replace("%", "").isalnum() else urllib.parse.quote(text)
    response, took = send(client, path_of(name, pattern, demo_records), param, raw)
    assert response.status_code < 500, (name, param, text)
    assert took < BOUND, (name, param, text, took)


def test_report_what_was_sent(record_property):
    """Records the count and the slowest answer in the test report (`-rP` or JUnit XML)."""
    record_property("hostile_requests", REQUESTS["sent"])
    record_property("slowest_seconds", round(REQUESTS["slowest"], 3))
    print(f"hostile requests sent: {REQUESTS['sent']}, slowest {REQUESTS['slowest']:.3f} s")
