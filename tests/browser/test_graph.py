"""The investigation graph in real Chromium under a strict CSP: the seed's steps
(Investigate → an entity → Related alerts → Add alert to incident), its special
situations, a refusal, Remove alert, the keyboard path and the entity-kind filter."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from incidents import membership
from incidents.models import ActivityEntry, Incident, IncidentStatus, Role
from tests.browser.conftest import signed_in_as
from tests.factories import (
    INGESTION,
    EntityFactory,
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    alert_in,
    incident_ids_of,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def incident(workspace):
    incident = IncidentFactory(workspace=workspace, title="Credential theft")
    host = EntityFactory(workspace=workspace, identifier="ws-fin-1122", display_name="WS-FIN-1122")
    account = EntityFactory(workspace=workspace, kind="account", identifier="bjenkins")
    alert_in(incident, display_name="Kerberoasting", severity="High").entities.add(host, account)
    return incident


@pytest.fixture
def host(incident):
    return incident.workspace.entities.get(identifier="ws-fin-1122")


@pytest.fixture
def found(workspace, host):
    """An alert of another incident (with a second alert) that names the host and svc-backup."""
    noisy = IncidentFactory(workspace=workspace, title="Noisy host")
    backup = EntityFactory(workspace=workspace, kind="account", identifier="svc-backup")
    alert = alert_in(noisy, display_name="Suspicious service install", severity="Medium")
    alert.entities.add(host, backup)
    alert_in(noisy, display_name="Port scan")
    return alert


def open_graph(page: Page, base: str, incident: Incident) -> Locator:
    """The incident page, then Investigate; the node list once the graph is drawn."""
    page.goto(f"{base}/incidents/{incident.number}/")
    page.get_by_role("link", name="Investigate").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident.number}/graph/$"))
    settled(page)
    return page.get_by_role("navigation", name="Nodes")


def settled(page: Page) -> None:
    """Wait until the graph is drawn again after a change (the page refreshes around it)."""
    expect(page.locator("#graph[data-ready]")).to_have_count(1)


def node_item(nodes: Locator, name: str) -> Locator:
    """The list item of the node called `name` (its own button, not a nested one)."""
    button = nodes.page.locator(":scope > .node-button", has_text=name)
    return nodes.locator("li.node").filter(has=button).last


def drawn(page: Page) -> dict:
    """What the canvas holds: each node's label and classes, each edge's classes."""
    return page.evaluate(
        """() => {
            const cy = document.getElementById("graph-canvas").cytoscape;
            const nodes = {};
            cy.nodes().forEach((n) => { nodes[n.data("label")] = n.classes(); });
            const edges = {};
            cy.edges().forEach((e) => {
                edges[`${e.source().data("label")} – ${e.target().data("label")}`] = e.classes();
            });
            return { nodes, edges, hidden: cy.nodes(".hidden").map((n) => n.data("label")) };
        }"""
    )


def test_the_seeds_steps_add_a_related_alert_from_the_graph(
    signed_in: Page, live_server, workspace, incident, host, found, artifacts
):
    page = signed_in
    nodes = open_graph(page, live_server.url, incident)
    graph = drawn(page)
    assert set(graph["nodes"]) == {"Kerberoasting", "WS-FIN-1122", "bjenkins"}
    assert "related" not in graph["edges"]["Kerberoasting – WS-FIN-1122"]
    page.screenshot(path=artifacts / "graph-incident.png")

    # Hover the entity on the canvas: its exploration queries appear beside it.
    position = page.evaluate(
        """() => {
            const cy = document.getElementById("graph-canvas").cytoscape;
            const box = document.getElementById("graph-canvas").getBoundingClientRect();
            const host = cy.nodes().filter((n) => n.data("label") === "WS-FIN-1122");
            const p = host.renderedPosition();
            return { x: box.left + p.x, y: box.top + p.y };
        }"""
    )
    page.mouse.move(position["x"], position["y"])
    popover = page.get_by_role("group", name="Node actions")
    expect(popover.get_by_role("button", name="Related alerts")).to_be_visible()
    expect(popover.get_by_role("link", name="Timeline")).to_have_attribute(
        "href", f"/incidents/{incident.number}/entities/{host.pk}/"
    )
    page.screenshot(path=artifacts / "graph-exploration-queries.png")

    node_item(nodes, "WS-FIN-1122").get_by_role("button", name="Related alerts").click()
    related = node_item(nodes, "Suspicious service install")
    expect(related).to_contain_text("Not in this incident")
    expect(nodes).to_contain_text("1 related alert: all of this entity's alerts outside")
    graph = drawn(page)
    assert "related" in graph["nodes"]["Suspicious service install"]
    assert graph["edges"]["Suspicious service install – WS-FIN-1122"] == ["related"]
    assert "svc-backup" not in graph["nodes"]
    page.screenshot(path=artifacts / "graph-related-alerts.png")

    related.get_by_role("button", name="Add alert to incident").click()
    dialog = page.get_by_role("dialog", name="Add alert to incident")
    expect(dialog).to_contain_text("It is already part of another incident")
    expect(dialog.get_by_role("link", name=re.compile("Noisy host"))).to_be_visible()
    page.screenshot(path=artifacts / "graph-add-alert-dialog.png")
    dialog.get_by_role("button", name="OK").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="was added")).to_contain_text(
        f"Alert “Suspicious service install” was added to incident #{incident.number}."
    )
    settled(page)
    # The graph grew in place: the edge is solid, the alert in colour, its entity joined.
    added = node_item(nodes, "Suspicious service install")
    expect(added.get_by_role("button", name="Remove alert")).to_be_visible()
    expect(added.locator(".node-button")).to_be_focused()
    graph = drawn(page)
    assert graph["nodes"]["Suspicious service install"] == ["alert"]
    assert graph["edges"]["Suspicious service install – WS-FIN-1122"] == []
    assert graph["edges"]["Suspicious service install – svc-backup"] == []
    expect(nodes).to_contain_text("svc-backup")
    expect(page.get_by_role("link", name="Alerts 2")).to_be_visible()
    page.screenshot(path=artifacts / "graph-alert-added.png")
    assert incident.pk in incident_ids_of(found)

    # The seed: the alert "now appears in this incident's timeline", and the log says so.
    tabs = page.get_by_role("navigation", name="Incident sections")
    tabs.get_by_role("link", name="Overview").click()
    timeline = page.get_by_role("region", name="Incident timeline")
    expect(timeline.get_by_role("link", name="Suspicious service install")).to_be_visible()
    tabs.get_by_role("link", name="Activity").click()
    expect(page.locator(".activity")).to_contain_text("Suspicious service install")


@pytest.mark.parametrize("choice", ["Keep other incident", "Close other incident", "Cancel"])
def test_adding_another_incidents_only_alert(
    signed_in: Page, live_server, workspace, incident, host, choice
):
    page = signed_in
    lonely = IncidentFactory(workspace=workspace, title="Lonely")
    alert = alert_in(lonely, display_name="Beacon")
    alert.entities.add(host)
    nodes = open_graph(page, live_server.url, incident)
    node_item(nodes, "WS-FIN-1122").get_by_role("button", name="Related alerts").click()
    node_item(nodes, "Beacon").get_by_role("button", name="Add alert to incident").click()

    dialog = page.get_by_role("dialog", name="Add alert to incident")
    expect(dialog).to_contain_text(f"It is the only alert of incident #{lonely.number}")
    dialog.get_by_role("button", name=choice).click()

    expect(dialog).to_be_hidden()
    settled(page)
    lonely.refresh_from_db()
    if choice == "Cancel":
        assert incident_ids_of(alert) == {lonely.pk}
        assert "related" in drawn(page)["nodes"]["Beacon"]
        return
    expect(node_item(nodes, "Beacon").get_by_role("button", name="Remove alert")).to_be_visible()
    assert incident_ids_of(alert) == {lonely.pk, incident.pk}
    closed = choice == "Close other incident"
    assert (lonely.status == IncidentStatus.CLOSED) is closed


def test_a_refusal_explains_and_leaves_the_graph_as_it_was(
    signed_in: Page, live_server, workspace, incident, host, found, settings
):
    page = signed_in
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 1
    nodes = open_graph(page, live_server.url, incident)
    node_item(nodes, "WS-FIN-1122").get_by_role("button", name="Related alerts").click()
    add = node_item(nodes, "Suspicious service install").get_by_role(
        "button", name="Add alert to incident"
    )
    add.click()
    page.get_by_role("dialog", name="Add alert to incident").get_by_role(
        "button", name="OK"
    ).click()

    expect(page.get_by_role("alert")).to_contain_text(
        "adding 1 more would pass the limit of 1 alerts per incident. Nothing was changed."
    )
    expect(add).to_be_focused()
    assert "related" in drawn(page)["nodes"]["Suspicious service install"]
    assert incident.pk not in incident_ids_of(found)


def test_remove_alert_from_the_graph(
    signed_in: Page, live_server, workspace, incident, host, artifacts
):
    page = signed_in
    elsewhere = IncidentFactory(workspace=workspace, title="Elsewhere")
    shared = alert_in(elsewhere, display_name="Shared beacon")
    shared.entities.add(host)
    membership.add_alerts(incident, [shared], actor=INGESTION)
    nodes = open_graph(page, live_server.url, incident)

    # Kerberoasting is in no other incident: the timeline's refusal, before anything changes.
    node_item(nodes, "Kerberoasting").get_by_role("button", name="Remove alert").click()
    dialog = page.get_by_role("dialog", name="Remove alert")
    expect(dialog.get_by_role("alert")).to_contain_text("belongs to no other incident than")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    node_item(nodes, "Shared beacon").get_by_role("button", name="Remove alert").click()
    dialog = page.get_by_role("dialog", name="Remove alert")
    dialog.get_by_label("Reason").fill("Same beacon, other host")
    page.screenshot(path=artifacts / "graph-remove-alert-dialog.png")
    dialog.get_by_role("button", name="Remove alert").click()

    note = page.get_by_role("status").filter(has_text="was removed")
    expect(note).to_contain_text(f"was removed from incident #{incident.number}")
    settled(page)
    expect(node_item(nodes, "Shared beacon")).to_have_count(0)
    assert "Shared beacon" not in drawn(page)["nodes"]
    assert incident_ids_of(shared) == {elsewhere.pk}

    # Undo from the notification puts it back, and the graph with it.
    note.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("Undone:")
    settled(page)
    expect(node_item(nodes, "Shared beacon")).to_be_visible()
    assert incident_ids_of(shared) == {elsewhere.pk, incident.pk}


def test_every_action_works_from_the_keyboard(
    signed_in: Page, live_server, workspace, incident, host, found
):
    page = signed_in
    nodes = open_graph(page, live_server.url, incident)
    entity = node_item(nodes, "WS-FIN-1122")
    entity.locator(".node-button").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Details")).to_contain_text("ws-fin-1122")
    page.keyboard.press("Tab")
    expect(entity.get_by_role("button", name="Related alerts")).to_be_focused()
    page.keyboard.press("Enter")
    # Focus moves to what the exploration found.
    expect(nodes.get_by_text(re.compile("^1 related alert"))).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    add = node_item(nodes, "Suspicious service install").get_by_role(
        "button", name="Add alert to incident"
    )
    expect(add).to_be_focused()
    page.keyboard.press("Enter")
    ok = page.get_by_role("dialog").get_by_role("button", name="OK")
    expect(ok).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(node_item(nodes, "Suspicious service install").locator(".node-button")).to_be_focused()
    assert incident.pk in incident_ids_of(found)


def test_the_kind_filter_hides_a_kind_on_the_canvas_and_in_the_list(
    signed_in: Page, live_server, incident
):
    page = signed_in
    nodes = open_graph(page, live_server.url, incident)

    page.get_by_role("checkbox", name=re.compile("^Account")).uncheck()

    assert drawn(page)["hidden"] == ["bjenkins"]
    expect(node_item(nodes, "bjenkins")).to_be_hidden()
    expect(node_item(nodes, "WS-FIN-1122")).to_be_visible()


@pytest.fixture
def reader(workspace):
    user = UserFactory(username="reader")
    MembershipFactory(workspace=workspace, user=user, role=Role.READER)
    return user


def test_a_reader_explores_but_changes_nothing(page: Page, live_server, reader, incident, found):
    for signed_in in signed_in_as(page, live_server, reader):
        nodes = open_graph(signed_in, live_server.url, incident)
        node_item(nodes, "WS-FIN-1122").get_by_role("button", name="Related alerts").click()
        expect(node_item(nodes, "Suspicious service install")).to_be_visible()
        expect(nodes.get_by_role("button", name="Add alert to incident")).to_have_count(0)
        expect(nodes.get_by_role("button", name="Remove alert")).to_have_count(0)
        expect(signed_in.get_by_role("group", name="Incident actions")).to_have_count(0)
    assert ActivityEntry.objects.filter(incident=incident).count() == 1
