"""The incident's triage actions: owner, status, close, reopen and comment."""

import json
import re

import pytest

from incidents import actions
from incidents.activity import Actor
from incidents.models import ActivityKind, IncidentStatus, Role
from tests.factories import (
    MembershipFactory,
    UserFactory,
    activity_of,
    incident_with_alerts,
    snapshot,
)

HTMX = {"HX-Request": "true"}
CLASSIFICATIONS = [
    ("Undetermined", "Undetermined"),
    ("TruePositive:SuspiciousActivity", "True Positive – suspicious activity"),
    ("BenignPositive:SuspiciousButExpected", "Benign Positive – suspicious but expected"),
    ("FalsePositive:IncorrectAlertLogic", "False Positive – incorrect alert logic"),
    ("FalsePositive:InaccurateData", "False Positive – inaccurate data"),
]


def url(incident, action: str) -> str:
    return f"/incidents/{incident.number}/{action}/"


def changed(response) -> dict:
    assert response.status_code == 204
    return json.loads(response["HX-Trigger"])["incidentChanged"]


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Suspicious sign-ins")


@pytest.fixture
def colleague(workspace):
    user = UserFactory(username="colleague")
    MembershipFactory(workspace=workspace, user=user, role=Role.RESPONDER)
    return user


@pytest.fixture
def closed(incident, responder):
    return actions.close_incident(
        incident, classification="Undetermined", actor=Actor.for_user(responder)
    )


# --- owner --------------------------------------------------------------------------------


def test_the_owner_dialog_lists_the_members_who_can_act(
    client, responder, colleague, reader, incident
):
    client.force_login(responder)
    html = client.get(url(incident, "owner"), headers=HTMX).content.decode()
    assert html.lstrip().startswith('<form class="dialog-panel"')
    assert '<h2 id="flyout-title">Change owner</h2>' in html
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', html)
    # Unassigned, then "Assign to me", then the others who can act; no reader.
    assert options == [
        ("", "Unassigned"),
        (str(responder.pk), "Assign to me (responder)"),
        (str(colleague.pk), "colleague"),
    ]
    assert reader.get_username() not in html


def test_a_reader_who_owns_the_incident_stays_listed(client, responder, reader, incident):
    """Owners from before (or a member since made reader) are not dropped by saving."""
    incident.owner = reader
    incident.save(update_fields=["owner"])
    client.force_login(responder)
    html = client.get(url(incident, "owner"), headers=HTMX).content.decode()
    assert f'<option value="{reader.pk}" selected>reader</option>' in html


def test_a_reader_cannot_be_made_owner(client, responder, reader, incident):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(incident, "owner"), {"owner": reader.pk}, headers=HTMX)
    assert response.status_code == 200
    assert "who can act on incidents, or Unassigned." in response.content.decode()
    assert snapshot() == before


def test_assigning_an_owner(client, responder, colleague, incident):
    client.force_login(responder)
    response = client.post(url(incident, "owner"), {"owner": colleague.pk}, headers=HTMX)
    assert changed(response)["message"] == f"Incident #{incident.number} is assigned to colleague."
    incident.refresh_from_db()
    assert incident.owner == colleague
    (entry,) = activity_of(incident, ActivityKind.OWNER)
    assert entry.actor == responder
    assert entry.message == "responder assigned the incident to colleague."


def test_assigning_to_me_and_unassigning(client, responder, incident):
    client.force_login(responder)
    client.post(url(incident, "owner"), {"owner": responder.pk}, headers=HTMX)
    incident.refresh_from_db()
    assert incident.owner == responder
    response = client.post(url(incident, "owner"), {"owner": ""}, headers=HTMX)
    assert changed(response)["message"] == f"Incident #{incident.number} is unassigned."
    incident.refresh_from_db()
    assert incident.owner is None
    assert len(activity_of(incident, ActivityKind.OWNER)) == 2


def test_an_owner_who_is_not_a_member_is_refused_in_the_dialog(
    client, responder, outsider, incident
):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(incident, "owner"), {"owner": outsider.pk}, headers=HTMX)
    assert response.status_code == 200
    assert (
        "Choose a member of this workspace who can act on incidents, or Unassigned."
        in response.content.decode()
    )
    assert snapshot() == before


# --- status -------------------------------------------------------------------------------


def test_changing_the_status(client, responder, incident):
    client.force_login(responder)
    response = client.post(url(incident, "status"), {"status": "Active"}, headers=HTMX)
    assert changed(response)["message"] == f"Incident #{incident.number} is now Active."
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACTIVE
    (entry,) = activity_of(incident, ActivityKind.STATUS)
    assert entry.message == "responder changed the status from New to Active."


@pytest.mark.parametrize("status", ["Closed", "Pending", ""])
def test_a_status_other_than_new_or_active_is_refused(client, responder, incident, status):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(incident, "status"), {"status": status}, headers=HTMX)
    assert response.status_code == 200
    assert snapshot() == before
    message = json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    assert message == "Status can be set to New or Active here; use close or reopen for Closed."


def test_the_status_of_a_closed_incident_is_refused(client, responder, closed):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(closed, "status"), {"status": "Active"}, headers=HTMX)
    assert snapshot() == before
    message = json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    assert message == f"Incident #{closed.number} is closed; reopen it first."


