""" "Link alerts to another incident" and its typeahead: a closed target says so and can be
reopened; each incident the move would empty gets its own Keep / Close choice."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.actions import close_incident
from incidents.activity import Actor
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    Classification,
    Incident,
    IncidentStatus,
)
from tests.factories import IncidentFactory, incident_with_alerts

URL = "/alerts/link/"
SEARCH_URL = "/incidents/search/"


def ids(*alerts: Alert) -> list[str]:
    return [str(a.system_alert_id) for a in alerts]


def alert_of(incident: Incident) -> Alert:
    return Alert.objects.filter(relations__incident=incident).first()


@pytest.fixture
def source(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Source")


@pytest.fixture
def closed_target(workspace, responder):
    incident = incident_with_alerts(1, workspace=workspace, title="Old phishing")
    close_incident(
        incident, classification=Classification.UNDETERMINED, actor=Actor.for_user(responder)
    )
    incident.refresh_from_db()
    return incident


# --- item 2: a closed target ---------------------------------------------------------


def test_the_typeahead_lists_open_incidents_first_then_closed_each_by_recent_activity(
    client, reader, workspace
):
    now = timezone.now()

    def made(title, hours_ago, status=IncidentStatus.NEW):
        when = now - dt.timedelta(hours=hours_ago)
        return IncidentFactory(
            workspace=workspace, title=title, status=status, last_activity_time=when
        )

    recent_closed = made("Phishing closed recently", 0, IncidentStatus.CLOSED)
    old_open = made("Phishing open long ago", 5)
    old_closed = made("Phishing closed long ago", 9, IncidentStatus.CLOSED)
    recent_open = made("Phishing active now", 1, IncidentStatus.ACTIVE)
    client.force_login(reader)

    response = client.get(SEARCH_URL, {"incident": "phishing"})

    assert [i.pk for i in response.context["incidents"]] == [
        recent_open.pk,
        old_open.pk,
        recent_closed.pk,
        old_closed.pk,
    ]
    html = response.content.decode()
    assert '<span class="status status-closed">Closed</span>' in html
    assert '<span class="status status-active">Active</span>' in html


def test_the_panel_says_a_closed_target_is_closed_and_offers_to_reopen_it(
    client, responder, source, closed_target
):
    client.force_login(responder)
    html = client.get(
        URL,
        {
            "alert": ids(alert_of(source)),
            "source": source.number,
            "target": "existing",
            "incident": str(closed_target.number),
        },
        headers={"HX-Request": "true"},
    ).content.decode()

    assert f"#{closed_target.number} is closed" in html
    assert 'name="reopen" value="on" checked' in html
    assert "Reopen it" in html


def test_saving_into_a_closed_target_reopens_it_by_default_and_logs_it(
    client, responder, source, closed_target
):
    client.force_login(responder)
    response = client.post(
        URL,
        {
            "alert": ids(alert_of(source)),
            "source": source.number,
            "target": "existing",
            "incident": str(closed_target.number),
            "reopen_shown": "1",
            "reopen": "on",
        },
    )

    assert response.status_code == 302
    closed_target.refresh_from_db()
    assert closed_target.status == IncidentStatus.ACTIVE
    assert closed_target.alert_count == 2
    assert ActivityEntry.objects.filter(
        incident=closed_target, kind=ActivityKind.REOPENED, actor=responder
    ).exists()


def test_saving_into_a_closed_target_with_reopen_unticked_leaves_it_closed(
    client, responder, source, closed_target
):
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(alert_of(source)),
            "source": source.number,
            "target": "existing",
            "incident": str(closed_target.number),
            "reopen_shown": "1",
        },
    )

    closed_target.refresh_from_db()
    assert closed_target.status == IncidentStatus.CLOSED
    assert closed_target.alert_count == 2
    assert not ActivityEntry.objects.filter(
        incident=closed_target, kind=ActivityKind.REOPENED
    ).exists()


# --- item 3: each emptied incident, its own choice ------------------------------------


@pytest.fixture
def lonely(workspace):
    return [incident_with_alerts(1, workspace=workspace, title=f"Lonely {i}") for i in (1, 2)]


@pytest.fixture
def target(workspace):
    return incident_with_alerts(1, workspace=workspace, title="Target")


def test_the_panel_lists_each_incident_it_would_empty_with_close_chosen(client, responder, lonely):
    client.force_login(responder)
    html = client.get(URL, {"alert": ids(*map(alert_of, lonely))}).content.decode()

    for incident in lonely:
        assert f'data-emptied-incident="{incident.number}"' in html
        assert f"#{incident.number} “{incident.title}”" in html
        assert f'name="emptied_{incident.number}" value="close"' in html
    assert html.count("checked") == 2


def test_saving_keeps_or_closes_each_emptied_incident_as_chosen(client, responder, lonely, target):
    kept, closing = lonely
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(*map(alert_of, lonely)),
            "target": "existing",
            "incident": str(target.number),
            f"emptied_{kept.number}": "keep",
            f"emptied_{closing.number}": "close",
        },
    )

    kept.refresh_from_db()
    closing.refresh_from_db()
    assert (kept.status, kept.alert_count) == (IncidentStatus.NEW, 0)
    assert closing.status == IncidentStatus.CLOSED
    assert closing.classification == Classification.UNDETERMINED
    assert closing.classification_comment == (
        f"Alert was added to another incident #{target.number}."
    )


def test_an_emptied_incident_without_a_choice_is_closed(client, responder, lonely, target):
    client.force_login(responder)
    client.post(
        URL,
        {
            "alert": ids(alert_of(lonely[0])),
            "source": lonely[0].number,
            "target": "existing",
            "incident": str(target.number),
        },
    )

    lonely[0].refresh_from_db()
    assert lonely[0].status == IncidentStatus.CLOSED


def test_an_unknown_choice_for_one_emptied_incident_is_refused(client, responder, lonely, target):
    client.force_login(responder)
    response = client.post(
        URL,
        {
            "alert": ids(alert_of(lonely[0])),
            "source": lonely[0].number,
            "target": "existing",
            "incident": str(target.number),
            f"emptied_{lonely[0].number}": "burn",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "burn is not one of the available choices" in response.content.decode()
    lonely[0].refresh_from_db()
    assert lonely[0].alert_count == 1
