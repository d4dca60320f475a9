"""The seed's flows on the incident page, in real Chromium under a strict CSP: the entity
timeline's add (+) with its special situations, "Remove alert", and the triage actions."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from incidents import membership
from incidents.models import ActivityEntry, ActivityKind, Incident, IncidentStatus
from tests.factories import (
    INGESTION,
    EntityFactory,
    IncidentFactory,
    alert_in,
    incident_ids_of,
    incident_with_alerts,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def incident(workspace):
    incident = IncidentFactory(workspace=workspace, title="Credential theft")
    host = EntityFactory(workspace=workspace, identifier="ws-fin-1122", display_name="WS-FIN-1122")
    alert_in(incident, display_name="Kerberoasting").entities.add(host)
    return incident


@pytest.fixture
def host(incident):
    return incident.relations.get().alert.entities.get()


def open_entity(page: Page, base: str, incident: Incident, name: str) -> Locator:
    """The Entities tab, with the side panel of the entity called `name` open."""
    page.goto(f"{base}/incidents/{incident.number}/")
    page.get_by_role("navigation", name="Incident sections").get_by_role(
        "link", name="Entities"
    ).click()
    page.get_by_role("link", name=name, exact=True).click()
    panel = page.get_by_role("complementary", name=name)
    expect(panel.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/entities/\d+/$"))
    return panel


def timeline_item(panel: Locator, alert_name: str) -> Locator:
    # `has` is relative to each item, so it is built from the page, not from `panel`.
    link = panel.page.get_by_role("link", name=alert_name, exact=True)
    return panel.get_by_role("listitem").filter(has=link)


def activity_messages(incident: Incident) -> list[str]:
    entries = ActivityEntry.objects.filter(incident=incident).order_by("pk")
    return list(entries.values_list("message", flat=True))


def test_adding_an_alert_from_the_entity_timeline_with_ok(
    signed_in: Page, live_server, workspace, incident, host, artifacts
):
    page = signed_in
    noisy = IncidentFactory(workspace=workspace, title="Noisy host")
    backup = EntityFactory(workspace=workspace, identifier="svc-backup", kind="account")
    found = alert_in(noisy, display_name="Suspicious service install")
    found.entities.add(host, backup)
    alert_in(noisy, display_name="Port scan")

    panel = open_entity(page, live_server.url, incident, "WS-FIN-1122")
    expect(panel).to_contain_text("ws-fin-1122")
    outside = timeline_item(panel, "Suspicious service install")
    expect(outside).to_have_class(re.compile(r"\boutside\b"))
    expect(timeline_item(panel, "Kerberoasting")).to_have_class(re.compile(r"\bin-incident\b"))
    expect(page.get_by_role("link", name="svc-backup")).to_have_count(0)
    page.screenshot(path=artifacts / "entities-side-panel.png")

    outside.get_by_role("button", name="Add alert to incident").click()
    dialog = page.get_by_role("dialog", name="Add alert to incident")
    expect(dialog).to_contain_text("It is already part of another incident")
    expect(dialog.get_by_role("link", name=f"#{noisy.number} Noisy host")).to_have_attribute(
        "href", f"/incidents/{noisy.number}/"
    )
    ok = dialog.get_by_role("button", name="OK")
    expect(ok).to_be_focused()
    page.screenshot(path=artifacts / "add-alert-dialog.png")
    ok.click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text(
        f"Alert “Suspicious service install” was added to incident #{incident.number}. "
        f"It stays in #{noisy.number}."
    )
    # The page refreshed itself: full colour in the timeline, its entity in the list.
    expect(timeline_item(panel, "Suspicious service install")).to_have_class(
        re.compile(r"\bin-incident\b")
    )
    expect(panel.get_by_role("button", name="Add alert to incident")).to_have_count(0)
    expect(page.get_by_role("link", name="Suspicious service install")).to_be_focused()
    expect(page.get_by_role("link", name="svc-backup")).to_be_visible()
    tabs = page.get_by_role("navigation", name="Incident sections")
    expect(tabs.get_by_role("link", name="Alerts 2")).to_be_visible()
    assert incident_ids_of(found) == {incident.pk, noisy.pk}

    tabs.get_by_role("link", name="Overview").click()
    timeline = page.get_by_role("region", name="Incident timeline")
    expect(timeline_item(timeline, "Suspicious service install")).to_have_class(
        re.compile(r"\bin-incident\b")
    )
    # The added alert's entities are explorable in turn.
    panel = open_entity(page, live_server.url, incident, "svc-backup")
    expect(timeline_item(panel, "Suspicious service install")).to_be_visible()
    assert any("It also belongs to" in m for m in activity_messages(incident))


def test_adding_is_refused_at_the_cap_with_the_reason(
    signed_in: Page, live_server, workspace, incident, host, settings
):
    page = signed_in
    other = IncidentFactory(workspace=workspace, title="Elsewhere")
    alert_in(other, display_name="Beacon").entities.add(host)
    alert_in(other, display_name="Second alert")
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 1

    panel = open_entity(page, live_server.url, incident, "WS-FIN-1122")
    plus = timeline_item(panel, "Beacon").get_by_role("button", name="Add alert to incident")
    plus.click()
    dialog = page.get_by_role("dialog", name="Add alert to incident")
    dialog.get_by_role("button", name="OK").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"Incident #{incident.number} has 1 alerts; adding 1 more would pass the limit of 1 "
        "alerts per incident. Nothing was changed."
    )
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(plus).to_be_focused()
    expect(timeline_item(panel, "Beacon")).to_have_class(re.compile(r"\boutside\b"))
    incident.refresh_from_db()
    assert incident.alert_count == 1


@pytest.mark.parametrize("choice", ["Keep other incident", "Close other incident", "Cancel"])
def test_the_keep_close_or_cancel_dialog(
    signed_in: Page, live_server, workspace, incident, host, choice, artifacts
):
    page = signed_in
    lonely = IncidentFactory(workspace=workspace, title="Lonely")
    lone = alert_in(lonely, display_name="Lone beacon")
    lone.entities.add(host)
    before = {i.pk: activity_messages(i) for i in (incident, lonely)}

    panel = open_entity(page, live_server.url, incident, "WS-FIN-1122")
    plus = timeline_item(panel, "Lone beacon").get_by_role("button", name="Add alert to incident")
    plus.click()
    dialog = page.get_by_role("dialog", name="Add alert to incident")
    expect(dialog).to_contain_text(f"It is the only alert of incident #{lonely.number}")
    expect(dialog.get_by_role("button", name="OK")).to_have_count(0)
    expect(dialog.get_by_role("button", name="Keep other incident")).to_be_focused()
    page.screenshot(path=artifacts / "keep-or-close-other-incident-dialog.png")
    dialog.get_by_role("button", name=choice).click()
    expect(dialog).to_be_hidden()

    incident.refresh_from_db()
    lonely.refresh_from_db()
    after = {i.pk: activity_messages(i) for i in (incident, lonely)}
    if choice == "Cancel":
        expect(plus).to_be_focused()
        assert incident_ids_of(lone) == {lonely.pk}
        assert (incident.alert_count, lonely.status) == (1, IncidentStatus.NEW)
        assert after == before
        return
    expect(page.get_by_role("status")).to_contain_text("“Lone beacon” was added to incident")
    assert incident_ids_of(lone) == {incident.pk, lonely.pk}
    assert incident.alert_count == 2
    assert len(after[incident.pk]) == len(before[incident.pk]) + 1
    assert "It also belongs to" in after[incident.pk][-1]
    if choice == "Keep other incident":
        assert lonely.status == IncidentStatus.NEW
        assert after[lonely.pk] == before[lonely.pk]
    else:
        expect(page.get_by_role("status")).to_contain_text(f"Incident #{lonely.number} was closed.")
        assert (lonely.status, lonely.classification) == (IncidentStatus.CLOSED, "Undetermined")
        assert lonely.classification_comment == (
            f"Alert was added to another incident #{incident.number}."
        )
        closed = "responder closed the incident as Undetermined."
        assert after[lonely.pk] == [*before[lonely.pk], closed]


def test_escape_cancels_the_dialog(signed_in: Page, live_server, workspace, incident, host):
    page = signed_in
    other = IncidentFactory(workspace=workspace)
    alert_in(other, display_name="Beacon").entities.add(host)
    alert_in(other)
    panel = open_entity(page, live_server.url, incident, "WS-FIN-1122")
    plus = timeline_item(panel, "Beacon").get_by_role("button", name="Add alert to incident")
    plus.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add alert to incident")
    expect(dialog.get_by_role("button", name="OK")).to_be_focused()
    # The modal dialog keeps the focus inside it.
    page.keyboard.press("Shift+Tab")
    expect(dialog.locator(":focus")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(plus).to_be_focused()
    incident.refresh_from_db()
    assert incident.alert_count == 1


def test_the_incident_timeline_shows_more_alerts_on_demand(
    signed_in: Page, live_server, workspace, artifacts
):
    page = signed_in
    incident = incident_with_alerts(55, workspace=workspace)
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    timeline = page.get_by_role("region", name="Incident timeline")
    items = timeline.locator("li.tl-item")
    expect(items).to_have_count(50)
    expect(timeline).to_contain_text("55 alerts, newest first; the Alerts tab lists them all.")

    more = timeline.get_by_role("link", name="Show more alerts")
    more.click()
    expect(items).to_have_count(55)
    expect(more).to_have_count(0)
    # The first new alert takes the focus from the link that went.
    expect(items.nth(50).locator("a.tl-name")).to_be_focused()
    page.screenshot(path=artifacts / "incident-timeline-more.png")

    # The appended alerts' menus work as the others do.
    items.nth(54).get_by_role("button", name=re.compile("^More actions for ")).click()
    expect(page.get_by_role("menuitem", name="Remove alert")).to_be_visible()


def test_remove_alert_from_the_incident_timeline(
    signed_in: Page, live_server, workspace, incident, artifacts
):
    page = signed_in
    stray = alert_in(incident, display_name="Unrelated DLP hit")
    home = IncidentFactory(workspace=workspace, title="DLP")
    membership.add_alerts(home, [stray], actor=INGESTION)
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    timeline = page.get_by_role("region", name="Incident timeline")

    more = timeline.get_by_role("button", name="More actions for Unrelated DLP hit")
    more.focus()
    page.keyboard.press("Enter")
    remove = page.get_by_role("menuitem", name="Remove alert")
    expect(remove).to_be_focused()
    expect(more).to_have_attribute("aria-expanded", "true")
    page.screenshot(path=artifacts / "remove-alert-menu.png")
    page.keyboard.press("ArrowDown")
    expect(remove).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(more).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(remove).to_be_focused()
    page.keyboard.press("Enter")
    # It asks first, with an optional reason.
    dialog = page.get_by_role("dialog", name="Remove alert")
    confirm = dialog.get_by_role("button", name="Remove alert")
    expect(confirm).to_be_focused()
    dialog.get_by_role("textbox", name="Reason").fill("A DLP hit, not part of this attack")
    page.screenshot(path=artifacts / "remove-alert-dialog.png")
    confirm.click()

    expect(page.get_by_role("status")).to_contain_text(
        f"Alert “Unrelated DLP hit” was removed from incident #{incident.number}."
    )
    expect(timeline.get_by_role("link", name="Unrelated DLP hit")).to_have_count(0)
    expect(page.get_by_role("heading", name="Incident timeline")).to_be_focused()
    assert incident_ids_of(stray) == {home.pk}
    removed = ActivityEntry.objects.get(incident=incident, kind=ActivityKind.ALERT_REMOVED)
    assert removed.message.endswith(f"It stays in #{home.number}.")
    assert removed.comment == "A DLP hit, not part of this attack"

    # The last alert of its only incident cannot go: the refusal says what to do instead.
    timeline.get_by_role("button", name="More actions for Kerberoasting").click()
    page.get_by_role("menuitem", name="Remove alert").click()
    dialog = page.get_by_role("dialog", name="Remove alert")
    expect(dialog.get_by_role("alert")).to_contain_text("Link it to another incident instead")
    expect(dialog.get_by_role("button", name="Remove alert")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(timeline.get_by_role("link", name="Kerberoasting")).to_be_visible()


def test_remove_alert_from_the_entity_timeline_after_adding_it_there(
    signed_in: Page, live_server, workspace, incident, host, artifacts
):
    page = signed_in
    noisy = IncidentFactory(workspace=workspace, title="Noisy host")
    found = alert_in(noisy, display_name="Suspicious service install")
    found.entities.add(host)
    alert_in(noisy, display_name="Port scan")
    panel = open_entity(page, live_server.url, incident, "WS-FIN-1122")

    timeline_item(panel, "Suspicious service install").get_by_role(
        "button", name="Add alert to incident"
    ).click()
    page.get_by_role("dialog", name="Add alert to incident").get_by_role(
        "button", name="OK"
    ).click()
    added = timeline_item(panel, "Suspicious service install")
    expect(added).to_have_class(re.compile(r"\bin-incident\b"))
    remove = added.get_by_role("button", name="Remove alert")
    expect(remove).to_have_accessible_description("Suspicious service install")
    page.screenshot(path=artifacts / "entity-timeline-remove.png")

    remove.click()
    dialog = page.get_by_role("dialog", name="Remove alert")
    dialog.get_by_role("textbox", name="Reason").fill("Same host, different story")
    dialog.get_by_role("button", name="Remove alert").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text(
        f"Alert “Suspicious service install” was removed from incident #{incident.number}."
    )
    # The panel stayed open and refreshed: the alert is greyed again, with its + back.
    back = timeline_item(panel, "Suspicious service install")
    expect(back).to_have_class(re.compile(r"\boutside\b"))
    plus = back.get_by_role("button", name="Add alert to incident")
    expect(plus).to_be_focused()
    expect(
        timeline_item(panel, "Kerberoasting").get_by_role("button", name="Remove alert")
    ).to_be_visible()
    tabs = page.get_by_role("navigation", name="Incident sections")
    expect(tabs.get_by_role("link", name="Alerts 1")).to_be_visible()
    page.screenshot(path=artifacts / "entity-timeline-removed.png")
    assert incident_ids_of(found) == {noisy.pk}


def test_closing_with_a_classification(signed_in: Page, live_server, incident, artifacts):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    page.get_by_role("button", name="Close incident").click()
    dialog = page.get_by_role("dialog", name=f"Close incident #{incident.number}")
    expect(dialog.get_by_role("radio", name="Undetermined")).to_be_focused()
    for label in (
        "True Positive – suspicious activity",
        "Benign Positive – suspicious but expected",
        "False Positive – incorrect alert logic",
    ):
        expect(dialog.get_by_role("radio", name=label)).to_be_visible()
    dialog.get_by_role("radio", name="False Positive – inaccurate data").check()
    dialog.get_by_role("textbox", name="Comment").fill("The sensor's clock was wrong")
    page.screenshot(path=artifacts / "close-incident-dialog.png")
    dialog.get_by_role("button", name="Close incident").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text(f"Incident #{incident.number} was closed.")
    expect(page.locator(".incident-head")).to_contain_text(
        "Closed · False Positive – inaccurate data"
    )
    expect(page.get_by_role("button", name="Reopen incident")).to_be_focused()
    incident.refresh_from_db()
    assert (incident.classification, incident.classification_reason) == (
        "FalsePositive",
        "InaccurateData",
    )
    assert incident.classification_comment == "The sensor's clock was wrong"


def test_assign_status_and_comment_from_the_header(signed_in: Page, live_server, incident):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_contain_text("is assigned to responder")
    expect(page.locator(".incident-head")).to_contain_text("responder")

    page.get_by_label("Status").select_option("Active")
    page.get_by_role("button", name="Set status").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text(f"Incident #{incident.number} is now Active.")
    expect(page.get_by_role("button", name="Set status")).to_be_focused()

    page.get_by_role("button", name="Add comment").click()
    dialog = page.get_by_role("dialog", name="Add comment")
    expect(dialog.get_by_role("textbox", name="Comment")).to_be_focused()
    page.keyboard.type("Called the user; travelling")
    dialog.get_by_role("button", name="Add comment").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("region", name="Comments")).to_contain_text(
        "Called the user; travelling"
    )
    expect(page.get_by_role("button", name="Add comment")).to_be_focused()