def test_the_status_without_javascript_goes_back_with_a_message(client, responder, incident):
    client.force_login(responder)
    back = f"/incidents/{incident.number}/activity/"
    response = client.post(url(incident, "status"), {"status": "Active", "next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert f"Incident #{incident.number} is now Active." in response.content.decode()


# --- close and reopen ---------------------------------------------------------------------


def test_the_close_dialog_offers_sentinels_classifications_and_a_comment(
    client, responder, incident
):
    client.force_login(responder)
    html = client.get(url(incident, "close"), headers=HTMX).content.decode()
    assert f'<h2 id="flyout-title">Close incident #{incident.number}</h2>' in html
    for value, label in CLASSIFICATIONS:
        assert f'value="{value}"' in html
        assert f"> {label}</label>" in html
    assert ">Comment</label>" in html


@pytest.mark.parametrize(("value", "label"), CLASSIFICATIONS)
def test_closing_with_each_classification(client, responder, incident, value, label):
    client.force_login(responder)
    response = client.post(
        url(incident, "close"), {"classification": value, "comment": "Checked"}, headers=HTMX
    )
    assert changed(response)["message"] == f"Incident #{incident.number} was closed."
    incident.refresh_from_db()
    classification, _, reason = value.partition(":")
    assert incident.status == IncidentStatus.CLOSED
    assert (incident.classification, incident.classification_reason) == (classification, reason)
    assert incident.classification_comment == "Checked"
    (entry,) = activity_of(incident, ActivityKind.CLOSED)
    assert entry.message == f"responder closed the incident as {label}."
    assert entry.comment == "Checked"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a classification to close the incident."),
        ({"classification": "FalsePositive"}, "Choose one of the listed classifications."),
        (
            {"classification": "TruePositive:InaccurateData"},
            "Choose one of the listed classifications.",
        ),
        ({"classification": "Undetermined", "comment": "x" * 30_001}, "at most 30000"),
    ],
)
def test_an_invalid_classification_or_reason_is_explained_in_the_dialog(
    client, responder, incident, data, message
):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(incident, "close"), data, headers=HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot() == before


def test_closing_a_closed_incident_is_explained(client, responder, closed):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(closed, "close"), {"classification": "Undetermined"}, headers=HTMX)
    assert f"Incident #{closed.number} is already closed." in response.content.decode()
    assert snapshot() == before


def test_reopening(client, responder, closed):
    client.force_login(responder)
    response = client.post(url(closed, "reopen"), headers=HTMX)
    assert changed(response)["message"] == f"Incident #{closed.number} was reopened."
    closed.refresh_from_db()
    assert (closed.status, closed.classification) == (IncidentStatus.ACTIVE, "")
    assert len(activity_of(closed, ActivityKind.REOPENED)) == 1


def test_reopening_an_open_incident_is_refused(client, responder, incident):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(incident, "reopen"), headers=HTMX)
    message = json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    assert message == f"Incident #{incident.number} is not closed."
    assert snapshot() == before


# --- comment ------------------------------------------------------------------------------


def test_commenting(client, responder, incident):
    client.force_login(responder)
    response = client.post(url(incident, "comment"), {"comment": "Called the user"}, headers=HTMX)
    assert changed(response)["message"] == f"Your comment was added to #{incident.number}."
    (entry,) = activity_of(incident, ActivityKind.COMMENT)
    assert (entry.actor, entry.comment) == (responder, "Called the user")


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_comment_is_explained_in_the_dialog(client, responder, incident, text):
    client.force_login(responder)
    before = snapshot()
    response = client.post(url(incident, "comment"), {"comment": text}, headers=HTMX)
    assert response.status_code == 200
    assert "A comment cannot be empty." in response.content.decode()
    assert snapshot() == before


def test_the_comment_dialog_without_javascript_is_a_page(client, responder, incident):
    client.force_login(responder)
    back = f"/incidents/{incident.number}/"
    html = client.get(url(incident, "comment"), {"next": back}).content.decode()
    assert "<!doctype html>" in html
    assert f'<input type="hidden" name="next" value="{back}">' in html


# --- who may ------------------------------------------------------------------------------

POSTS = [
    ("owner", {"owner": ""}),
    ("status", {"status": "Active"}),
    ("close", {"classification": "Undetermined"}),
    ("reopen", {}),
    ("comment", {"comment": "hello"}),
]


@pytest.mark.parametrize(("action", "data"), POSTS)
def test_every_action_needs_login(client, incident, action, data):
    before = snapshot()
    response = client.post(url(incident, action), data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


@pytest.mark.parametrize(("action", "data"), POSTS)
def test_a_reader_cannot_act(client, reader, incident, action, data):
    client.force_login(reader)
    before = snapshot()
    assert client.post(url(incident, action), data).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(("action", "data"), POSTS)
def test_an_outsider_does_not_find_the_incident(client, outsider, incident, action, data):
    client.force_login(outsider)
    before = snapshot()
    assert client.post(url(incident, action), data).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("action", ["owner", "close", "comment"])
def test_a_reader_cannot_open_the_dialogs(client, reader, incident, action):
    client.force_login(reader)
    assert client.get(url(incident, action)).status_code == 403


@pytest.mark.parametrize("action", ["status", "reopen"])
def test_one_click_actions_only_answer_post(client, responder, incident, action):
    client.force_login(responder)
    assert client.get(url(incident, action)).status_code == 405


@pytest.mark.parametrize("action", ["owner", "status", "close", "reopen", "comment"])
def test_every_action_rejects_other_methods(client, responder, incident, action):
    client.force_login(responder)
    assert client.put(url(incident, action)).status_code == 405
    assert client.delete(url(incident, action)).status_code == 405
