"""The investigation graph: its page and the JSON it is drawn from (seed 000, "Add alerts
using the investigation graph")."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from incidents import actions, graph, membership
from incidents.activity import Actor
from incidents.models import EntityKind, Incident, Role
from tests.factories import (
    INGESTION,
    AlertFactory,
    EntityFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
    defender_alert_in,
    incident_ids_of,
)
from tests.worlds import incident_with_entities

NOW = timezone.now()


def page_url(incident) -> str:
    return f"/incidents/{incident.number}/graph/"


def graph_url(incident) -> str:
    return f"/incidents/{incident.number}/graph.json"


def related_alerts_url(incident, entity) -> str:
    return f"/incidents/{incident.number}/graph/entities/{entity.pk}/related-alerts.json"


def related_incidents_url(incident, entity) -> str:
    return f"/incidents/{incident.number}/graph/entities/{entity.pk}/related-incidents.json"


@pytest.fixture
def incident(workspace):
    return IncidentFactory(workspace=workspace, title="Credential theft on WS-FIN-1122")


@pytest.fixture
def host(workspace):
    return EntityFactory(workspace=workspace, identifier="ws-fin-1122", display_name="WS-FIN-1122")


@pytest.fixture
def account(workspace):
    return EntityFactory(
        workspace=workspace,
        kind=EntityKind.ACCOUNT,
        identifier="bjenkins@contoso.com",
        properties={"Name": "bjenkins", "UPNSuffix": "contoso.com"},
    )


@pytest.fixture
def contributor(workspace):
    user = UserFactory(username="lead")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


def an_alert_with(incident, *entities, **fields):
    alert = alert_in(incident, **fields)
    alert.entities.add(*entities)
    return alert


def an_outside_alert(workspace, *entities, **fields):
    """An alert of the workspace in an incident of its own, naming `entities`."""
    return an_alert_with(IncidentFactory(workspace=workspace), *entities, **fields)


# --- the page --------------------------------------------------------------------------


def test_the_page_keeps_the_incident_header_and_tabs_around_the_graph(
    client, reader, incident, host
):
    an_alert_with(incident, host)
    client.force_login(reader)

    response = client.get(page_url(incident))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Credential theft on WS-FIN-1122" in html
    for tab in ("Overview", "Alerts", "Entities", "Activity"):
        assert f'id="tab-{tab.lower()}"' in html
    assert 'id="action-investigate"' in html
    assert 'aria-current="page"' in html
    assert f'data-graph-url="{graph_url(incident)}"' in html
    # Cytoscape.js finds its stylesheet by this id and adds no <style> (the CSP forbids one).
    assert 'id="__________cytoscape_stylesheet"' in html
    assert "vendor/cytoscape-3.34.4/cytoscape.min.js" in html
    assert "js/graph.js" in html
    assert "<style" not in html
    assert " style=" not in html


def test_investigate_opens_the_graph_from_the_incident_page_and_from_the_queue(
    client, reader, incident, host
):
    an_alert_with(incident, host)
    client.force_login(reader)

    detail = client.get(f"/incidents/{incident.number}/").content.decode()
    queue = client.get("/incidents/").content.decode()

    assert f'href="{page_url(incident)}">Investigate</a>' in detail
    described = f'aria-describedby="incident-title-{incident.number}"'
    assert f'<a href="{page_url(incident)}" {described}>Investigate</a>' in queue
    # Only the graph page loads the graph's scripts.
    assert "cytoscape.min.js" not in detail


def test_the_page_refreshes_as_the_other_tabs_do(client, reader, incident):
    client.force_login(reader)

    response = client.get(page_url(incident), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="incident"')
    assert 'id="graph"' in html
    assert "HX-Request" in response["Vary"]


# --- graph.json ------------------------------------------------------------------------


def test_the_graph_holds_the_incidents_alerts_their_entities_and_the_edges(
    client, responder, workspace, incident, host, account
):
    phish = an_alert_with(
        incident,
        account,
        display_name="Phishing link clicked",
        severity="Medium",
        product_name="Microsoft Defender for Office 365",
        tactics=["InitialAccess"],
        time_generated=NOW - dt.timedelta(hours=2),
    )
    mimikatz = an_alert_with(
        incident, account, host, display_name="Mimikatz", severity="High", time_generated=NOW
    )
    older = IncidentFactory(workspace=workspace, title="Older")
    membership.add_alerts(older, [mimikatz], actor=INGESTION)
    client.force_login(responder)

    data = client.get(graph_url(incident)).json()

    assert data["incident"] == {
        "number": incident.number,
        "title": "Credential theft on WS-FIN-1122",
        "status": "New",
        "alertCount": 2,
        "maxAlerts": settings.TRIAGE_MAX_ALERTS_PER_INCIDENT,
    }
    assert data["canAct"] is True
    alerts = {a["name"]: a for a in data["alerts"]}
    assert list(alerts) == ["Mimikatz", "Phishing link clicked"]  # newest first
    assert alerts["Phishing link clicked"] | {"why": "", "incidents": []} == {
        "id": str(phish.system_alert_id),
        "name": "Phishing link clicked",
        "severity": "Medium",
        "time": phish.time_generated.isoformat(),
        "product": "Microsoft Defender for Office 365",
        "provider": phish.provider_name,
        "tactics": ["InitialAccess"],
        "entities": [account.pk],
        "inIncident": True,
        "incidents": [],
        "why": "",
        "removeRefusal": "",
    }
    assert sorted(alerts["Mimikatz"]["entities"]) == sorted([account.pk, host.pk])
    assert alerts["Mimikatz"]["why"] == "Created with the incident"
    # Every incident the alert is in, this one included.
    assert [i["number"] for i in alerts["Mimikatz"]["incidents"]] == [incident.number, older.number]
    entities = {e["id"]: e for e in data["entities"]}
    assert entities[account.pk] == {
        "id": account.pk,
        "kind": "account",
        "kindLabel": "Account",
        "icon": "/static/img/kinds/account.svg",
        "label": "bjenkins@contoso.com",
        "identifier": "bjenkins@contoso.com",
        "properties": [["Name", "bjenkins"], ["UPNSuffix", "contoso.com"]],
        "alerts": 2,
        "otherOpenIncidents": 1,  # "Older", through Mimikatz
        "otherOpenIncidentsLabel": "1",
    }
    assert entities[host.pk]["label"] == "WS-FIN-1122"


def test_the_graph_says_where_each_node_leads(client, responder, incident, host):
    alert = an_alert_with(incident, host)
    client.force_login(responder)

    urls = client.get(graph_url(incident)).json()["urls"]

    filled = {
        name: url.replace("{alert}", str(alert.system_alert_id))
        .replace("{entity}", str(host.pk))
        .replace("{number}", str(incident.number))
        for name, url in urls.items()
    }
    n = incident.number
    assert filled == {
        "alert": f"/alerts/{alert.system_alert_id}/",
        "incident": f"/incidents/{n}/",
        "addAlert": f"/incidents/{n}/alerts/{alert.system_alert_id}/add/",
        "removeAlert": f"/incidents/{n}/alerts/{alert.system_alert_id}/remove/",
        "timeline": f"/incidents/{n}/entities/{host.pk}/",
        "relatedAlerts": related_alerts_url(incident, host),
        "relatedIncidents": related_incidents_url(incident, host),
        "graph": graph_url(incident),
    }


def test_an_entity_counts_its_other_open_incidents(client, reader, workspace, incident, host):
    an_alert_with(incident, host)
    an_outside_alert(workspace, host)
    closed = IncidentFactory(workspace=workspace)
    an_alert_with(closed, host)
    actions.close_incident(closed, classification="Undetermined", actor=Actor.for_user(reader))
    client.force_login(reader)

    [entity] = client.get(graph_url(incident)).json()["entities"]

    assert (entity["alerts"], entity["otherOpenIncidents"]) == (1, 1)


def test_a_providers_own_alert_says_why_it_cannot_be_removed(client, responder, workspace):
    defender = IncidentFactory(workspace=workspace, provider_name="Microsoft Defender XDR")
    defender_alert_in(defender)
    client.force_login(responder)

    [alert] = client.get(graph_url(defender)).json()["alerts"]

    assert "Microsoft Defender XDR" in alert["removeRefusal"]


def test_readers_get_the_graph_but_no_changes(client, reader, incident, host):
    an_alert_with(incident, host)
    client.force_login(reader)

    data = client.get(graph_url(incident)).json()

    assert data["canAct"] is False
    assert len(data["alerts"]) == 1


def test_an_empty_incident_has_an_empty_graph(client, reader, incident):
    client.force_login(reader)

    data = client.get(graph_url(incident)).json()

    assert (data["alerts"], data["entities"]) == ([], [])


def test_the_graph_is_not_cached(client, reader, incident):
    client.force_login(reader)
    response = client.get(graph_url(incident))
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


# --- Related alerts ----------------------------------------------------------------------


def test_related_alerts_are_the_entitys_other_alerts_newest_first(
    client, reader, workspace, incident, host, account
):
    an_alert_with(incident, host, time_generated=NOW)
    older = an_outside_alert(
        workspace, host, account, display_name="Older", time_generated=NOW - dt.timedelta(days=2)
    )
    newer = an_outside_alert(
        workspace, host, display_name="Newer", time_generated=NOW - dt.timedelta(hours=1)
    )
    an_outside_alert(workspace, account, display_name="Not this entity")
    client.force_login(reader)

    data = client.get(related_alerts_url(incident, host)).json()

    assert data["entity"] == host.pk
    assert [a["name"] for a in data["alerts"]] == ["Newer", "Older"]
    first, second = data["alerts"]
    assert first["id"] == str(newer.system_alert_id)
    assert first["inIncident"] is False
    [home] = Incident.objects.filter(relations__alert=newer)
    assert first["incidents"] == [{"number": home.number, "title": home.title, "status": "New"}]
    assert sorted(second["entities"]) == sorted([host.pk, account.pk])
    assert second["id"] == str(older.system_alert_id)
    assert data["more"] is False
    assert data["summary"] == (
        f"2 related alerts: all of this entity's alerts outside incident #{incident.number} "
        "within 30 days of its alerts."
    )


def test_related_alerts_leave_out_the_incidents_own(client, reader, workspace, incident, host):
    an_alert_with(incident, host)
    both = an_outside_alert(workspace, host)
    membership.add_alerts(incident, [both], actor=INGESTION)
    client.force_login(reader)

    data = client.get(related_alerts_url(incident, host)).json()

    assert data["alerts"] == []
    assert data["summary"].startswith("No related alerts")


def test_related_alerts_are_bounded_and_say_so(client, reader, workspace, incident, host):
    an_alert_with(incident, host, time_generated=NOW)
    elsewhere = IncidentFactory(workspace=workspace)
    limit = graph.RELATED_ALERTS_LIMIT
    for n in range(limit + 1):
        an_alert_with(elsewhere, host, time_generated=NOW - dt.timedelta(minutes=n))
    client.force_login(reader)

    data = client.get(related_alerts_url(incident, host)).json()

    assert len(data["alerts"]) == limit
    assert data["more"] is True
    assert data["summary"].startswith(f"{limit} related alerts: the {limit} newest of")
    times = [a["time"] for a in data["alerts"]]
    assert times == sorted(times, reverse=True)


def test_related_alerts_stay_within_30_days_of_the_incidents_alerts(
    client, reader, workspace, incident, host
):
    an_alert_with(incident, host, time_generated=NOW - dt.timedelta(days=40))
    an_alert_with(incident, host, time_generated=NOW - dt.timedelta(days=35))
    days = graph.RELATED_ALERTS_DAYS
    inside = an_outside_alert(
        workspace, host, time_generated=NOW - dt.timedelta(days=40 + days - 1)
    )
    an_outside_alert(workspace, host, time_generated=NOW - dt.timedelta(days=40 + days + 1))
    later = an_outside_alert(workspace, host, time_generated=NOW - dt.timedelta(days=35 - days + 1))
    an_outside_alert(workspace, host, time_generated=NOW - dt.timedelta(days=35 - days - 1))
    client.force_login(reader)

    data = client.get(related_alerts_url(incident, host)).json()

    assert [a["id"] for a in data["alerts"]] == [
        str(later.system_alert_id),
        str(inside.system_alert_id),
    ]


# --- Related incidents ---------------------------------------------------------------------


def test_related_incidents_are_the_others_with_the_entity_open_ones_first(
    client, reader, workspace, incident, host
):
    an_alert_with(incident, host)
    closed = IncidentFactory(workspace=workspace, title="Closed one")
    an_alert_with(closed, host)
    actions.close_incident(closed, classification="Undetermined", actor=Actor.for_user(reader))
    active = IncidentFactory(workspace=workspace, title="Open one")
    an_alert_with(active, host)
    IncidentFactory(workspace=workspace, title="Unrelated")
    client.force_login(reader)

    data = client.get(related_incidents_url(incident, host)).json()

    assert [(i["title"], i["status"]) for i in data["incidents"]] == [
        ("Open one", "New"),
        ("Closed one", "Closed"),
    ]
    assert data["incidents"][0] == {
        "number": active.number,
        "title": "Open one",
        "severity": active.severity,
        "status": "New",
        "alertCount": 1,
    }
    assert data["more"] is False


def test_related_incidents_are_bounded(client, reader, workspace, incident, host):
    an_alert_with(incident, host)
    for _ in range(graph.RELATED_INCIDENTS_LIMIT + 1):
        an_outside_alert(workspace, host)
    client.force_login(reader)

    data = client.get(related_incidents_url(incident, host)).json()

    assert len(data["incidents"]) == graph.RELATED_INCIDENTS_LIMIT
    assert data["more"] is True


# --- access ----------------------------------------------------------------------------------


def test_another_workspaces_entity_is_not_found(client, reader, incident, other_workspace):
    stranger = EntityFactory(workspace=other_workspace)
    AlertFactory(workspace=other_workspace).entities.add(stranger)
    client.force_login(reader)

    assert client.get(related_alerts_url(incident, stranger)).status_code == 404
    assert client.get(related_incidents_url(incident, stranger)).status_code == 404


def test_an_outsider_gets_nothing(client, outsider, incident, host):
    an_alert_with(incident, host)
    client.force_login(outsider)

    for url in (page_url(incident), graph_url(incident), related_alerts_url(incident, host)):
        assert client.get(url).status_code == 404, url


def test_the_graph_needs_login(client, incident):
    response = client.get(graph_url(incident))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_graph_only_answers_get(client, responder, incident, host):
    client.force_login(responder)
    for url in (page_url(incident), graph_url(incident), related_alerts_url(incident, host)):
        assert client.post(url).status_code == 405, url


def test_adding_from_the_graph_goes_through_the_timelines_view(
    client, responder, reader, workspace, incident, host
):
    """The graph's "Add alert to incident" is the entity timeline's: readers are refused,
    a responder adds the alert and the graph then holds it."""
    an_alert_with(incident, host)
    related = an_outside_alert(workspace, host)
    client.force_login(reader)
    urls = client.get(graph_url(incident)).json()["urls"]
    add = urls["addAlert"].replace("{alert}", str(related.system_alert_id))
    assert client.post(add, {"other_incident": "keep"}).status_code == 403

    client.force_login(responder)
    response = client.post(add, {"other_incident": "keep"}, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert incident.pk in incident_ids_of(related)
    ids = [a["id"] for a in client.get(graph_url(incident)).json()["alerts"]]
    assert str(related.system_alert_id) in ids
    assert client.get(related_alerts_url(incident, host)).json()["alerts"] == []


# --- queries -----------------------------------------------------------------------------------

# Session, user, memberships; the incident; its alerts; their incidents; the alert–entity
# links; the entities; their other open incidents.
GRAPH_QUERIES = 9
# Session, user, memberships; the incident; the entity; its related alerts; their incidents;
# their entities.
RELATED_ALERTS_QUERIES = 8


@pytest.mark.parametrize(("alerts", "entities"), [(3, 5), (150, 400)])
def test_the_graphs_query_count_does_not_grow(
    client, responder, workspace, alerts, entities, django_assert_max_num_queries
):
    incident, _ = incident_with_entities(workspace, alerts=alerts, entities=entities, outside=3)
    client.force_login(responder)

    with django_assert_max_num_queries(GRAPH_QUERIES):
        data = client.get(graph_url(incident)).json()

    assert (len(data["alerts"]), len(data["entities"])) == (alerts, entities)


@pytest.mark.parametrize("outside", [3, 60])
def test_related_alerts_query_count_does_not_grow(
    client, responder, workspace, outside, django_assert_max_num_queries
):
    incident, made = incident_with_entities(workspace, alerts=3, entities=5, outside=outside)
    client.force_login(responder)

    with django_assert_max_num_queries(RELATED_ALERTS_QUERIES):
        data = client.get(related_alerts_url(incident, made[0])).json()

    assert len(data["alerts"]) == min(outside, graph.RELATED_ALERTS_LIMIT)
