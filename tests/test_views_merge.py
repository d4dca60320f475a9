""" "Merge incidents" at /incidents/merge/ and "Undo" at /changes/<uuid>/undo/."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import ActivityKind, Alert, IncidentStatus, MembershipChange
from tests.factories import (
    IncidentFactory,
    activity_of,
    alert_ids_of,
    incident_with_alerts,
    snapshot,
)

URL = "/incidents/merge/"
HTMX = {"HX-Request": "true"}


def undo_url(change: MembershipChange) -> str:
    return reverse("incidents:undo_change", args=[change.uuid])


@pytest.fixture
def older(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Password spray")


@pytest.fixture
def newer(workspace):
    return incident_with_alerts(3, workspace=workspace, title="Password spray, again")


# --- the queue ---------------------------------------------------------------------


def test_the_queue_offers_merge_with_a_checkbox_per_incident(client, responder, older):
    client.force_login(responder)
    html = client.get("/incidents/").content.decode()
    assert ">Merge incidents</button>" in html
    assert f'aria-label="Select incident #{older.number}"' in html
    assert 'form="incident-selection"' in html


def test_readers_see_no_merge_controls(client, reader, older):
    client.force_login(reader)
    html = client.get("/incidents/").content.decode()
    page = client.get(older.get_absolute_url()).content.decode()
    assert "Merge incidents" not in html
    assert "data-select-incident" not in html
    assert "Merge into another incident" not in page


def test_a_merged_incident_shows_merged_in_the_queue(client, responder, older, newer, actor):
    membership.merge_incidents([newer], into=older, actor=actor, reason="Same spray")
    client.force_login(responder)
    html = client.get("/incidents/", {"status": "Closed"}).content.decode()
    assert "· Merged</span>" in html


# --- the dialog --------------------------------------------------------------------


def test_the_dialog_lists_the_selection_and_defaults_to_the_oldest(client, responder, older, newer):
    client.force_login(responder)
    response = client.get(URL, {"incident": [newer.number, older.number]}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="flyout-title">Merge incidents</h2>' in html
    assert f'value="{older.number}" checked' in html
    assert "3 alerts" in html
    assert "2 alerts" in html
    preview = response.context["preview"]
    assert (preview.target, preview.sources) == (older, [newer])
    assert (preview.joining, preview.total) == (3, 5)
    assert ">Reason</label>" in html
    assert ">Save</button>" in html


def test_choosing_another_target_refreshes_the_preview(client, responder, older, newer):
    client.force_login(responder)
    response = client.get(
        URL, {"incident": [older.number, newer.number], "into": newer.number}, headers=HTMX
    )
    preview = response.context["preview"]
    assert (preview.target, preview.sources, preview.joining) == (newer, [older], 2)


def test_a_refused_merge_disables_save_and_says_why(client, responder, workspace, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 4
    a = incident_with_alerts(3, workspace=workspace)
    b = incident_with_alerts(3, workspace=workspace)
    client.force_login(responder)
    html = client.get(URL, {"incident": [a.number, b.number]}, headers=HTMX).content.decode()
    assert "would hold 6 alerts, more than the limit of 4" in html
    assert 'disabled aria-describedby="merge-refusal"' in html


def test_the_incident_header_offers_merge_into_another_incident(client, responder, older):
    client.force_login(responder)
    html = client.get(older.get_absolute_url()).content.decode()
    assert "Merge into another incident…" in html
    dialog = client.get(URL, {"incident": older.number}, headers=HTMX).content.decode()
    assert "Incident name or ID" in dialog
    assert f"exclude={older.number}" in dialog


def test_the_typeahead_choice_names_the_target(client, responder, older, newer):
    client.force_login(responder)
    response = client.get(
        URL, {"incident": newer.number, "into": f"#{older.number} {older.title}"}, headers=HTMX
    )
    assert response.context["target"] == older
    assert response.context["preview"].joining == 3


def test_an_incident_cannot_be_merged_into_itself_from_its_header(client, responder, older):
    client.force_login(responder)
    response = client.get(URL, {"incident": older.number, "into": older.number}, headers=HTMX)
    assert "Choose another incident than this one." in response.content.decode()
    assert response.context["preview"] is None


# --- saving ------------------------------------------------------------------------


def test_saving_merges_and_answers_with_a_notification_that_offers_undo(
    client, responder, older, newer
):
    client.force_login(responder)
    response = client.post(
        URL,
        {"incident": [older.number, newer.number], "into": older.number, "reason": "Same spray"},
        headers=HTMX,
    )
    assert response.status_code == 204
    detail = json.loads(response["HX-Trigger"])["incidentsMerged"]
    change = MembershipChange.objects.get()
    assert detail == {
        "message": f"Merged #{newer.number} into incident #{older.number} “Password spray”: "
        "3 alerts joined it.",
        "url": older.get_absolute_url(),
        "number": older.number,
        "undo": undo_url(change),
    }
    newer.refresh_from_db()
    assert newer.merged_into == older
    assert newer.status == IncidentStatus.CLOSED
    assert len(alert_ids_of(older)) == 5


def test_a_merge_needs_a_reason(client, responder, older, newer):
    client.force_login(responder)
    before = snapshot()
    response = client.post(
        URL, {"incident": [older.number, newer.number], "reason": "  "}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Say why these incidents belong together." in response.content.decode()
    assert snapshot() == before


def test_saving_twice_merges_once(client, responder, older, newer):
    client.force_login(responder)
    data = {"incident": [older.number, newer.number], "into": older.number, "reason": "Same"}
    client.post(URL, data, headers=HTMX)
    after_first = snapshot()
    response = client.post(URL, data, headers=HTMX)
    assert "was already merged into" in response.content.decode()
    assert snapshot() == after_first


def test_a_reader_cannot_merge(client, reader, older, newer):
    client.force_login(reader)
    before = snapshot()
    response = client.post(
        URL, {"incident": [older.number, newer.number], "reason": "Same"}, headers=HTMX
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_incidents_of_another_workspace_are_not_found(client, responder, older, other_workspace):
    foreign = incident_with_alerts(1, workspace=other_workspace)
    client.force_login(responder)
    before = snapshot()
    response = client.post(
        URL, {"incident": [older.number, foreign.number + 1000], "reason": "Same"}, headers=HTMX
    )
    assert "no longer exist or are not in this workspace" in response.content.decode()
    assert snapshot() == before


def test_without_javascript_saving_redirects_with_a_message(client, responder, older, newer):
    client.force_login(responder)
    response = client.post(
        URL,
        {
            "incident": [older.number, newer.number],
            "reason": "Same",
            "next": "/incidents/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/incidents/"


def test_the_merged_incidents_page_has_a_banner_to_the_target(
    client, responder, older, newer, actor
):
    membership.merge_incidents([newer], into=older, actor=actor, reason="Same spray")
    client.force_login(responder)
    html = client.get(newer.get_absolute_url()).content.decode()
    assert f'Merged into <a href="{older.get_absolute_url()}">#{older.number}' in html
    assert "Merge into another incident" not in html


# --- undo --------------------------------------------------------------------------


def test_undo_restores_a_move_and_says_so(client, responder, workspace, older, actor):
    other = IncidentFactory(workspace=workspace)
    alerts = list(Alert.objects.filter(relations__incident=older))
    result = membership.move_alerts(alerts, destination=other, source=older, actor=actor)
    client.force_login(responder)

    response = client.post(undo_url(result.change), headers=HTMX)

    assert response.status_code == 204
    detail = json.loads(response["HX-Trigger"])["changeUndone"]
    assert detail["message"].startswith("Undone: 2 alerts linked to #")
    assert alert_ids_of(older) == {a.pk for a in alerts}
    assert alert_ids_of(other) == set()


def test_undo_twice_is_refused_the_second_time_and_changes_nothing(
    client, responder, older, newer, actor
):
    result = membership.merge_incidents([newer], into=older, actor=actor, reason="Same")
    client.force_login(responder)
    client.post(undo_url(result.change), headers=HTMX)
    before = snapshot()

    response = client.post(undo_url(result.change), headers=HTMX)

    refused = json.loads(response["HX-Trigger"])["actionRefused"]
    assert "already undone" in refused["message"]
    assert snapshot() == before


def test_undo_after_a_conflicting_change_is_refused_with_the_reason(
    client, responder, workspace, older, actor
):
    elsewhere = IncidentFactory(workspace=workspace)
    other = IncidentFactory(workspace=workspace)
    alert = Alert.objects.filter(relations__incident=older).first()
    result = membership.move_alerts([alert], destination=other, source=older, actor=actor)
    membership.add_alerts(elsewhere, [alert], actor=actor)
    client.force_login(responder)
    before = snapshot()

    response = client.post(undo_url(result.change), headers=HTMX)

    message = json.loads(response["HX-Trigger"])["actionRefused"]["message"]
    assert f"has since been added to #{elsewhere.number}" in message
    assert snapshot() == before


def test_a_reader_cannot_undo(client, reader, older, newer, actor):
    result = membership.merge_incidents([newer], into=older, actor=actor, reason="Same")
    client.force_login(reader)
    assert client.post(undo_url(result.change), headers=HTMX).status_code == 403
    assert MembershipChange.objects.get().undone is None


def test_a_change_of_another_workspace_is_not_found(client, responder, other_workspace):
    a = incident_with_alerts(1, workspace=other_workspace)
    b = incident_with_alerts(1, workspace=other_workspace)
    result = membership.merge_incidents([b], into=a, actor=Actor.system("someone"), reason="Same")
    client.force_login(responder)
    assert client.post(undo_url(result.change), headers=HTMX).status_code == 404


def test_undo_is_a_post(client, responder, older, newer, actor):
    result = membership.merge_incidents([newer], into=older, actor=actor, reason="Same")
    client.force_login(responder)
    assert client.get(undo_url(result.change)).status_code == 405


def test_the_activity_tab_offers_undo_beside_the_latest_undoable_change(
    client, responder, older, newer, actor
):
    result = membership.merge_incidents([newer], into=older, actor=actor, reason="Same")
    client.force_login(responder)
    response = client.get(f"{older.get_absolute_url()}activity/")
    html = response.content.decode()
    assert response.context["undoable"] == result.change
    (merged_in,) = activity_of(older, ActivityKind.MERGED_IN)
    assert response.context["undo_entry_id"] == merged_in.pk
    assert f'action="{undo_url(result.change)}"' in html
    assert ">Undo</button>" in html


def test_the_activity_tab_offers_no_undo_once_the_window_has_passed(
    client, responder, older, newer, actor, settings
):
    membership.merge_incidents([newer], into=older, actor=actor, reason="Same")
    MembershipChange.objects.update(
        created=MembershipChange.objects.get().created - timedelta(minutes=16)
    )
    client.force_login(responder)
    html = client.get(f"{older.get_absolute_url()}activity/").content.decode()
    assert ">Undo</button>" not in html


def test_a_comment_after_a_change_does_not_stop_its_undo(client, responder, older, newer, actor):
    result = membership.merge_incidents([newer], into=older, actor=actor, reason="Same")
    actions.add_comment(older, "Looked at it", actor=actor)
    client.force_login(responder)
    response = client.post(undo_url(result.change), headers=HTMX)
    assert "changeUndone" in json.loads(response["HX-Trigger"])
