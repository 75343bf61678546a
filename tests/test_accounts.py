"""Account safety: admin logins lock out after repeated failures; sessions and passwords."""

from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a long and proper passphrase"


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_user("researcher", password=PASSWORD, is_staff=True)


def log_in(client, password, username="researcher", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def fail(client, times, **extra):
    for _ in range(times):
        log_in(client, "wrong password", **extra)


def test_the_right_password_logs_in(client, editor):
    response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_repeated_bad_logins_lock_the_account_from_that_address(client, editor):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    response = log_in(client, "wrong password")
    assert response.status_code == 429
    assert "Login locked" in response.content.decode()
    # Locked: the right password is refused too, and no session is opened.
    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_do_not_lock(client, editor):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302


def test_a_success_clears_the_count(client, editor):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, PASSWORD).status_code == 302


def test_the_lock_holds_for_that_username_and_address_only(client, editor):
    fail(client, settings.AXES_FAILURE_LIMIT)
    assert log_in(client, PASSWORD).status_code == 429
    # The same account from another address, e.g. the researcher's own office.
    assert log_in(client, PASSWORD, REMOTE_ADDR="192.0.2.7").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_limit_is_configurable(client, editor):
    fail(client, 2)
    assert log_in(client, PASSWORD).status_code == 429


def test_the_reset_command_lifts_the_lock(client, editor):
    fail(client, settings.AXES_FAILURE_LIMIT)
    assert log_in(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "researcher", stdout=StringIO())
    assert log_in(client, PASSWORD).status_code == 302


def test_attempts_are_stored_without_the_password(client, editor):
    fail(client, 1)
    attempt = AccessAttempt.objects.get(username="researcher")
    assert "wrong password" not in attempt.post_data


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_behind_the_proxy_the_address_is_the_one_it_appended(client, editor):
    # The client forges a first entry for each try; the trusted proxy's own last entry is what
    # counts.
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(
            client,
            "wrong password",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.9",
        )
    locked = log_in(
        client, PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.9"
    )
    assert locked.status_code == 429
    other = log_in(client, PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.status_code == 302


def test_weak_passwords_are_refused(editor):
    for weak in ["short1", "password1234", "123456789012", "researcher12"]:
        with pytest.raises(ValidationError):
            validate_password(weak, user=editor)
    validate_password(PASSWORD, user=editor)


def test_session_and_csrf_cookies_are_as_django_intends():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


def test_the_admin_login_form_needs_a_csrf_token(editor):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "researcher", "password": PASSWORD})
    assert response.status_code == 403
