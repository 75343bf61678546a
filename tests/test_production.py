"""Production hardening: who the client is behind proxies, security headers, error pages, the
shared cache and the settings that configure them."""

import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import path

from tracker import urls as tracker_urls
from tracker.client_ip import client_ip

REPO = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.2"
LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a long and proper passphrase"


def redis_answers() -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.RedisError:
        return False


# --- The client's address ----------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(API_ANON_RATE="2/minute", TRUSTED_PROXIES=[PROXY])
def test_a_forged_forwarded_for_from_an_untrusted_address_does_not_escape_the_throttle(client):
    # A client talking to the app directly makes up a new X-Forwarded-For for each request.
    statuses = [
        client.get(
            "/api/v1/persons/", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db
@override_settings(API_ANON_RATE="2/minute", TRUSTED_PROXIES=["10.0.0.0/24"])
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client):
    def get(forwarded):
        return client.get(
            "/api/v1/persons/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # Two proxies of ours (10.0.0.7 then 10.0.0.2); the client forges a first entry each time.
    assert [get(f"203.0.113.{i}, 198.51.100.9, 10.0.0.7") for i in range(3)] == [200, 200, 429]
    # Another client behind the same proxies is counted apart.
    assert get("198.51.100.10, 10.0.0.7") == 200


@pytest.fixture
def staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("researcher", password=PASSWORD, is_staff=True)


def log_in(client, password, **extra):
    return client.post(LOGIN, {"username": "researcher", "password": password}, **extra)


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=[PROXY])
def test_a_forged_forwarded_for_does_not_escape_the_login_lockout(client, staff):
    for i in range(3):
        log_in(client, "wrong", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    locked = log_in(client, PASSWORD, REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert locked.status_code == 429
    # The lockout is the attacker's address's, not the address it claimed.
    assert log_in(client, PASSWORD, REMOTE_ADDR="198.51.100.0").status_code == 302


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=[PROXY])
def test_behind_a_trusted_proxy_the_lockout_is_the_clients(client, staff):
    for _ in range(3):
        log_in(client, "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (
        log_in(client, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code
        == 429
    )
    # Another client behind the same proxy still logs in.
    assert (
        log_in(client, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code
        == 302
    )


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "2001:db8::/32"])
def test_client_ip_walks_forwarded_for_from_the_right(rf):
    def ip(remote, forwarded=None):
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_ip(rf.get("/", REMOTE_ADDR=remote, **extra))

    assert ip("192.0.2.1", "198.51.100.1") == "192.0.2.1"  # not from a proxy: header ignored
    assert ip("10.1.1.1", "198.51.100.1, 203.0.113.4") == "203.0.113.4"
    assert ip("10.1.1.1", "203.0.113.4, 10.9.9.9, 10.8.8.8") == "203.0.113.4"
    assert ip("2001:db8::1", "2001:DB9:0:0::FF00, 2001:db8::2") == "2001:db9::ff00"
    assert ip("10.1.1.1", "10.3.3.3, 10.2.2.2") == "10.3.3.3"  # all ours: the farthest one
    assert ip("10.1.1.1", "garbage, 10.2.2.2") == "10.2.2.2"  # nothing better than the proxy
    assert ip("10.1.1.1") == "10.1.1.1"  # a proxy's own request (e.g. a health check)


@pytest.mark.django_db
@override_settings(
    TRUSTED_PROXIES=[PROXY],
    # What the settings set whenever TRUSTED_PROXIES is given.
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_SSL_REDIRECT=True,
)
def test_forwarded_proto_counts_only_from_a_trusted_proxy(client):
    # A client claiming https directly is still redirected; the proxy's word is taken.
    forged = client.get("/people/", REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_PROTO="https")
    assert forged.status_code == 301
    assert forged["Location"].startswith("https://")
    proxied = client.get("/people/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_health_probes_over_plain_http_are_not_redirected(client):
    assert client.get("/people/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# --- Security headers --------------------------------------------------------------------------


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/people/", "/api/v1/persons/", "/api/docs/", "/admin/login/"]
)
def test_pages_and_api_send_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response  # opt-in


@pytest.mark.django_db
@override_settings(
    SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True
)
@pytest.mark.parametrize("path", ["/people/", "/api/v1/persons/"])
def test_hsts_when_enabled_on_https_responses(client, path):
    response = client.get(path, secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in client.get(path)  # never over plain http


def test_no_template_has_an_inline_script():
    """The CSP refuses inline scripts and event attributes: a template with one would break."""
    offenders = []
    for template in (REPO / "templates").rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.relative_to(REPO)}: {tag}")
        offenders += [
            f"{template.relative_to(REPO)}: {attr}"
            for attr in re.findall(r"<[^>]*\son[a-z]+\s*=", text)
        ]
        offenders += [
            f"{template.relative_to(REPO)}: javascript: URL"
            for _ in re.findall("javascript:", text)
        ]
    assert offenders == []


@pytest.mark.django_db
def test_swagger_ui_loads_its_start_up_script_as_a_file(client):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


# --- Error pages -------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_missing_page_is_the_branded_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert 'class="site-header"' in body
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_the_error_templates_render_with_the_sites_look(client, rf):
    from django.views import defaults

    request = rf.get("/x/")
    for view, status, title in [
        (defaults.bad_request, 400, "Bad request"),
        (defaults.permission_denied, 403, "Not allowed"),
    ]:
        response = view(request, exception=Exception("x"))
        assert response.status_code == status
        assert title in response.content.decode()
        assert 'class="site-header"' in response.content.decode()


@override_settings(DEBUG=False)
def test_the_500_page_needs_no_database(rf):
    from django.views import defaults

    # No `db` fixture: any query here would fail the test.
    response = defaults.server_error(rf.get("/x/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert 'class="site-header"' in body


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF="tests.test_production")
def test_an_error_in_a_view_answers_the_branded_500(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def _boom(request):
    raise RuntimeError("boom")


# The site's URLs plus one view that fails, as ROOT_URLCONF of the test above.
urlpatterns = [path("boom/", _boom), *tracker_urls.urlpatterns]


# --- Settings ----------------------------------------------------------------------------------


def test_trusted_proxies_are_validated(monkeypatch):
    from tracker.settings import env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 192.0.2.0/24, 2001:db8::/32")
    assert env_networks("TRUSTED_PROXIES") == ["10.0.0.5/32", "192.0.2.0/24", "2001:db8::/32"]
    for bad in ["proxy.example.org", "10.0.0.300", "10.0.0.0/33", "10.0.0.5;10.0.0.6"]:
        monkeypatch.setenv("TRUSTED_PROXIES", bad)
        with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES entry 1"):
            env_networks("TRUSTED_PROXIES")


def test_cache_url_is_validated(monkeypatch):
    from tracker.settings import env_cache

    monkeypatch.delenv("CACHE_URL", raising=False)
    assert env_cache("CACHE_URL")["BACKEND"].endswith("LocMemCache")
    monkeypatch.setenv("CACHE_URL", "redis://:secret@cache.internal:6380/2")
    assert env_cache("CACHE_URL") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://:secret@cache.internal:6380/2",
        "KEY_PREFIX": "tracker",
    }
    for bad in ["memcached://127.0.0.1:11211", "redis://", "redis://h:port/0", "redis://h/x"]:
        monkeypatch.setenv("CACHE_URL", bad)
        with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
            env_cache("CACHE_URL")


def run_manage(*args, **env):
    full = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "TRUSTED_PROXIES"}}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=full, capture_output=True, text=True
    )


def test_bad_settings_stop_the_start_up_with_a_message():
    bad_proxy = run_manage("check", TRUSTED_PROXIES="10.0.0.1, localhost")
    assert bad_proxy.returncode != 0
    assert "TRUSTED_PROXIES entry 2 must be an IP address" in bad_proxy.stderr
    old_flag = run_manage("check", BEHIND_TLS_PROXY="1")
    assert old_flag.returncode != 0
    assert "BEHIND_TLS_PROXY is replaced by TRUSTED_PROXIES" in old_flag.stderr
    for name, bad, says in [
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of DEBUG, INFO"),
        ("DB_CONN_MAX_AGE", "a minute", "DB_CONN_MAX_AGE must be a whole number of at least 0"),
        ("PUBLIC_CACHE_SECONDS", "-5", "PUBLIC_CACHE_SECONDS must be a whole number of at least 0"),
    ]:
        result = run_manage("check", **{name: bad})
        assert result.returncode != 0, name
        assert says in result.stderr, result.stderr[-500:]


@override_settings(
    DEBUG=False, CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)
def test_deploy_check_warns_without_a_shared_cache():
    ids = [m.id for m in run_checks(include_deployment_checks=True, tags=["caches"])]
    assert "tracker.W001" in ids


@override_settings(
    DEBUG=False,
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    },
)
def test_deploy_check_is_quiet_with_a_shared_cache():
    ids = [m.id for m in run_checks(include_deployment_checks=True, tags=["caches"])]
    assert "tracker.W001" not in ids


