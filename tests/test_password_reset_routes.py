"""Password reset is routed, and offered at sign-in, only when e-mail can be sent."""

import importlib

import pytest
from django.urls import NoReverseMatch, clear_url_caches, reverse

import accounts.urls
import triage.urls


def reload_urls() -> None:
    importlib.reload(accounts.urls)
    importlib.reload(triage.urls)
    clear_url_caches()


@pytest.fixture
def with_email(settings):
    settings.TRIAGE_PASSWORD_RESET = True
    reload_urls()
    yield
    settings.TRIAGE_PASSWORD_RESET = False
    reload_urls()


RESET_PAGES = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]


def test_without_e_mail_password_reset_is_not_configured(settings):
    assert settings.TRIAGE_PASSWORD_RESET is False


@pytest.mark.parametrize("url", RESET_PAGES)
def test_without_e_mail_the_reset_pages_are_not_found(client, db, url):
    assert client.get(url).status_code == 404


def test_without_e_mail_the_sign_in_page_offers_no_reset(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert "Forgot your password?" not in response.text
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")


def test_sign_in_sign_out_and_password_change_stay_routed(client, db):
    assert reverse("login") == "/accounts/login/"
    assert reverse("logout") == "/accounts/logout/"
    assert reverse("password_change") == "/accounts/password_change/"


@pytest.mark.usefixtures("with_email")
@pytest.mark.parametrize("url", ["/accounts/password_reset/", "/accounts/reset/done/"])
def test_with_e_mail_the_reset_pages_are_served(client, db, url):
    assert client.get(url).status_code == 200


@pytest.mark.usefixtures("with_email")
def test_with_e_mail_the_sign_in_page_offers_a_reset(client, db):
    response = client.get("/accounts/login/")

    assert '<a href="/accounts/password_reset/">Forgot your password?</a>' in response.text
