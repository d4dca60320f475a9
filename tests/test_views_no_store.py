"""Pages that change answer `Cache-Control: no-store`, so Back asks for them again; nothing a
signed-in user reads (pages, JSON, the admin, the API) is stored anywhere."""

import pytest
from django.test import Client

from incidents.api.tokens import create_token
from tests.api.conftest import Api
from tests.factories import IncidentFactory, UserFactory, alert_in


@pytest.fixture
def alert(workspace):
    return alert_in(IncidentFactory(workspace=workspace, number=7))


@pytest.mark.parametrize(
    "url",
    [
        "/incidents/",
        "/incidents/7/",
        "/incidents/7/alerts/",
        "/incidents/7/entities/",
        "/incidents/7/activity/",
        "/alerts/",
        "/rules/",
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_pages_that_change_are_never_stored(client, reader, alert, url, htmx):
    client.force_login(reader)
    response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_alert_page_is_never_stored(client, reader, alert):
    client.force_login(reader)
    response = client.get(f"/alerts/{alert.system_alert_id}/")
    assert "no-store" in response["Cache-Control"]


def test_the_incident_page_still_varies_on_htmx(client, reader, alert):
    client.force_login(reader)
    response = client.get("/incidents/7/alerts/")
    assert "HX-Request" in response["Vary"]


# --- signed in: nothing is stored (issue #13, item 7) ----------------------------


def directives(response) -> set[str]:
    return {d.strip() for d in response["Cache-Control"].split(",")}


@pytest.mark.parametrize(
    "url",
    [
        "/incidents/",
        "/incidents/7/",
        "/incidents/7/graph/",
        "/incidents/7/graph.json",
        "/incidents/search/?q=phish",
        "/alerts/",
        "/rules/",
        "/accounts/password_change/",
    ],
)
def test_signed_in_pages_are_private_and_never_stored(client, reader, alert, url):
    client.force_login(reader)
    response = client.get(url)
    assert response.status_code == 200
    assert {"private", "no-store"} <= directives(response)


def test_the_admin_is_private_and_never_stored(client, alert):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get("/admin/incidents/incident/")
    assert {"private", "no-store"} <= directives(response)


def test_api_answers_to_a_token_are_private_and_never_stored(reader, alert):
    api = Api(Client(), create_token(reader)[1], alert.workspace)
    for response in (
        api.get("incidents"),
        api.get_url("/api/workspaces?api-version=2024-03-01"),
    ):
        assert response.status_code == 200
        assert {"private", "no-store"} <= directives(response)
