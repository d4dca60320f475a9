"""The admin escapes what users typed: a workspace's display name on the alert actions' page."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from incidents.models import Alert
from tests.factories import incident_with_alerts

PAYLOAD = "<svg onload=alert(1)>"


@pytest.mark.parametrize("action", ["link_to_incident", "add_to_incident"])
def test_alert_action_page_escapes_the_workspace_display_name(admin_client, workspace, action):
    workspace.display_name = PAYLOAD
    workspace.save()
    alerts = Alert.objects.filter(relations__incident=incident_with_alerts(2, workspace=workspace))

    response = admin_client.post(
        reverse("admin:incidents_alert_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [a.pk for a in alerts], "index": 0},
    )

    assert response.status_code == 200
    assert PAYLOAD not in response.text
    assert "in workspace &lt;svg onload=alert(1)&gt;." in response.text


def test_alert_action_refusal_escapes_the_workspace_display_name(admin_client, workspace):
    workspace.display_name = PAYLOAD
    workspace.save()
    alerts = Alert.objects.filter(relations__incident=incident_with_alerts(1, workspace=workspace))

    response = admin_client.post(
        reverse("admin:incidents_alert_changelist"),
        {
            "action": "link_to_incident",
            ACTION_CHECKBOX_NAME: [a.pk for a in alerts],
            "post": "yes",
            "incident": "#999",
            "other_incident": "keep",
        },
    )

    assert response.status_code == 200
    assert PAYLOAD not in response.text
    assert "There is no incident #999 in workspace &lt;svg" in response.text
