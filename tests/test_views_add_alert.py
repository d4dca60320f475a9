"""Adding one alert to an incident, with the seed's special situations (the shared dialog)."""

import json
import uuid

import pytest

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import ActivityKind, IncidentStatus
from tests.factories import (
    DEFENDER,
    INGESTION,
    EntityFactory,
    IncidentFactory,
    activity_of,
    alert_ids_of,
    alert_in,
    defender_alert_in,
    incident_ids_of,
    snapshot,
)

HTMX = {"HX-Request": "true"}


def add_url(incident, alert) -> str:
    return f"/incidents/{incident.number}/alerts/{alert.system_alert_id}/add/"


def event(response, name: str) -> dict:
    return json.loads(response["HX-Trigger"])[name]


@pytest.fixture
def incident(workspace):
    incident = IncidentFactory(workspace=workspace, title="Credential theft")
    alert_in(incident, display_name="Already here")
    return incident


@pytest.fixture
def crowded(workspace):
    """Another incident with two alerts."""
    crowded = IncidentFactory(workspace=workspace, title="Noisy host")
    alert_in(crowded, display_name="Shared alert")
    alert_in(crowded, display_name="Stays behind")
    return crowded


@pytest.fixture
def shared(crowded):
    return crowded.relations.get(alert__display_name="Shared alert").alert


@pytest.fixture
def lonely(workspace):
    """Another incident whose only alert is `lone`."""
    lonely = IncidentFactory(workspace=workspace, title="Lonely")
    alert_in(lonely, display_name="Lone alert")
    return lonely


@pytest.fixture
def lone(lonely):
    return lonely.relations.get().alert


# --- the dialog ---------------------------------------------------------------------------


