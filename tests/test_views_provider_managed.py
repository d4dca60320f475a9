"""Defender XDR incidents on the pages (#12 item 12): the incident links to the Defender
portal, and every control that would take a Defender alert out of its Defender incident is
disabled with the refusal beside it, instead of failing after Save. The server still refuses.
"""

import json

import pytest

from incidents import membership
from incidents.models import Alert
from tests.factories import (
    DEFENDER,
    INGESTION,
    EntityFactory,
    IncidentFactory,
    alert_in,
    defender_alert_in,
    snapshot,
)

HTMX = {"HX-Request": "true"}
REFUSAL = f"{DEFENDER} alerts cannot be removed from {DEFENDER} incidents here"


@pytest.fixture
def defender(workspace):
    """A Defender XDR incident holding a Defender alert and a Sentinel alert added to it."""
    incident = IncidentFactory(
        workspace=workspace, provider_name=DEFENDER, provider_incident_id="384"
    )
    defender_alert_in(incident, display_name="Ransomware behavior detected")
    alert_in(incident, display_name="Mass download by a single user")
    return incident


def alerts_of(incident) -> tuple[Alert, Alert]:
    """The Defender alert and the Sentinel alert of the `defender` incident."""
    alerts = {a.display_name: a for a in Alert.objects.filter(relations__incident=incident)}
    return alerts["Ransomware behavior detected"], alerts["Mass download by a single user"]


def checkbox_of(alert) -> str:
    return f'value="{alert.system_alert_id}"'


def page(client, url, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


# --- the link to the Defender portal ------------------------------------------


def test_the_overview_links_the_provider_incident_id_to_the_defender_portal(
    client, reader, defender
):
    client.force_login(reader)
    html = page(client, f"/incidents/{defender.number}/")
    link = '<a href="https://security.microsoft.com/incidents/384" rel="noopener noreferrer" '
    assert f'<dt>Provider incident ID</dt><dd>{link}target="_blank">384<span' in html
    # The header links it on every tab.
    alerts_tab = page(client, f"/incidents/{defender.number}/alerts/")
    assert f'{link}target="_blank">incident 384<span' in alerts_tab


def test_the_provider_incident_id_is_escaped_in_the_link(client, reader, workspace):
    incident = IncidentFactory(
        workspace=workspace, provider_name=DEFENDER, provider_incident_id='38"4/../x'
    )
    client.force_login(reader)
    html = page(client, f"/incidents/{incident.number}/")
    assert 'href="https://security.microsoft.com/incidents/38%224%2F..%2Fx"' in html


def test_another_providers_incident_id_stays_plain_text(client, reader, workspace):
    incident = IncidentFactory(
        workspace=workspace, provider_name="Microsoft Sentinel", provider_incident_id="77"
    )
    client.force_login(reader)
    html = page(client, f"/incidents/{incident.number}/")
    assert "<dt>Provider incident ID</dt><dd><code>77</code></dd>" in html
    assert "security.microsoft.com" not in html


# --- the Overview's incident timeline: "More actions" → "Remove alert" -----------


def test_the_timeline_disables_remove_alert_for_a_defender_alert_and_says_why(
    client, responder, defender
):
    ransomware, download = alerts_of(defender)
    client.force_login(responder)
    html = page(client, f"/incidents/{defender.number}/")
    uuid = ransomware.system_alert_id
    assert f'<p class="tl-refusal" id="remove-refusal-{uuid}">{REFUSAL}' in html
    assert (
        '<button type="button" role="menuitem" tabindex="-1" aria-disabled="true" '
        f'aria-describedby="remove-refusal-{uuid}">Remove alert</button>'
    ) in html
    # The Sentinel alert added to it can still be removed.
    assert f"/alerts/{download.system_alert_id}/remove/?focus=" in html
    assert f"remove-refusal-{download.system_alert_id}" not in html


# --- the Alerts tab and the queue's expanded row: the selection --------------------


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/incidents/{number}/alerts/", {}),
        ("/incidents/{number}/alerts/", HTMX),
        ("/incidents/{number}/alerts/rows/", HTMX),
    ],
    ids=["alerts-tab", "alerts-tab-htmx", "queue-expansion"],
)
def test_a_defender_alert_cannot_be_selected_to_link_and_says_why(
    client, responder, defender, url, headers
):
    ransomware, download = alerts_of(defender)
    client.force_login(responder)
    html = page(client, url.format(number=defender.number), **headers)
    refusal_id = f"link-refusal-{defender.number}-{ransomware.system_alert_id}"
    assert (
        f'<input type="checkbox" disabled aria-label="Select alert Ransomware behavior detected" '
        f'aria-describedby="{refusal_id}">'
    ) in html
    assert f'<p class="refusal" id="{refusal_id}">{REFUSAL}' in html
    assert checkbox_of(ransomware) not in html
    assert f'<input type="checkbox" name="alert" {checkbox_of(download)}' in html


