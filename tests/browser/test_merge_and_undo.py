"""Merge incidents from the queue and from an incident's header; Undo a move and a merge."""

import re

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Alert, Incident, IncidentStatus
from tests.factories import IncidentFactory, alert_in

pytestmark = pytest.mark.browser


def alerts_named(incident: Incident) -> set[str]:
    return set(
        Alert.objects.filter(relations__incident=incident).values_list("display_name", flat=True)
    )


@pytest.fixture
def spray(workspace):
    incident = IncidentFactory(workspace=workspace, title="Password spray")
    alert_in(incident, display_name="Password spray from 203.0.113.7")
    return incident


@pytest.fixture
def spray_again(workspace):
    incident = IncidentFactory(workspace=workspace, title="Password spray, second wave")
    alert_in(incident, display_name="Password spray from 203.0.113.9")
    alert_in(incident, display_name="Account lockouts")
    return incident


def test_merge_two_incidents_from_the_queue_then_see_the_banner(
    signed_in: Page, live_server, spray, spray_again, artifacts
):
    page = signed_in
    # Every status, so the merged incident stays in view (the default shows open ones).
    page.goto(f"{live_server.url}/incidents/?status=")
    merge = page.get_by_role("button", name="Merge incidents")
    expect(merge).to_be_disabled()
    page.get_by_role("checkbox", name=f"Select incident #{spray.number}").check()
    expect(merge).to_be_disabled()
    page.get_by_role("checkbox", name=f"Select incident #{spray_again.number}").check()
    expect(merge).to_be_enabled()
    merge.click()

    dialog = page.get_by_role("dialog", name="Merge incidents")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("radio", name=re.compile(f"#{spray.number} "))).to_be_checked()
    expect(dialog).to_contain_text("2 alerts will join")
    # Choosing the other target refreshes the preview.
    dialog.get_by_role("radio", name=re.compile(f"#{spray_again.number} ")).check()
    expect(dialog).to_contain_text("1 alert will join")
    dialog.get_by_role("radio", name=re.compile(f"#{spray.number} ")).check()
    expect(dialog).to_contain_text("2 alerts will join")
    dialog.get_by_role("textbox", name="Reason").fill("The same spray, in two waves")
    page.screenshot(path=artifacts / "merge-dialog.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    status = page.get_by_role("status")
    expect(status).to_contain_text(f"Merged #{spray_again.number} into incident #{spray.number}")
    expect(status.get_by_role("button", name="Undo")).to_be_visible()
    row = page.locator(f"#incident-row-{spray_again.number}")
    expect(row).to_contain_text("Closed")
    expect(row).to_contain_text("Merged")
    page.screenshot(path=artifacts / "merge-done.png")
    assert alerts_named(spray) == {
        "Password spray from 203.0.113.7",
        "Password spray from 203.0.113.9",
        "Account lockouts",
    }

    row.get_by_role("link", name=f"#{spray_again.number}").click()
    banner = page.get_by_role("note")
    expect(banner).to_contain_text(f"Merged into #{spray.number} Password spray")
    page.screenshot(path=artifacts / "merge-banner.png")
    banner.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{spray.number}/")


def test_merge_into_another_incident_from_the_header_then_undo_it(
    signed_in: Page, live_server, spray, spray_again, artifacts
):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{spray_again.number}/")
    page.get_by_role("button", name="Merge into another incident…").click()
    dialog = page.get_by_role("dialog", name="Merge into another incident")
    field = dialog.get_by_role("combobox", name="Incident name or ID")
    field.fill(str(spray.number))
    option = dialog.get_by_role("option", name=re.compile(f"#{spray.number} Password spray"))
    expect(option).to_be_visible()
    option.click()
    expect(dialog).to_contain_text("2 alerts will join")
    dialog.get_by_role("textbox", name="Reason").fill("Same attacker")
    dialog.get_by_role("button", name="Save").click()

    status = page.get_by_role("status")
    expect(status).to_contain_text(f"into incident #{spray.number}")
    expect(page.get_by_role("note")).to_contain_text(f"Merged into #{spray.number}")
    status.get_by_role("button", name="Undo").click()

    expect(status).to_contain_text("Undone:")
    expect(page.get_by_role("note")).to_have_count(0)
    page.screenshot(path=artifacts / "merge-undone.png")
    spray_again.refresh_from_db()
    assert spray_again.status != IncidentStatus.CLOSED
    assert spray_again.merged_into is None
    assert alerts_named(spray_again) == {"Password spray from 203.0.113.9", "Account lockouts"}


def test_move_alerts_then_undo_from_the_notification(
    signed_in: Page, live_server, spray, spray_again, artifacts
):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{spray_again.number}/alerts/")
    page.get_by_role("checkbox", name="Select alert Account lockouts").check()
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    dialog.get_by_role("radio", name="Create a new incident").check()
    dialog.get_by_role("button", name="Save").click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("was linked to a new incident")
    expect(page.get_by_role("link", name="Account lockouts", exact=True)).to_have_count(0)
    status.get_by_role("button", name="Undo").click()

    expect(status).to_contain_text("Undone: Alert “Account lockouts” linked to new incident")
    expect(page.get_by_role("link", name="Account lockouts", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "move-undone.png")
    created = Incident.objects.get(title="Account lockouts")
    assert created.status == IncidentStatus.CLOSED
    assert alerts_named(spray_again) == {"Password spray from 203.0.113.9", "Account lockouts"}


def test_the_activity_tab_offers_undo_for_the_latest_change(
    signed_in: Page, live_server, spray, spray_again, artifacts
):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{spray_again.number}/alerts/")
    page.get_by_role("checkbox", name="Select alert Account lockouts").check()
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    dialog.get_by_role("radio", name="Link to an existing incident").check()
    field = dialog.get_by_role("combobox", name="Incident name or ID")
    field.fill(str(spray.number))
    dialog.get_by_role("option", name=re.compile(f"#{spray.number} ")).click()
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("was linked to incident")
    # The Alerts tab has refreshed itself without the alert.
    expect(page.get_by_role("link", name="Account lockouts", exact=True)).to_have_count(0)

    page.get_by_role("link", name="Activity").click()
    log = page.get_by_role("region", name="Activity")
    undo = log.get_by_role("button", name="Undo")
    expect(undo).to_have_count(1)
    expect(log.get_by_role("listitem").first).to_contain_text("Account lockouts")
    page.screenshot(path=artifacts / "activity-undo.png")
    undo.click()
    expect(page.get_by_role("status")).to_contain_text("Undone:")
    expect(log.get_by_role("listitem").first).to_contain_text("responder undid")
    expect(log.get_by_role("button", name="Undo")).to_have_count(0)
    assert "Account lockouts" in alerts_named(spray_again)
