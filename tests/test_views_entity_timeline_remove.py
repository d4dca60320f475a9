""" "Remove alert" from the entity timeline: the same confirmation and view as the Overview's."""

import json

import pytest
from django.urls import reverse

from incidents import membership
from incidents.errors import LastIncident
from incidents.models import ActivityKind, MembershipChange
from tests.factories import (
    DEFENDER,
    INGESTION,
    EntityFactory,
    IncidentFactory,
    activity_of,
    alert_in,
    defender_alert_in,
    incident_ids_of,
    snapshot,
)

HTMX = {"HX-Request": "true"}


def panel_url(incident, entity) -> str:
    return f"/incidents/{incident.number}/entities/{entity.pk}/"


def remove_url(incident, alert) -> str:
    return f"/incidents/{incident.number}/alerts/{alert.system_alert_id}/remove/"


@pytest.fixture
def incident(workspace):
    return IncidentFactory(workspace=workspace, title="Lateral movement")


@pytest.fixture
def other(workspace):
    return IncidentFactory(workspace=workspace, title="Elsewhere")


@pytest.fixture
def host(workspace):
    return EntityFactory(workspace=workspace, identifier="ws-fin-1122", display_name="WS-FIN-1122")


@pytest.fixture
def shared(incident, other, host):
    """An alert of the host in `incident` that also belongs to `other`."""
    alert = alert_in(incident, display_name="Kerberoasting")
    alert.entities.add(host)
    membership.add_alerts(other, [alert], actor=INGESTION)
    return alert


def test_each_alert_of_the_incident_has_remove_alert_where_outside_ones_have_plus(
    client, responder, incident, other, host, shared
):
    outside = alert_in(other, display_name="Outside")
    outside.entities.add(host)
    client.force_login(responder)

    html = client.get(panel_url(incident, host)).content.decode()

    uuid = shared.system_alert_id
    assert (
        f'<a class="remove-button" role="button" id="remove-{uuid}" '
        f'href="{remove_url(incident, shared)}?next=' in html
    )
    # Its name is "Remove alert"; its description is the alert's name (the link).
    assert f'aria-describedby="alert-link-{uuid}"' in html
    assert html.count(">Remove alert</a>") == 1
    assert html.count('aria-label="Add alert to incident"') == 1


def test_the_confirmation_asks_for_an_optional_reason(client, responder, incident, shared):
    client.force_login(responder)

    response = client.get(remove_url(incident, shared) + "?focus=add-x", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the dialog alone, for the flyout
    assert "data-dialog-panel" in html
    assert '<label for="id_reason">Reason</label>' in html
    assert '<input type="hidden" name="focus" value="add-x">' in html
    assert "Remove this alert from incident" in html


def test_removing_records_the_reason_and_refreshes_the_panel_in_place(
    client, responder, incident, other, host, shared
):
    client.force_login(responder)
    focus = f"add-{shared.system_alert_id}"

    response = client.post(
        remove_url(incident, shared),
        {"reason": "Another host's alert", "focus": focus},
        headers=HTMX,
    )

    assert response.status_code == 204
    changed = json.loads(response["HX-Trigger"])["incidentChanged"]
    assert changed == {
        "message": f"Alert “Kerberoasting” was removed from incident #{incident.number}.",
        "number": incident.number,
        "focus": focus,
        "undo": reverse("incidents:undo_change", args=[MembershipChange.objects.get().uuid]),
    }
    assert incident_ids_of(shared) == {other.pk}
    (removed,) = activity_of(incident, ActivityKind.ALERT_REMOVED)
    assert removed.comment == "Another host's alert"
    assert removed.actor == responder
    # The refreshed panel shows it greyed with its + back, and the entity left the list.
    response = client.get(panel_url(incident, host))
    assert [(a.display_name, a.in_incident) for a in response.context["timeline"].rows] == [
        ("Kerberoasting", False)
    ]
    assert f'id="add-{shared.system_alert_id}"' in response.content.decode()
    assert host.pk not in [e.pk for group in response.context["groups"] for e in group.entities]


def test_a_reason_too_long_is_asked_again_and_nothing_changes(client, responder, incident, shared):
    client.force_login(responder)
    before = snapshot()

    response = client.post(remove_url(incident, shared), {"reason": "x" * 30001}, headers=HTMX)

    assert response.status_code == 200
    assert "at most 30000 characters" in response.content.decode()
    assert snapshot() == before


def test_the_last_incident_refusal_is_said_before_and_after_a_click(
    client, responder, incident, host
):
    alone = alert_in(incident, display_name="Only here")
    alone.entities.add(host)
    client.force_login(responder)
    message = LastIncident(alone, incident).user_message

    dialog = client.get(remove_url(incident, alone), headers=HTMX).content.decode()
    assert f'<div class="error" role="alert">{message}</div>' in dialog
    assert "Remove alert</button>" not in dialog

    before = snapshot()
    response = client.post(remove_url(incident, alone), headers=HTMX)
    assert json.loads(response["HX-Trigger"])["actionRefused"]["message"] == message
    assert snapshot() == before


def test_a_defender_xdr_alert_shows_why_beside_a_disabled_button(
    client, responder, workspace, host
):
    incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = defender_alert_in(incident, display_name="Suspicious PowerShell")
    alert.entities.add(host)
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=INGESTION)
    client.force_login(responder)

    html = client.get(panel_url(incident, host)).content.decode()

    uuid = alert.system_alert_id
    assert (
        f'<button type="button" class="remove-button" disabled '
        f'aria-describedby="alert-link-{uuid} remove-refusal-{uuid}">Remove alert</button>'
    ) in html
    assert f"{DEFENDER} alerts cannot be removed from {DEFENDER} incidents here" in html
    before = snapshot()
    response = client.post(remove_url(incident, alert), headers=HTMX)
    assert "cannot be removed" in json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    assert snapshot() == before


def test_a_reader_sees_neither_button_and_cannot_remove(
    client, reader, workspace, incident, other, host, shared
):
    alert_in(other, display_name="Outside").entities.add(host)
    client.force_login(reader)

    html = client.get(panel_url(incident, host)).content.decode()
    assert "Remove alert" not in html
    assert "Add alert to incident" not in html

    before = snapshot()
    assert client.post(remove_url(incident, shared), headers=HTMX).status_code == 403
    assert client.get(remove_url(incident, shared), headers=HTMX).status_code == 403
    assert snapshot() == before


def test_an_outsider_does_not_find_the_incident(client, outsider, incident, shared):
    client.force_login(outsider)
    before = snapshot()
    assert client.post(remove_url(incident, shared), headers=HTMX).status_code == 404
    assert snapshot() == before


def test_an_alert_of_another_workspace_is_refused(client, responder, incident, other_workspace):
    foreign = alert_in(IncidentFactory(workspace=other_workspace))
    client.force_login(responder)
    before = snapshot()

    response = client.post(remove_url(incident, foreign), headers=HTMX)

    assert (
        "does not exist in this workspace"
        in json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    )
    assert snapshot() == before