def test_a_reader_sees_neither_checkboxes_nor_refusals(client, reader, defender):
    client.force_login(reader)
    html = page(client, f"/incidents/{defender.number}/alerts/")
    assert 'type="checkbox"' not in html
    assert REFUSAL not in html


def test_from_another_incident_a_defender_alert_can_still_be_linked(
    client, responder, workspace, defender
):
    ransomware, _ = alerts_of(defender)
    sentinel = IncidentFactory(workspace=workspace)
    membership.add_alerts(sentinel, [ransomware], actor=INGESTION)
    client.force_login(responder)
    html = page(client, f"/incidents/{sentinel.number}/alerts/")
    assert f'<input type="checkbox" name="alert" {checkbox_of(ransomware)}' in html
    assert REFUSAL not in html


# --- the entity timeline ---------------------------------------------------------


def test_the_entity_timeline_disables_remove_alert_for_a_defender_alert(
    client, responder, workspace, defender
):
    ransomware, _ = alerts_of(defender)
    host = EntityFactory(workspace=workspace)
    ransomware.entities.add(host)
    client.force_login(responder)
    html = page(client, f"/incidents/{defender.number}/entities/{host.pk}/")
    assert 'class="remove-button" disabled' in html
    assert REFUSAL in html


# --- the alerts queue and the alert page: they take an alert out of every incident --


def test_the_alerts_queue_cannot_select_an_alert_of_a_defender_incident(
    client, responder, defender
):
    ransomware, download = alerts_of(defender)
    client.force_login(responder)
    html = page(client, "/alerts/")
    refusal_id = f"link-refusal-{ransomware.system_alert_id}"
    assert f'aria-describedby="{refusal_id}">' in html
    assert f'<p class="refusal" id="{refusal_id}">{REFUSAL}' in html
    assert checkbox_of(ransomware) not in html
    assert f'<input type="checkbox" name="alert" {checkbox_of(download)}' in html


def test_the_alert_page_disables_link_alerts_for_a_defender_alert(client, responder, defender):
    ransomware, download = alerts_of(defender)
    client.force_login(responder)
    html = page(client, ransomware.get_absolute_url())
    assert (
        '<button type="submit" class="primary" disabled aria-describedby="link-refusal">'
        "Link alerts to another incident</button>"
    ) in html
    assert f'<p class="refusal" id="link-refusal">{REFUSAL}' in html

    other = page(client, download.get_absolute_url())
    assert '<button type="submit" class="primary">Link alerts to another incident</button>' in (
        other
    )
    assert REFUSAL not in other


# --- the server still refuses ----------------------------------------------------


def test_a_forged_request_is_still_refused(client, responder, defender):
    ransomware, _ = alerts_of(defender)
    client.force_login(responder)
    before = snapshot()
    response = client.post(
        f"/incidents/{defender.number}/alerts/{ransomware.system_alert_id}/remove/",
        headers=HTMX,
    )
    assert "cannot be removed" in json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    assert snapshot() == before
