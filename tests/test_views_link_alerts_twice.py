""" "Link alerts to another incident" submitted twice with the same token links once."""

import json
import uuid

import pytest

from incidents.models import Alert, Incident
from tests.factories import IncidentFactory, alert_in

HTMX = {"HX-Request": "true"}


def twice(client, url: str, data: dict, **kwargs):
    data = {**data, "form_token": str(uuid.uuid4())}
    return client.post(url, data, **kwargs), client.post(url, data, **kwargs)


def event(response, name: str) -> dict:
    return json.loads(response["HX-Trigger"])[name]


@pytest.fixture
def source(workspace):
    incident = IncidentFactory(workspace=workspace, title="Endpoint noise")
    alert_in(incident, display_name="Ransomware behaviour detected")
    alert_in(incident, display_name="Benign scanner")
    return incident


def test_create_a_new_incident_twice_makes_one_incident(client, responder, source):
    client.force_login(responder)
    alert = Alert.objects.get(display_name="Ransomware behaviour detected")
    data = {"alert": str(alert.system_alert_id), "source": source.number, "target": "new"}
    first, second = twice(client, "/alerts/link/", data, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    assert Incident.objects.count() == 2
    assert event(second, "alertsLinked")["message"] == (
        "Already done: " + event(first, "alertsLinked")["message"]
    )
    assert event(second, "alertsLinked")["url"] == event(first, "alertsLinked")["url"]


def test_without_javascript_the_repeat_redirects_to_the_same_place(client, responder, source):
    client.force_login(responder)
    alert = Alert.objects.get(display_name="Benign scanner")
    data = {"alert": str(alert.system_alert_id), "source": source.number, "target": "new"}
    first, second = twice(client, "/alerts/link/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Incident.objects.count() == 2
