"""The incident's Entities tab and an entity's side panel with its Timeline card."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from incidents import actions
from incidents.activity import Actor
from incidents.models import EntityKind
from incidents.templatetags.kinds import kind_icon
from tests.factories import EntityFactory, IncidentFactory, alert_in, incident_with_alerts
from tests.worlds import incident_with_entities


def full(incident) -> int:
    """One more query for a full incident: the incident that continues it."""
    return int(incident.alert_count >= settings.TRIAGE_MAX_ALERTS_PER_INCIDENT)


def entities_url(incident, kind: str = "") -> str:
    return f"/incidents/{incident.number}/entities/" + (f"?kind={kind}" if kind else "")


def panel_url(incident, entity) -> str:
    return f"/incidents/{incident.number}/entities/{entity.pk}/"


@pytest.fixture
def incident(workspace):
    return IncidentFactory(workspace=workspace, title="Lateral movement")


@pytest.fixture
def host(workspace):
    return EntityFactory(workspace=workspace, identifier="ws-fin-1122", display_name="WS-FIN-1122")


@pytest.fixture
def account(workspace):
    return EntityFactory(workspace=workspace, kind=EntityKind.ACCOUNT, identifier="alice")


def test_the_tab_lists_the_union_of_the_alerts_entities_with_their_counts(
    client, reader, workspace, incident, host, account
):
    first = alert_in(incident)
    second = alert_in(incident)
    first.entities.add(host, account)
    second.entities.add(host)
    # The host is in two other open incidents (one through two alerts) and a closed one.
    open_other = IncidentFactory(workspace=workspace)
    for _ in range(2):
        alert_in(open_other).entities.add(host)
    alert_in(IncidentFactory(workspace=workspace)).entities.add(host)
    closed = IncidentFactory(workspace=workspace)
    alert_in(closed).entities.add(host)
    actions.close_incident(closed, classification="Undetermined", actor=Actor.for_user(reader))
    # An entity only other incidents' alerts name is not this incident's.
    alert_in(open_other).entities.add(EntityFactory(workspace=workspace, identifier="elsewhere"))
    client.force_login(reader)

    response = client.get(entities_url(incident))

    groups = {g.kind: g.entities for g in response.context["groups"]}
    assert set(groups) == {"host", "account"}
    assert [(e.identifier, e.incident_alerts, e.other_open_incidents) for e in groups["host"]] == [
        ("ws-fin-1122", 2, 2)
    ]
    assert [(e.incident_alerts, e.other_open_incidents) for e in groups["account"]] == [(1, 0)]
    html = response.content.decode()
    assert "WS-FIN-1122" in html
    assert "elsewhere" not in html
    assert f'href="{panel_url(incident, host)}"' in html


def test_the_kind_filter_shows_one_kind_and_keeps_every_kinds_count(
    client, reader, incident, host, account
):
    alert_in(incident).entities.add(host, account)
    client.force_login(reader)
    response = client.get(entities_url(incident, "account"))
    assert [g.kind for g in response.context["groups"]] == ["account"]
    assert [g.kind for g in response.context["kinds"]] == ["account", "host"]
    html = response.content.decode()
    assert 'id="kind-account"' in html
    assert "WS-FIN-1122" not in html
    assert f'href="{panel_url(incident, account)}?kind=account"' in html


def test_an_unknown_kind_shows_every_kind(client, reader, incident, host, account):
    alert_in(incident).entities.add(host, account)
    client.force_login(reader)
    response = client.get(entities_url(incident, "spaceship"))
    assert response.context["kind"] == ""
    assert len(response.context["groups"]) == 2


def test_an_incident_whose_alerts_name_no_entities_says_so(client, reader, incident):
    alert_in(incident)
    client.force_login(reader)
    assert b"name no entities" in client.get(entities_url(incident)).content


# --- the side panel -----------------------------------------------------------------------


def test_the_side_panel_shows_the_entitys_kind_identifier_and_properties(
    client, reader, workspace, incident
):
    entity = EntityFactory(
        workspace=workspace,
        identifier="ws-fin-1122.corp.contoso.com",
        display_name="WS-FIN-1122",
        properties={"HostName": "WS-FIN-1122", "OSFamily": "Windows", "Ips": ["10.0.0.1"]},
    )
    alert_in(incident).entities.add(entity)
    client.force_login(reader)
    html = client.get(panel_url(incident, entity)).content.decode()
    assert '<h2 id="entity-panel-title">WS-FIN-1122</h2>' in html
    assert "<dt>Kind</dt><dd>Host</dd>" in html
    assert "<code>ws-fin-1122.corp.contoso.com</code>" in html
    assert "<dt>OSFamily</dt><dd>Windows</dd>" in html
    assert "<dt>Ips</dt><dd>[&quot;10.0.0.1&quot;]</dd>" in html
    assert '<h3 id="entity-timeline-heading">Timeline</h3>' in html
    # The list stays beside the panel, with the entity marked as the current one.
    assert f'id="entity-{entity.pk}" href="{panel_url(incident, entity)}"' in html
    assert 'aria-current="true" title="ws-fin-1122.corp.contoso.com"' in html


def test_the_panel_names_the_entities_an_entity_refers_to_by_identifier(
    client, reader, workspace, incident
):
    # Ingestion keeps a process's host and image file as references to those entities.
    process = EntityFactory(
        workspace=workspace,
        kind=EntityKind.PROCESS,
        identifier="process:fqdn:ws-1.contoso.com|4242|2026-11-23t08:00:00",
        properties={
            "ProcessId": "4242",
            "Host": {"Type": "host", "identifier": "fqdn:ws-1.contoso.com"},
            "FileHashes": [
                {"Type": "filehash", "identifier": "hash:sha1:aa"},
                {"Type": "filehash", "identifier": "hash:md5:bb"},
            ],
        },
    )
    alert_in(incident).entities.add(process)
    client.force_login(reader)

    html = client.get(panel_url(incident, process)).content.decode()

    assert "<dt>Host</dt><dd>fqdn:ws-1.contoso.com</dd>" in html
    assert "<dt>FileHashes</dt><dd>hash:sha1:aa, hash:md5:bb</dd>" in html


def test_the_timeline_lists_every_alert_of_the_entity_newest_first(
    client, responder, workspace, incident, host
):
    now = timezone.now()
    old = alert_in(incident, display_name="Old, in here", time_generated=now - dt.timedelta(days=2))
    other = IncidentFactory(workspace=workspace)
    outside = alert_in(other, display_name="Outside", time_generated=now - dt.timedelta(days=1))
    new = alert_in(incident, display_name="New, in here", time_generated=now)
    alert_in(incident, display_name="Not about the host")
    for alert in (old, outside, new):
        alert.entities.add(host)
    client.force_login(responder)

    response = client.get(panel_url(incident, host))

    rows = response.context["timeline"].rows
    assert [(a.display_name, a.in_incident) for a in rows] == [
        ("New, in here", True),
        ("Outside", False),
        ("Old, in here", True),
    ]
    html = response.content.decode()
    assert html.count('class="tl-item sev-medium in-incident"') == 2
    assert html.count('class="tl-item sev-medium outside"') == 1
    # Only the outside alert can be added, and it says which incident it is in.
    assert html.count('aria-label="Add alert to incident"') == 1
    assert f'href="/incidents/{incident.number}/alerts/{outside.system_alert_id}/add/?next=' in html
    assert f'<a href="/incidents/{other.number}/"' in html


def test_a_reader_sees_the_timeline_without_add_buttons(client, reader, workspace, incident, host):
    alert_in(incident).entities.add(host)
    alert_in(IncidentFactory(workspace=workspace)).entities.add(host)
    client.force_login(reader)
    html = client.get(panel_url(incident, host)).content.decode()
    assert 'class="tl-item sev-medium outside"' in html
    assert "Add alert to incident" not in html


def test_the_timeline_shows_fifty_alerts_and_more_on_demand(client, reader, workspace, host):
    incident = incident_with_alerts(60, workspace=workspace)
    host.alerts.add(*incident.relations.values_list("alert_id", flat=True))
    client.force_login(reader)

    first = client.get(panel_url(incident, host))
    page = first.context["timeline"]
    assert len(page.rows) == 50
    assert "Show more alerts" in first.content.decode()

    more = client.get(
        panel_url(incident, host), {"cursor": page.next_cursor}, headers={"HX-Request": "true"}
    )
    html = more.content.decode()
    assert html.lstrip().startswith('<li class="tl-item')
    assert html.count('<li class="tl-item') == 10
    assert "Show more alerts" not in html
    assert "autofocus" in html  # The first new alert takes the focus from "Show more".


def test_htmx_selecting_an_entity_gets_the_incident_with_the_panel(client, reader, incident, host):
    alert_in(incident).entities.add(host)
    client.force_login(reader)
    html = client.get(panel_url(incident, host), headers={"HX-Request": "true"}).content.decode()
    assert html.lstrip().startswith('<div id="incident"')
    # The page refreshes from this address, so the panel stays open after a change.
    assert f'hx-get="{panel_url(incident, host)}"' in html
    assert 'id="entity-panel"' in html


def test_an_entity_of_another_workspace_is_not_found(client, reader, incident, other_workspace):
    stranger = EntityFactory(workspace=other_workspace)
    client.force_login(reader)
    assert client.get(panel_url(incident, stranger)).status_code == 404


def test_the_panel_needs_login(client, incident, host):
    response = client.get(panel_url(incident, host))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_cannot_see_the_panel(client, outsider, incident, host):
    client.force_login(outsider)
    assert client.get(panel_url(incident, host)).status_code == 404


def test_the_panel_only_answers_get(client, reader, incident, host):
    client.force_login(reader)
    assert client.post(panel_url(incident, host)).status_code == 405
    assert client.post(entities_url(incident)).status_code == 405


# --- queries ------------------------------------------------------------------------------

# Session, user, memberships; the incident; its entities; their other open incidents.
ENTITIES_TAB_QUERIES = 6
# The tab's, then the entity; its page of alerts; their incidents; their main entities; the
# correlation card: the entity's exclusion, then the guard's (exclusions, recent alerts,
# their share).
PANEL_QUERIES = ENTITIES_TAB_QUERIES + 4 + 4


@pytest.mark.parametrize(("alerts", "entities"), [(3, 5), (150, 400)])
def test_the_entities_tabs_query_count_does_not_grow(
    client, responder, workspace, alerts, entities, django_assert_max_num_queries
):
    incident, _ = incident_with_entities(workspace, alerts=alerts, entities=entities, outside=3)
    client.force_login(responder)
    with django_assert_max_num_queries(ENTITIES_TAB_QUERIES + full(incident)):
        response = client.get(entities_url(incident))
    assert response.context["entity_count"] == entities


@pytest.mark.parametrize(("alerts", "entities"), [(3, 5), (150, 400)])
def test_the_side_panels_query_count_does_not_grow(
    client, responder, workspace, alerts, entities, django_assert_max_num_queries
):
    incident, made = incident_with_entities(workspace, alerts=alerts, entities=entities, outside=3)
    client.force_login(responder)
    with django_assert_max_num_queries(PANEL_QUERIES + full(incident)):
        response = client.get(panel_url(incident, made[0]))
    rows = response.context["timeline"].rows
    assert len(rows) == min(alerts + 3, 50)
    assert response.content.decode().count('aria-label="Add alert to incident"') == sum(
        not a.in_incident for a in rows
    )


def test_each_kind_has_its_icon(client, reader, incident, host, account):
    alert_in(incident).entities.add(host, account)
    client.force_login(reader)
    html = client.get(panel_url(incident, host)).content.decode()
    assert 'src="/static/img/kinds/host.svg"' in html
    assert 'src="/static/img/kinds/account.svg"' in html


@pytest.mark.parametrize(
    ("kind", "icon"),
    [("host", "host"), ("registryvalue", "registrykey"), ("iotdevice", "host"), ("", "other")],
)
def test_kinds_without_an_icon_of_their_own_borrow_one(kind, icon):
    assert kind_icon(kind) == f"/static/img/kinds/{icon}.svg"
