"""A form submitted twice with the same one-time token changes things once; both answers succeed."""

import json
import uuid

import pytest

from incidents import membership
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    CorrelationRule,
    Incident,
    IncidentStatus,
    Role,
    SubmittedForm,
)
from tests.factories import INGESTION, IncidentFactory, MembershipFactory, UserFactory, alert_in
from tests.test_views_rules import valid_form

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


def test_requests_without_a_token_still_act(client, responder, source):
    client.force_login(responder)
    url = f"/incidents/{source.number}/comment/"
    client.post(url, {"comment": "One"}, headers=HTMX)
    client.post(url, {"comment": "One"}, headers=HTMX)
    assert ActivityEntry.objects.filter(kind=ActivityKind.COMMENT).count() == 2
    assert not SubmittedForm.objects.exists()


def test_a_comment_posted_twice_is_added_once(client, responder, source):
    client.force_login(responder)
    url = f"/incidents/{source.number}/comment/"
    first, second = twice(client, url, {"comment": "Looked at it"}, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    assert ActivityEntry.objects.filter(kind=ActivityKind.COMMENT).count() == 1
    assert event(second, "incidentChanged")["message"].startswith("Already done: ")


def test_closing_twice_closes_once(client, responder, source):
    client.force_login(responder)
    url = f"/incidents/{source.number}/close/"
    data = {"classification": "Undetermined", "comment": "Checked"}
    first, second = twice(client, url, data, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    source.refresh_from_db()
    assert source.status == IncidentStatus.CLOSED
    assert ActivityEntry.objects.filter(incident=source, kind=ActivityKind.STATUS).count() <= 1


def test_removing_twice_removes_once_and_does_not_refuse(client, responder, source, workspace):
    alert = Alert.objects.get(display_name="Benign scanner")
    membership.add_alerts(
        IncidentFactory(workspace=workspace), [alert], actor=INGESTION, reason="ingestion"
    )
    client.force_login(responder)
    url = f"/incidents/{source.number}/alerts/{alert.system_alert_id}/remove/"
    first, second = twice(client, url, {}, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    assert "incidentChanged" in json.loads(second["HX-Trigger"])
    assert Alert.objects.filter(relations__incident=source).count() == 1


def test_adding_twice_adds_once(client, responder, source, workspace):
    other = IncidentFactory(workspace=workspace, title="Elsewhere")
    alert = alert_in(other, display_name="Shared alert")
    client.force_login(responder)
    url = f"/incidents/{source.number}/alerts/{alert.system_alert_id}/add/"
    first, second = twice(client, url, {"other_incident": "keep"}, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    assert "incidentChanged" in json.loads(second["HX-Trigger"])
    assert Alert.objects.filter(relations__incident=source).count() == 3


def test_merging_twice_merges_once(client, responder, source, workspace):
    newer = IncidentFactory(workspace=workspace, title="Newer")
    alert_in(newer, display_name="Spray")
    client.force_login(responder)
    data = {"incident": [source.number, newer.number], "into": source.number, "reason": "Same"}
    first, second = twice(client, "/incidents/merge/", data, headers=HTMX)
    assert (first.status_code, second.status_code) == (204, 204)
    assert "incidentsMerged" in json.loads(second["HX-Trigger"])
    assert Alert.objects.filter(relations__incident=source).count() == 3


def test_another_users_token_is_not_replayed_to_this_user(client, responder, reader, source):
    token = uuid.uuid4()
    SubmittedForm.objects.create(token=token, user=reader, response_summary={})
    client.force_login(responder)
    url = f"/incidents/{source.number}/comment/"
    response = client.post(url, {"comment": "Mine", "form_token": str(token)}, headers=HTMX)
    assert response.status_code == 204
    assert ActivityEntry.objects.filter(kind=ActivityKind.COMMENT).count() == 1


def test_a_new_rule_saved_twice_is_created_once(client, workspace):
    contributor = UserFactory()
    MembershipFactory(workspace=workspace, user=contributor, role=Role.CONTRIBUTOR)
    client.force_login(contributor)
    before = CorrelationRule.objects.filter(workspace=workspace).count()
    first, second = twice(client, "/rules/new/", valid_form(), headers=HTMX)
    assert first["HX-Redirect"] == second["HX-Redirect"]
    assert CorrelationRule.objects.filter(workspace=workspace).count() == before + 1


# --- Link alerts to another incident ---------------------------------------------------


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
