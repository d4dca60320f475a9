""" "Link alerts to another incident": the flyout panel at /alerts/link/."""

import json

import pytest

from incidents import membership
from incidents.activity import Actor
from incidents.models import ActivityEntry, ActivityKind, Alert, Incident, IncidentStatus, Relation
from tests.factories import INGESTION, IncidentFactory, alert_in, incident_with_alerts

URL = "/alerts/link/"


def alerts_of(incident: Incident) -> set[int]:
    return set(Alert.objects.filter(relations__incident=incident).values_list("pk", flat=True))


def ids(*alerts: Alert) -> list[str]:
    return [str(a.system_alert_id) for a in alerts]


@pytest.fixture
def source(workspace):
    return incident_with_alerts(3, workspace=workspace, title="Source")


@pytest.fixture
def target(workspace):
    return incident_with_alerts(1, workspace=workspace, title="Phishing campaign")


@pytest.fixture
def picked(source) -> list[Alert]:
    return list(Alert.objects.filter(relations__incident=source).order_by("pk")[:2])


def snapshot() -> tuple:
    """Everything a failed request must leave as it was."""
    return (
        sorted(Relation.objects.values_list("incident_id", "alert_id")),
        ActivityEntry.objects.count(),
        Incident.objects.count(),
        sorted(Incident.objects.values_list("pk", "alert_count", "status")),
    )


# --- opening the panel -------------------------------------------------------------


def test_the_panel_is_titled_for_one_alert(client, responder, source, picked):
    client.force_login(responder)
    response = client.get(URL, {"alert": ids(picked[0]), "source": source.number})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="flyout-title">Link alert to another incident</h2>' in html
    for label in ("Link to an existing incident", "Create a new incident", "Incident name or ID"):
        assert label in html
    assert ">Comment<" in html
    assert ">Save<" in html


def test_the_panel_is_titled_for_several_alerts(client, responder, source, picked):
    client.force_login(responder)
    response = client.get(URL, {"alert": ids(*picked), "source": source.number})
    assert b'<h2 id="flyout-title">Link multiple alerts to another incident</h2>' in (
        response.content
    )


def test_htmx_gets_the_panel_alone(client, responder, source, picked):
    client.force_login(responder)
    response = client.get(
        URL, {"alert": ids(*picked), "source": source.number}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().lstrip().startswith('<form class="link-panel"')


def test_the_panel_asks_about_an_incident_it_would_empty(client, responder, workspace, target):
    lonely = incident_with_alerts(1, workspace=workspace, title="Lonely")
    alert = Alert.objects.get(relations__incident=lonely)
    client.force_login(responder)
    html = client.get(URL, {"alert": ids(alert), "source": lonely.number}).content.decode()
    assert "This incident will have no alerts left" in html
    assert f"#{lonely.number} “Lonely”" in html
    assert "Keep other incident" in html
    assert "Close other incident" in html


def test_the_panel_does_not_ask_when_the_incident_keeps_alerts(client, responder, source, picked):
    client.force_login(responder)
    html = client.get(URL, {"alert": ids(*picked), "source": source.number}).content.decode()
    assert "Keep other incident" not in html


def test_opening_the_panel_needs_login(client, source, picked):
    assert client.get(URL, {"alert": ids(*picked)}).status_code == 302


def test_a_reader_cannot_open_the_panel(client, reader, source, picked):
    client.force_login(reader)
    assert client.get(URL, {"alert": ids(*picked)}).status_code == 403


def test_an_empty_selection_is_explained(client, responder, workspace):
    client.force_login(responder)
    response = client.get(URL)
    assert b"Select at least one alert." in response.content


def test_it_rejects_other_methods(client, responder):
    client.force_login(responder)
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


# --- linking to an existing incident -----------------------------------------------


def test_it_links_alerts_to_an_existing_incident(client, responder, source, target, picked):
    client.force_login(responder)
    response = client.post(
        URL,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": f"#{target.number} Phishing campaign",
            "comment": "Same phishing campaign",
            "next": "/incidents/?severity=High",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/incidents/?severity=High"
    assert {a.pk for a in picked} <= alerts_of(target)
    assert alerts_of(source).isdisjoint(a.pk for a in picked)
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.alert_count, target.alert_count) == (1, 3)


def test_it_writes_both_activity_logs(client, responder, source, target, picked):
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": str(target.number),
            "comment": "Same campaign",
        },
    )
    moved_in = ActivityEntry.objects.filter(incident=target, kind=ActivityKind.ALERT_MOVED_IN)
    moved_out = ActivityEntry.objects.filter(incident=source, kind=ActivityKind.ALERT_MOVED_OUT)
    # One entry per incident and direction, not one per alert.
    entry, gone = moved_in.get(), moved_out.get()
    assert entry.actor == responder
    assert entry.comment == "Same campaign"
    assert entry.message.startswith(f"2 alerts moved in from #{source.number} by responder: ")
    assert gone.message.startswith(f"2 alerts moved out to #{target.number} by responder: ")