def test_the_dialog_names_the_other_incident_with_a_link_and_asks_ok_or_cancel(
    client, responder, incident, crowded, shared
):
    client.force_login(responder)
    response = client.get(add_url(incident, shared), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<form class="dialog-panel"')
    assert '<h2 id="flyout-title">Add alert to incident</h2>' in html
    assert "It is already part of another incident:" in html
    assert f'<a href="/incidents/{crowded.number}/">#{crowded.number} Noisy host</a>' in html
    assert "does not remove it from that incident" in html
    assert 'value="keep" data-initial-focus>OK</button>' in html
    assert ">Cancel</a>" in html
    assert "Keep other incident" not in html


def test_the_dialog_names_every_other_incident(client, responder, workspace, incident, shared):
    third = IncidentFactory(workspace=workspace, title="Third")
    alert_in(third)
    membership.add_alerts(third, [shared], actor=INGESTION)
    client.force_login(responder)
    html = client.get(add_url(incident, shared)).content.decode()
    assert "It is already part of 2 other incidents:" in html
    assert f'href="/incidents/{third.number}/">#{third.number} Third</a>' in html


def test_the_dialog_offers_keep_or_close_when_the_alert_is_alone_in_another_incident(
    client, responder, incident, lonely, lone
):
    client.force_login(responder)
    html = client.get(add_url(incident, lone)).content.decode()
    assert f"It is the only alert of incident #{lonely.number}" in html
    assert 'name="other_incident" value="keep" data-initial-focus>Keep other incident<' in html
    assert 'name="other_incident" value="close">Close other incident<' in html
    assert ">Cancel</a>" in html
    assert ">OK<" not in html
    assert f"“Alert was added to another incident #{incident.number}.”" in html


def test_a_closed_other_incident_is_not_offered_for_closing(
    client, responder, incident, lonely, lone
):
    actions.close_incident(lonely, classification="Undetermined", actor=Actor.for_user(responder))
    client.force_login(responder)
    html = client.get(add_url(incident, lone)).content.decode()
    assert "Close other incident" not in html
    assert ">OK</button>" in html


def test_a_stale_page_is_told_the_alert_is_already_here(client, responder, incident):
    here = incident.relations.get().alert
    client.force_login(responder)
    html = client.get(add_url(incident, here)).content.decode()
    assert f"Alert “Already here” is already in incident #{incident.number}." in html
    assert 'role="alert"' in html
    assert ">OK<" not in html


def test_opening_the_dialog_changes_nothing(client, responder, incident, lone):
    before = snapshot()
    client.force_login(responder)
    client.get(add_url(incident, lone))
    assert snapshot() == before


# --- OK, Keep other incident, Close other incident ----------------------------------------


def test_ok_adds_the_alert_and_leaves_it_in_its_other_incident(
    client, responder, incident, crowded, shared
):
    client.force_login(responder)
    response = client.post(add_url(incident, shared), {"other_incident": "keep"}, headers=HTMX)
    assert response.status_code == 204
    changed = event(response, "incidentChanged")
    assert changed["message"] == (
        f"Alert “Shared alert” was added to incident #{incident.number}. "
        f"It stays in #{crowded.number}."
    )
    assert changed["focus"] == f"alert-link-{shared.system_alert_id}"
    assert incident_ids_of(shared) == {incident.pk, crowded.pk}
    (added,) = activity_of(incident, ActivityKind.ALERT_ADDED)
    assert added.actor == responder
    assert f"It also belongs to #{crowded.number}." in added.message
    assert activity_of(crowded, ActivityKind.ALERT_REMOVED, ActivityKind.CLOSED) == []


def test_keep_other_incident_leaves_it_open_with_its_alert(
    client, responder, incident, lonely, lone
):
    client.force_login(responder)
    before = activity_of(lonely)
    response = client.post(add_url(incident, lone), {"other_incident": "keep"}, headers=HTMX)
    assert response.status_code == 204
    lonely.refresh_from_db()
    incident.refresh_from_db()
    assert (lonely.status, lonely.alert_count) == (IncidentStatus.NEW, 1)
    assert incident.alert_count == 2
    assert activity_of(lonely) == before
    assert len(activity_of(incident, ActivityKind.ALERT_ADDED)) == 1


def test_close_other_incident_closes_it_as_undetermined_naming_this_incident(
    client, responder, incident, lonely, lone
):
    client.force_login(responder)
    response = client.post(add_url(incident, lone), {"other_incident": "close"}, headers=HTMX)
    assert f"Incident #{lonely.number} was closed." in event(response, "incidentChanged")["message"]
    lonely.refresh_from_db()
    assert lonely.status == IncidentStatus.CLOSED
    assert lonely.classification == "Undetermined"
    assert lonely.classification_comment == (
        f"Alert was added to another incident #{incident.number}."
    )
    # The alert stays in the closed incident too: adding never removes.
    assert incident_ids_of(lone) == {incident.pk, lonely.pk}
    (closed,) = activity_of(lonely, ActivityKind.CLOSED)
    assert closed.actor == responder
    assert len(activity_of(incident, ActivityKind.ALERT_ADDED)) == 1


def test_the_added_alerts_entities_join_the_incidents_entities(
    client, responder, workspace, incident, shared
):
    host = EntityFactory(workspace=workspace, identifier="srv-db-01")
    shared.entities.add(host)
    client.force_login(responder)
    entities = f"/incidents/{incident.number}/entities/"
    assert b"srv-db-01" not in client.get(entities).content
    client.post(add_url(incident, shared), {"other_incident": "keep"}, headers=HTMX)
    assert b"srv-db-01" in client.get(entities).content


def test_without_javascript_it_goes_back_with_a_message(client, responder, incident, shared):
    client.force_login(responder)
    back = f"/incidents/{incident.number}/entities/"
    response = client.post(
        add_url(incident, shared), {"other_incident": "keep", "next": back}, follow=True
    )
    assert response.redirect_chain == [(back, 302)]
    assert "was added to incident" in response.content.decode()


def test_a_foreign_next_is_ignored(client, responder, incident, shared):
    client.force_login(responder)
    response = client.post(
        add_url(incident, shared), {"other_incident": "keep", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/incidents/{incident.number}/"


# --- refusals: a clear message, nothing changes -------------------------------------------


def post_refused(client, url: str, data: dict | None = None) -> str:
    before = snapshot()
    response = client.post(url, data or {"other_incident": "keep"}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Reswap"] == "none"
    assert snapshot() == before
    return event(response, "actionRefused")["message"]


def test_the_alert_cap(client, responder, incident, shared, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 1
    client.force_login(responder)
    message = post_refused(client, add_url(incident, shared))
    assert message == (
        f"Incident #{incident.number} has 1 alerts; adding 1 more would pass the limit of 1 "
        "alerts per incident. Nothing was changed."
    )


def test_a_provider_managed_alert(client, responder, workspace):
    defender = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    defender_alert_in(defender)
    elsewhere = IncidentFactory(workspace=workspace)
    alert = defender_alert_in(elsewhere)
    client.force_login(responder)
    message = post_refused(client, add_url(defender, alert))
    assert message.startswith(f"{DEFENDER} alerts cannot be added to {DEFENDER} incidents here")


def test_an_unknown_alert(client, responder, incident):
    client.force_login(responder)
    missing = uuid.uuid4()
    message = post_refused(client, f"/incidents/{incident.number}/alerts/{missing}/add/")
    assert message == (
        f"Alert {missing} does not exist in this workspace (any more). "
        "Reload the page; nothing was changed."
    )


def test_an_alert_of_another_workspace(client, responder, incident, other_workspace):
    foreign = alert_in(IncidentFactory(workspace=other_workspace))
    client.force_login(responder)
    message = post_refused(client, add_url(incident, foreign))
    assert "does not exist in this workspace" in message
    assert client.get(add_url(incident, foreign), headers=HTMX)["HX-Reswap"] == "none"


def test_a_stale_page_where_the_alert_was_already_added(client, responder, incident, shared):
    membership.add_alerts(incident, [shared], actor=INGESTION)
    client.force_login(responder)
    message = post_refused(client, add_url(incident, shared))
    assert message == f"Alert “Shared alert” is already in incident #{incident.number}."


@pytest.mark.parametrize("answer", [{}, {"other_incident": "burn"}])
def test_an_answer_that_is_not_keep_or_close(client, responder, incident, shared, answer):
    client.force_login(responder)
    before = snapshot()
    response = client.post(add_url(incident, shared), answer, headers=HTMX)
    assert response.status_code == 200
    assert snapshot() == before
    assert "Choose “Keep other incident” or “Close other incident”." in response.content.decode()


def test_without_javascript_a_refusal_goes_back_with_the_message(
    client, responder, incident, shared, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 1
    client.force_login(responder)
    response = client.post(add_url(incident, shared), {"other_incident": "keep"}, follow=True)
    assert response.redirect_chain == [(f"/incidents/{incident.number}/", 302)]
    assert "would pass the limit of 1 alerts per incident" in response.content.decode()


# --- who may ------------------------------------------------------------------------------


def test_it_needs_login(client, incident, shared):
    before = snapshot()
    for response in (client.get(add_url(incident, shared)), client.post(add_url(incident, shared))):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert snapshot() == before


def test_a_reader_can_neither_open_nor_post_it(client, reader, incident, shared):
    client.force_login(reader)
    before = snapshot()
    assert client.get(add_url(incident, shared)).status_code == 403
    assert client.post(add_url(incident, shared), {"other_incident": "keep"}).status_code == 403
    assert snapshot() == before


def test_an_outsider_does_not_find_the_incident(client, outsider, incident, shared):
    client.force_login(outsider)
    before = snapshot()
    assert client.post(add_url(incident, shared), {"other_incident": "keep"}).status_code == 404
    assert snapshot() == before


def test_it_rejects_other_methods(client, responder, incident, shared):
    client.force_login(responder)
    assert client.put(add_url(incident, shared)).status_code == 405
    assert client.delete(add_url(incident, shared)).status_code == 405
    assert alert_ids_of(incident) == {incident.relations.get().alert_id}
