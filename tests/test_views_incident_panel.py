"""The queue's incident details panel: selecting a row shows the incident beside the list
(the seeds' "incident details panel" with "View full details" and "Actions")."""

import pytest

from incidents import actions
from incidents.activity import Actor
from tests.factories import EntityFactory, alert_in, incident_with_alerts

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/incidents/?status=New"}


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(0, workspace=workspace, title="Ransomware on mb-winclient")


def panel(client, incident) -> str:
    response = client.get(f"/incidents/{incident.number}/panel/", headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_each_queue_row_opens_its_panel(client, reader, incident):
    client.force_login(reader)
    html = client.get("/incidents/").content.decode()
    assert 'id="incident-panel"' in html
    assert f'data-panel-url="/incidents/{incident.number}/panel/" tabindex="0"' in html
    assert "js/panel.js" in html


def test_the_panel_shows_what_the_incident_is(client, responder, incident):
    alerts = [
        alert_in(incident, display_name=f"Alert {n}", product_name="Microsoft Defender for Office")
        for n in range(7)
    ]
    host = EntityFactory(workspace=incident.workspace, kind="host", identifier="mb-winclient")
    for alert in alerts:
        alert.entities.add(host)
    actions.add_comment(incident, "Looks like **Ryuk**.", actor=Actor.for_user(responder))
    actions.assign_owner(incident, responder, actor=Actor.for_user(responder))
    incident.refresh_from_db()
    client.force_login(responder)
    html = panel(client, incident)
    assert f'<span class="num">#{incident.number}</span> Ransomware on mb-winclient' in html
    full = f'id="panel-full-details" href="/incidents/{incident.number}/">View full details</a>'
    assert full in html
    assert f'href="/incidents/{incident.number}/graph/">Investigate</a>' in html
    assert "<dt>Owner</dt><dd>responder</dd>" in html
    assert "<dt>Alerts</dt><dd>7</dd>" in html
    assert "Microsoft Defender for Office" in html
    assert "Execution" in html  # the alerts' tactic
    # The five newest alerts, and how many more.
    assert "Alert 6" in html
    assert "Alert 2" in html
    assert "Alert 1<" not in html
    assert "and 2 more" in html
    assert 'mb-winclient</a> <span class="muted">in 7 alerts</span>' in html
    assert "Ryuk" in html
    # Actions come back to the queue the panel was opened from.
    assert 'id="action-status"' in html
    assert 'name="next" value="/incidents/?status=New"' in html
    assert "Link alerts…" in html


def test_a_reader_sees_the_panel_without_actions(client, reader, incident):
    client.force_login(reader)
    html = panel(client, incident)
    assert "View full details" in html
    assert 'id="action-status"' not in html
    assert "Link alerts…" not in html


def test_the_panel_refreshes_itself_when_the_incident_changes(client, reader, incident):
    client.force_login(reader)
    html = panel(client, incident)
    assert (
        f'hx-get="/incidents/{incident.number}/panel/" hx-trigger="incidentChanged from:body'
        in html
    )


def test_the_queue_refreshes_itself_after_a_change_made_in_the_panel(client, reader, incident):
    client.force_login(reader)
    html = client.get("/incidents/").content.decode()
    assert "incidentChanged from:body" in html[html.index('id="incident-list"') :]


def test_the_panel_without_htmx_is_the_incident_page(client, reader, incident):
    client.force_login(reader)
    response = client.get(f"/incidents/{incident.number}/panel/")
    assert response.status_code == 302
    assert response.url == f"/incidents/{incident.number}/"


def test_the_panel_of_another_workspace_is_not_found(client, outsider, incident):
    client.force_login(outsider)
    assert client.get(f"/incidents/{incident.number}/panel/", headers=HTMX).status_code == 404


def test_the_panel_costs_the_same_queries_for_one_alert_or_a_full_incident(
    client, responder, incident, django_assert_max_num_queries
):
    client.force_login(responder)
    alert_in(incident).entities.add(EntityFactory(workspace=incident.workspace))
    panel(client, incident)
    with django_assert_max_num_queries(12) as one:
        panel(client, incident)
    for _ in range(30):
        alert_in(incident).entities.add(EntityFactory(workspace=incident.workspace))
    with django_assert_max_num_queries(12) as many:
        panel(client, incident)
    assert len(many.captured_queries) == len(one.captured_queries)
