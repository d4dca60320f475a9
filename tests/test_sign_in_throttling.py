"""Sign-in throttling (django-axes): repeated failures lock out a username and an address."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
LIMIT = 3


@pytest.fixture(autouse=True)
def _low_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


@pytest.fixture
def analyst(db):
    user = UserFactory(username="analyst")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def fail(client: Client, times: int, username: str = "analyst", address: str = "203.0.113.7"):
    return [sign_in(client, username, "wrong", address).status_code for _ in range(times)]


def test_failures_are_answered_normally_until_the_limit_then_locked_out(client, analyst):
    assert fail(client, LIMIT) == [200] * (LIMIT - 1) + [429]


def test_the_right_password_signs_in(client, analyst):
    response = sign_in(client, "analyst", PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(analyst.pk)


def test_too_many_failures_lock_the_account_even_with_the_right_password(client, analyst):
    fail(client, LIMIT)

    response = sign_in(client, "analyst", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-ins" in response.text
    assert "Try again in 15 minutes" in response.text


def test_the_lockout_page_is_the_sign_in_form(client, analyst):
    fail(client, LIMIT)

    response = sign_in(client, "analyst", PASSWORD)

    assert 'name="username"' in response.text
    assert 'value="analyst"' in response.text


def test_failures_lock_the_username_from_any_address(client, analyst):
    for number in range(LIMIT):
        fail(client, 1, address=f"198.51.100.{number + 1}")

    assert sign_in(client, "analyst", PASSWORD, address="192.0.2.200").status_code == 429


def test_failures_lock_the_address_for_every_username(client, analyst):
    for number in range(LIMIT):
        fail(client, 1, username=f"guess{number}")

    assert sign_in(client, "analyst", PASSWORD).status_code == 429
    assert sign_in(client, "analyst", PASSWORD, address="192.0.2.200").status_code == 302


def test_fewer_failures_than_the_limit_still_allow_the_right_password(client, analyst):
    fail(client, LIMIT - 1)

    assert sign_in(client, "analyst", PASSWORD).status_code == 302


def test_an_admin_unlocks_by_deleting_the_access_attempts(client, analyst):
    fail(client, LIMIT)
    admin = get_user_model().objects.create_superuser("root", "", "pw")
    admin_client = Client()
    admin_client.force_login(admin)
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))

    response = admin_client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "analyst", PASSWORD).status_code == 302


def test_the_cool_off_and_limit_come_from_the_environment(settings):
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_client_login_works_with_a_request(client, analyst):
    # Axes needs the request to count attempts; tests that sign in with a password pass one.
    assert client.login(request=HttpRequest(), username="analyst", password=PASSWORD)
