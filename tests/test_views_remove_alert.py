""" "Remove alert" from the incident timeline's "More actions" menu."""

import json
import uuid

import pytest

from incidents import membership
from incidents.models import ActivityKind
from tests.factories import (
    DEFENDER,
    INGESTION,
    IncidentFactory,
    activity_of,
    alert_in,
    defender_alert_in,
    incident_ids_of,
    snapshot,
)

HTMX = {"HX-Request": "true"}


def remove_url(incident, alert) -> str:
    return f"/incidents/{incident.number}/alerts/{alert.system_alert_id}/remove/"


@pytest.fixture
def incident(workspace):
    incident = IncidentFactory(workspace=workspace, title="Phishing")
    alert_in(incident, display_name="Stays")
    return incident


@pytest.fixture
def other(workspace):
    return IncidentFactory(workspace=workspace, title="Other")


@pytest.fixture
def shared(incident, other):
    """An alert of `incident` that also belongs to `other`."""
    alert = alert_in(incident, display_name="Also elsewhere")
    membership.add_alerts(other, [alert], actor=INGESTION)
    return alert


def test_it_removes_the_alert_and_logs_it(client, responder, incident, other, shared):
    client.force_login(responder)
    response = client.post(remove_url(incident, shared), headers=HTMX)
    assert response.status_code == 204
    changed = json.loads(response["HX-Trigger"])["incidentChanged"]
    assert changed["message"] == (
        f"Alert “Also elsewhere” was removed from incident #{incident.number}."
    )
    assert changed["focus"] == "incident-timeline-heading"
    assert incident_ids_of(shared) == {other.pk}
    incident.refresh_from_db()
    assert incident.alert_count == 1
    (removed,) = activity_of(incident, ActivityKind.ALERT_REMOVED)
    assert removed.actor == responder
    assert f"It stays in #{other.number}." in removed.message


def test_without_javascript_it_asks_first_then_goes_back(client, responder, incident, shared):
    client.force_login(responder)
    page = client.get(remove_url(incident, shared)).content.decode()
    assert "Remove this alert from incident" in page
    assert '<button type="submit" class="primary" data-initial-focus>Remove alert</button>' in page
    response = client.post(remove_url(incident, shared), follow=True)
    assert response.redirect_chain == [(f"/incidents/{incident.number}/", 302)]
    assert "was removed from incident" in response.content.decode()


def refused(client, url: str) -> str:
    before = snapshot()
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Reswap"] == "none"
    assert snapshot() == before
    return json.loads(response["HX-Trigger"])["actionRefused"]["message"]


def test_the_alerts_last_incident_says_to_link_it_elsewhere(client, responder, incident):
    alone = incident.relations.get().alert
    client.force_login(responder)
    message = refused(client, remove_url(incident, alone))
    assert message == (
        f"Alert “Stays” belongs to no other incident than #{incident.number}, and every alert "
        "must belong to an incident. Link it to another incident instead (“Link alerts to "
        "another incident”)."
    )


def test_a_provider_managed_alert_is_refused_in_the_seeds_words(client, responder, workspace):
    defender = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = defender_alert_in(defender)
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=INGESTION)
    client.force_login(responder)
    message = refused(client, remove_url(defender, alert))
    assert message.startswith(f"{DEFENDER} alerts cannot be removed from {DEFENDER} incidents")


def test_a_stale_page_where_the_alert_was_already_removed(client, responder, incident, other):
    gone = alert_in(other, display_name="Gone")
    client.force_login(responder)
    message = refused(client, remove_url(incident, gone))
    assert message == f"Alert “Gone” is not in incident #{incident.number} (any more)."


def test_an_unknown_alert(client, responder, incident):
    client.force_login(responder)
    message = refused(client, f"/incidents/{incident.number}/alerts/{uuid.uuid4()}/remove/")
    assert "does not exist in this workspace" in message


def test_an_alert_of_another_workspace(client, responder, incident, other_workspace):
    foreign = alert_in(IncidentFactory(workspace=other_workspace))
    client.force_login(responder)
    assert "does not exist in this workspace" in refused(client, remove_url(incident, foreign))


def test_it_needs_login(client, incident, shared):
    before = snapshot()
    response = client.post(remove_url(incident, shared))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


def test_a_reader_cannot_remove(client, reader, incident, shared):
    client.force_login(reader)
    before = snapshot()
    assert client.post(remove_url(incident, shared)).status_code == 403
    assert client.get(remove_url(incident, shared)).status_code == 403
    assert snapshot() == before


def test_an_outsider_does_not_find_the_incident(client, outsider, incident, shared):
    client.force_login(outsider)
    before = snapshot()
    assert client.post(remove_url(incident, shared)).status_code == 404
    assert snapshot() == before


def test_it_rejects_other_methods(client, responder, incident, shared):
    client.force_login(responder)
    assert client.put(remove_url(incident, shared)).status_code == 405
    assert client.delete(remove_url(incident, shared)).status_code == 405