def test_htmx_success_is_an_empty_answer_with_an_event(client, responder, source, target, picked):
    client.force_login(responder)
    response = client.post(
        URL,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": f"#{target.number}",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.content == b""
    event = json.loads(response["HX-Trigger"])["alertsLinked"]
    assert event["url"] == f"/incidents/{target.number}/"
    assert event["number"] == target.number
    assert f"2 alerts were linked to incident #{target.number}" in event["message"]


def test_an_incident_is_found_by_its_title(client, responder, source, target, picked):
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": "phishing CAMPAIGN",
        },
    )
    assert {a.pk for a in picked} <= alerts_of(target)


def test_plain_success_goes_back_with_a_message(client, responder, source, target, picked):
    client.force_login(responder)
    response = client.post(
        URL,
        {
            "alert": ids(picked[0]),
            "source": source.number,
            "target": "existing",
            "incident": str(target.number),
            "next": "https://evil.example.com/",
        },
        follow=True,
    )
    assert response.redirect_chain[0][0] == f"/incidents/{target.number}/"
    html = response.content.decode()
    assert f"was linked to incident #{target.number}" in html
    assert f'<a href="/incidents/{target.number}/">Open incident #{target.number}</a>' in html


# --- creating a new incident -------------------------------------------------------


def test_it_creates_a_new_incident_named_after_the_alerts(client, responder, workspace):
    first = incident_with_alerts(0, workspace=workspace)
    alert = alert_in(first, display_name="Malware detected")
    other = incident_with_alerts(0, workspace=workspace)
    membership.add_alerts(other, [alert], actor=INGESTION)
    client.force_login(responder)
    response = client.post(URL, {"alert": ids(alert), "target": "new", "comment": "Separate case"})
    assert response.status_code == 302
    created = Incident.objects.latest("number")
    assert created.title == "Malware detected"
    # From the alerts queue or the alert page, the alert leaves every incident it was in.
    assert alerts_of(created) == {alert.pk}
    assert not alerts_of(first)
    assert not alerts_of(other)
    assert ActivityEntry.objects.filter(
        incident=created, kind=ActivityKind.ALERT_MOVED_IN, comment="Separate case"
    ).exists()


def test_closing_the_emptied_incident(client, responder, workspace, target):
    lonely = incident_with_alerts(1, workspace=workspace)
    alert = Alert.objects.get(relations__incident=lonely)
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(alert),
            "source": lonely.number,
            "target": "existing",
            "incident": str(target.number),
            "emptied": "close",
        },
    )
    lonely.refresh_from_db()
    assert lonely.status == IncidentStatus.CLOSED
    assert lonely.classification == "Undetermined"
    assert lonely.classification_comment == (
        f"Alert was added to another incident #{target.number}."
    )


def test_keeping_the_emptied_incident(client, responder, workspace, target):
    lonely = incident_with_alerts(1, workspace=workspace)
    alert = Alert.objects.get(relations__incident=lonely)
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(alert),
            "source": lonely.number,
            "target": "existing",
            "incident": str(target.number),
            "emptied": "keep",
        },
    )
    lonely.refresh_from_db()
    assert lonely.status == IncidentStatus.NEW
    assert lonely.alert_count == 0


# --- refusals: a clear message, and nothing changes -----------------------------------


def post_refused(client, data: dict) -> str:
    before = snapshot()
    response = client.post(URL, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert snapshot() == before
    return response.content.decode()


def test_no_option_chosen(client, responder, source, picked):
    client.force_login(responder)
    html = post_refused(client, {"alert": ids(*picked), "source": source.number})
    assert "every alert must belong to an incident" in html


def test_an_unknown_choice_for_the_emptied_incident(client, responder, source, picked):
    client.force_login(responder)
    html = post_refused(
        client,
        {"alert": ids(*picked), "source": source.number, "target": "new", "emptied": "burn"},
    )
    assert "Select a valid choice. burn is not one of the available choices." in html


def test_no_incident_typed(client, responder, source, picked):
    client.force_login(responder)
    html = post_refused(
        client, {"alert": ids(*picked), "source": source.number, "target": "existing"}
    )
    assert "Type an incident’s number or name" in html


def test_an_unknown_incident_number(client, responder, source, picked):
    client.force_login(responder)
    html = post_refused(
        client,
        {"alert": ids(*picked), "source": source.number, "target": "existing", "incident": "#999"},
    )
    assert "There is no incident #999 in this workspace." in html


def test_an_incident_of_another_workspace_is_unknown_here(client, responder, source, picked):
    elsewhere = incident_with_alerts(1, workspace=IncidentFactory().workspace)
    client.force_login(responder)
    html = post_refused(
        client,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": f"#{elsewhere.number + 100}",
        },
    )
    assert "in this workspace" in html


