"""The incident's Overview tab: header actions, the incident timeline and its "More actions"."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from incidents import actions, membership
from incidents.activity import Actor
from incidents.models import Alert, Severity
from tests.factories import (
    INGESTION,
    IncidentFactory,
    alert_in,
    give_entities,
    incident_with_alerts,
)


def full(incident) -> int:
    """One more query for a full incident: the incident that continues it."""
    return int(incident.alert_count >= settings.TRIAGE_MAX_ALERTS_PER_INCIDENT)


def overview(incident) -> str:
    return f"/incidents/{incident.number}/"


def test_the_timeline_shows_the_incidents_alerts_newest_first_in_full_colour(
    client, reader, workspace
):
    incident = IncidentFactory(workspace=workspace)
    now = timezone.now()
    alert_in(incident, display_name="Older", time_generated=now - dt.timedelta(hours=2))
    alert_in(
        incident,
        display_name="Newer",
        severity=Severity.HIGH,
        product_name="Microsoft Defender for Endpoint",
        time_generated=now,
    )
    client.force_login(reader)
    response = client.get(overview(incident))
    assert [a.display_name for a in response.context["timeline"].rows] == ["Newer", "Older"]
    html = response.content.decode()
    assert '<h2 id="incident-timeline-heading" tabindex="-1">Incident timeline</h2>' in html
    assert '<li class="tl-item sev-high in-incident">' in html
    assert '<svg class="shield"' in html
    assert "Microsoft Defender for Endpoint" in html
    assert "outside" not in html


def test_each_alert_shows_its_hosts_accounts_and_ips(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident)
    give_entities([alert], host=1, account=1, ip=3, process=1)
    client.force_login(reader)
    html = client.get(overview(incident)).content.decode()
    timeline = html[html.index('id="incident-timeline-heading"') :]
    for kind in ("host", "account", "ip"):
        assert f'src="/static/img/kinds/{kind}.svg"' in timeline
    assert f"ip-{alert.pk}-1" in timeline
    assert f"ip-{alert.pk}-2" not in timeline
    assert "+1 more" in timeline
    assert f"process-{alert.pk}-0" not in timeline


def test_each_alert_names_the_other_incidents_it_belongs_to(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident)
    other = IncidentFactory(workspace=workspace)
    membership.add_alerts(other, [alert], actor=INGESTION)
    client.force_login(reader)
    html = client.get(overview(incident)).content.decode()
    assert f'Also in <a href="/incidents/{other.number}/"' in html


def test_a_responder_gets_a_more_actions_menu_with_remove_alert(client, responder, workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident, display_name="Impossible travel")
    client.force_login(responder)
    html = client.get(overview(incident)).content.decode()
    remove = f"/incidents/{incident.number}/alerts/{alert.system_alert_id}/remove/"
    assert 'aria-label="More actions for Impossible travel"' in html
    assert 'aria-haspopup="menu"' in html
    # Without JavaScript the button is a link to a confirmation page.
    assert f'href="{remove}"' in html
    # With it, the menu item opens the confirmation in the flyout.
    assert f'role="menuitem" tabindex="-1" hx-get="{remove}?focus=incident-timeline-heading' in html
    assert ">Remove alert</button>" in html


def test_a_responder_gets_the_triage_actions(client, responder, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    client.force_login(responder)
    html = client.get(overview(incident)).content.decode()
    for label in ("Assign to me", "Change owner", "Set status", "Close incident", "Add comment"):
        assert label in html
    assert "Reopen incident" not in html


def test_a_closed_incident_offers_reopen_instead_of_status_and_close(client, responder, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    actions.close_incident(
        incident,
        classification="FalsePositive",
        reason="InaccurateData",
        comment="Sensor clock was wrong",
        actor=Actor.for_user(responder),
    )
    client.force_login(responder)
    html = client.get(overview(incident)).content.decode()
    assert "Reopen incident" in html
    assert "Set status" not in html
    assert "Close incident" not in html
    assert "False Positive – inaccurate data" in html
    assert "Sensor clock was wrong" in html


def test_a_reader_gets_neither_actions_nor_menus(client, reader, workspace):
    incident = incident_with_alerts(2, workspace=workspace)
    client.force_login(reader)
    html = client.get(overview(incident)).content.decode()
    assert "More actions for" not in html
    assert "Incident actions" not in html
    assert "Remove alert" not in html


def test_the_newest_comments_are_shown(client, reader, responder, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    for text in ("first", "second", "third", "fourth"):
        actions.add_comment(incident, f"{text} note", actor=Actor.for_user(responder))
    client.force_login(reader)
    response = client.get(overview(incident))
    assert [c.comment for c in response.context["comments"]] == [
        "fourth note",
        "third note",
        "second note",
    ]


def test_an_empty_incident_says_so(client, reader, workspace):
    incident = IncidentFactory(workspace=workspace)
    client.force_login(reader)
    assert b"has no alerts." in client.get(overview(incident)).content


def test_htmx_tab_links_replace_the_incident_and_push_the_address(client, reader, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    client.force_login(reader)
    html = client.get(overview(incident)).content.decode()
    entities = f"/incidents/{incident.number}/entities/"
    assert (
        f'href="{entities}" hx-get="{entities}" hx-target="#incident" hx-swap="outerHTML" '
        'hx-push-url="true"'
    ) in html
    # The page refreshes itself after any change to the incident.
    assert (
        'hx-trigger="alertsLinked from:body, incidentChanged from:body, '
        'incidentsMerged from:body, changeUndone from:body"' in html
    )


def test_tabs_vary_on_htmx_and_history_restores_get_the_whole_page(client, reader, workspace):
    incident = incident_with_alerts(1, workspace=workspace)
    client.force_login(reader)
    fragment = client.get(overview(incident), headers={"HX-Request": "true"})
    assert "HX-Request" in fragment["Vary"]
    restored = client.get(
        overview(incident),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert restored.content.decode().startswith("<!doctype html>")


# Session, user, memberships; the incident; a page of its alerts; their incidents; their
# entities; what the summary reads of all its alerts; its entities by kind; the comments.
OVERVIEW_QUERIES = 10


@pytest.mark.parametrize("alerts", [3, 150])
def test_the_overviews_query_count_does_not_grow_with_alerts(
    client, responder, workspace, alerts, django_assert_max_num_queries
):
    incident = incident_with_alerts(alerts, workspace=workspace)
    give_entities(Alert.objects.all(), host=2, account=1, ip=1)
    actions.add_comment(incident, "Looking into it", actor=Actor.for_user(responder))
    client.force_login(responder)
    with django_assert_max_num_queries(OVERVIEW_QUERIES + full(incident)):
        response = client.get(overview(incident))
    html = response.content.decode()
    shown = min(alerts, 50)
    assert html.count("More actions for ") == shown
    assert html.count('class="entity-tag"') == shown * 4


def test_the_timeline_shows_fifty_alerts_and_more_on_demand(client, responder, workspace):
    incident = incident_with_alerts(60, workspace=workspace)
    alerts = Alert.objects.filter(relations__incident=incident)
    newest_first = list(
        alerts.order_by("-time_generated", "-id").values_list("display_name", flat=True)
    )
    client.force_login(responder)

    first = client.get(overview(incident))
    page = first.context["timeline"]
    assert [a.display_name for a in page.rows] == newest_first[:50]
    html = first.content.decode()
    assert "60 alerts, newest first; the" in html
    assert f'<a href="/incidents/{incident.number}/alerts/">Alerts tab</a> lists them all' in html
    more = f"/incidents/{incident.number}/?cursor={page.next_cursor}"
    assert f'hx-get="{more}" hx-target="closest li" hx-swap="outerHTML">Show more alerts' in html

    appended = client.get(more, headers={"HX-Request": "true"})
    assert "HX-Request" in appended["Vary"]
    html = appended.content.decode()
    assert html.lstrip().startswith('<li class="tl-item')
    assert html.count('<li class="tl-item') == 10
    assert [a.display_name for a in appended.context["timeline"].rows] == newest_first[50:]
    assert html.count("More actions for ") == 10  # The menus, as on the first page.
    assert "Show more alerts" not in html
    assert "autofocus" in html  # The first new alert takes the focus from "Show more".


def test_without_javascript_show_more_opens_the_overview_at_the_next_alerts(
    client, reader, workspace
):
    incident = incident_with_alerts(55, workspace=workspace)
    client.force_login(reader)
    cursor = client.get(overview(incident)).context["timeline"].next_cursor
    response = client.get(overview(incident), {"cursor": cursor})
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert len(response.context["timeline"].rows) == 5
    assert f'<a href="/incidents/{incident.number}/">Newest alerts</a>' in html
    assert "Show more alerts" not in html


def test_a_tampered_cursor_shows_the_newest_alerts(client, reader, workspace):
    incident = incident_with_alerts(3, workspace=workspace)
    client.force_login(reader)
    response = client.get(overview(incident), {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    assert len(response.context["timeline"].rows) == 3
    assert "Newest alerts" not in response.content.decode()


def test_the_summary_counts_every_alert_not_only_the_timelines_page(client, reader, workspace):
    incident = incident_with_alerts(55, workspace=workspace)
    alerts = Alert.objects.filter(relations__incident=incident)
    oldest = alerts.order_by("time_generated", "id").first()
    Alert.objects.filter(pk=oldest.pk).update(
        product_name="Only On The Oldest", tactics=["Exfiltration"]
    )
    client.force_login(reader)
    response = client.get(overview(incident))
    assert oldest not in response.context["timeline"].rows
    summary = response.context["summary"]
    assert "Only On The Oldest" in summary.products
    assert "Exfiltration" in [t.name for t in summary.tactics]
