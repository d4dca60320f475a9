"""Pages that change answer `Cache-Control: no-store`, so Back asks for them again."""

import pytest

from tests.factories import IncidentFactory, alert_in


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