def test_a_title_that_matches_nothing_or_several(client, responder, workspace, source, picked):
    IncidentFactory(workspace=workspace, title="Phishing again")
    IncidentFactory(workspace=workspace, title="Phishing once more")
    client.force_login(responder)
    data = {"alert": ids(*picked), "source": source.number, "target": "existing"}
    assert "No incident is called “zebra”." in post_refused(client, {**data, "incident": "zebra"})
    assert "Several incidents match" in post_refused(client, {**data, "incident": "phishing"})


def test_the_source_itself_as_destination(client, responder, source, picked):
    client.force_login(responder)
    html = post_refused(
        client,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": str(source.number),
        },
    )
    assert "Choose another incident" in html


def test_an_empty_selection(client, responder, source, target):
    client.force_login(responder)
    html = post_refused(client, {"target": "existing", "incident": str(target.number)})
    assert "Select at least one alert." in html


def test_unknown_alert_ids(client, responder, source, target, picked):
    client.force_login(responder)
    html = post_refused(
        client,
        {
            "alert": [*ids(*picked), "not-a-uuid", "2f1b4a8e-0000-4000-8000-000000000000"],
            "source": source.number,
            "target": "existing",
            "incident": str(target.number),
        },
    )
    assert "2 of the selected alerts no longer exist or are not in this workspace" in html


def test_alerts_of_another_workspace_are_never_moved(client, outsider, workspace, source, picked):
    mine = incident_with_alerts(1, workspace=outsider.memberships.get().workspace)
    client.force_login(outsider)
    html = post_refused(
        client,
        {"alert": ids(*picked), "target": "existing", "incident": str(mine.number)},
    )
    assert "not in this workspace" in html


def test_a_source_of_another_workspace_is_not_found(client, outsider, source, picked):
    client.force_login(outsider)
    response = client.post(URL, {"alert": ids(*picked), "source": source.number, "target": "new"})
    assert response.status_code == 404


def test_an_alert_that_is_not_in_the_source(client, responder, workspace, source, target):
    stranger = alert_in(target, display_name="Stranger")
    client.force_login(responder)
    html = post_refused(
        client,
        {"alert": ids(stranger), "source": source.number, "target": "new"},
    )
    assert f"Alert “Stranger” is not in incident #{source.number}" in html


def test_the_alert_cap(client, responder, source, target, picked, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    client.force_login(responder)
    html = post_refused(
        client,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": str(target.number),
        },
    )
    assert "would pass the limit of 2 alerts per incident" in html


def test_provider_managed_alerts(client, responder, workspace):
    defender = IncidentFactory(workspace=workspace, provider_name="Microsoft Defender XDR")
    alert = alert_in(defender, provider_name="Microsoft Defender XDR")
    alert_in(defender, provider_name="Microsoft Defender XDR")
    client.force_login(responder)
    html = post_refused(client, {"alert": ids(alert), "source": defender.number, "target": "new"})
    assert "Microsoft Defender XDR alerts cannot be removed from Microsoft Defender XDR" in html


def test_a_reader_cannot_link(client, reader, source, target, picked):
    client.force_login(reader)
    before = snapshot()
    response = client.post(
        URL,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": str(target.number),
        },
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_linking_needs_login(client, source, picked):
    before = snapshot()
    assert client.post(URL, {"alert": ids(*picked), "target": "new"}).status_code == 302
    assert snapshot() == before


# --- the preview before Save -------------------------------------------------------


def test_naming_a_target_previews_what_the_move_would_do(client, responder, source, picked):
    target = incident_with_alerts(1, workspace=source.workspace, title="Elsewhere")
    membership.add_alerts(target, [picked[0]], actor=Actor.for_user(responder))
    client.force_login(responder)
    response = client.get(
        URL,
        {
            "alert": ids(*picked),
            "source": source.number,
            "target": "existing",
            "incident": f"#{target.number}",
        },
        headers={"HX-Request": "true"},
    )
    preview = response.context["preview"]
    assert preview.joining == [picked[1]]
    assert preview.already_there == [picked[0]]
    assert preview.refusal is None
    html = response.content.decode()
    assert "1 alert will join" in html
    assert "They stay once" not in html
    assert "It stays once" in html


def test_a_target_without_room_disables_save_with_the_reason(
    client, responder, source, picked, target, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    client.force_login(responder)
    before = snapshot()
    response = client.get(
        URL,
        {"alert": ids(*picked), "target": "existing", "incident": str(target.number)},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "would pass the limit of 2 alerts" in html
    assert 'disabled aria-describedby="link-refusal"' in html
    assert snapshot() == before


def test_opening_the_panel_previews_nothing(client, responder, source, picked):
    client.force_login(responder)
    response = client.get(URL, {"alert": ids(*picked), "source": source.number})
    assert response.context["preview"] is None
    assert "This field is required" not in response.content.decode()