@pytest.mark.django_db
@override_settings(
    API_ANON_RATE="1/minute",
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 9 of this machine (discard): the connection is refused.
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    },
)
def test_a_cache_outage_lifts_the_rate_limit_instead_of_failing_the_api(client, caplog):
    statuses = [client.get("/api/v1/persons/").status_code for _ in range(2)]
    assert statuses == [200, 200]
    assert "API rate limit not applied" in caplog.text


def test_hsts_and_redirect_settings_are_validated(monkeypatch):
    from tracker.settings import env_bool, env_int

    monkeypatch.setenv("SECURE_HSTS_SECONDS", "a year")
    with pytest.raises(ImproperlyConfigured, match="SECURE_HSTS_SECONDS"):
        env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
    monkeypatch.setenv("SECURE_SSL_REDIRECT", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="SECURE_SSL_REDIRECT"):
        env_bool("SECURE_SSL_REDIRECT")


# --- One limit across processes ----------------------------------------------------------------

THROTTLE_SCRIPT = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from rest_framework.request import Request
    from detainees.api.throttling import AnonReadThrottle

    allowed = 0
    for _ in range(int(sys.argv[1])):
        request = Request(RequestFactory().get("/api/v1/persons/", REMOTE_ADDR=sys.argv[2]))
        request.user = AnonymousUser()
        allowed += AnonReadThrottle().allow_request(request, view=None)
    print(allowed)
    """
)


@pytest.mark.skipif(not redis_answers(), reason="no Redis answers on 127.0.0.1:6379")
def test_the_throttle_is_one_limit_across_processes_with_a_redis_cache():
    # A fresh address per run, so counts left by an earlier run cannot matter.
    address = f"2001:db8::{uuid.uuid4().int % 0xFFFF:x}"

    def worker(requests):
        done = subprocess.run(
            [sys.executable, "-c", THROTTLE_SCRIPT, str(requests), address],
            cwd=REPO,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tracker.settings",
                "CACHE_URL": "redis://127.0.0.1:6379/0",
                "API_ANON_RATE": "5/minute",
            },
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout.strip())

    # Two processes, as two gunicorn workers: the second gets only what the first left.
    assert worker(3) == 3
    assert worker(4) == 2
