"""The seed's flow end to end: "Link alerts to another incident" from every place it starts."""

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


def expect_notification(page: Page, text: str, number: int) -> None:
    status = page.get_by_role("status")
    expect(status).to_contain_text(text)
    expect(status.get_by_role("link", name=f"Open incident #{number}")).to_have_attribute(
        "href", f"/incidents/{number}/"
    )


def expect_activity(page: Page, base: str, incident: Incident, *texts: str) -> None:
    page.goto(f"{base}/incidents/{incident.number}/activity/")
    log = page.get_by_role("region", name="Activity")
    for text in texts:
        expect(log).to_contain_text(text)


def expect_alerts_tab(page: Page, base: str, incident: Incident, *names: str) -> None:
    page.goto(f"{base}/incidents/{incident.number}/alerts/")
    for name in names:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


def pick_incident(page: Page, typed: str, option_name: re.Pattern) -> None:
    """Type into "Incident name or ID" and choose the match with the keyboard."""
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("radio", name="Link to an existing incident").check()
    field = dialog.get_by_role("combobox", name="Incident name or ID")
    field.fill(typed)
    option = dialog.get_by_role("option", name=option_name)
    expect(option).to_be_visible()
    field.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    field.press("Enter")
    expect(dialog.get_by_role("listbox")).to_be_hidden()


def test_from_the_incidents_queue(signed_in: Page, live_server, workspace, artifacts):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Suspicious logins")
    for name in ("Impossible travel", "Unfamiliar sign-in", "MFA fatigue"):
        alert_in(source, display_name=name)
    target = IncidentFactory(workspace=workspace, title="Phishing campaign")
    alert_in(target, display_name="Phishing mail delivered")

    page.goto(f"{live_server.url}/incidents/")
    page.get_by_role("button", name=f"Show alerts for incident #{source.number}").click()
    expansion = page.locator(f"#expansion-{source.number}")
    link = expansion.get_by_role("button", name="Link alerts to another incident")
    expect(link).to_be_disabled()
    expansion.get_by_role("checkbox", name="Select alert Impossible travel").check()
    expansion.get_by_role("checkbox", name="Select alert MFA fatigue").check()
    expect(link).to_be_enabled()
    page.screenshot(path=artifacts / "incidents-queue-expanded.png")
    link.click()

    dialog = page.get_by_role("dialog", name="Link multiple alerts to another incident")
    expect(dialog).to_be_visible()
    pick_incident(page, str(target.number), re.compile(f"#{target.number} Phishing campaign"))
    expect(dialog.get_by_role("combobox", name="Incident name or ID")).to_have_value(
        f"#{target.number} Phishing campaign"
    )
    dialog.get_by_role("textbox", name="Comment").fill("Same actor as the phishing campaign")
    page.screenshot(path=artifacts / "flyout-incidents-queue.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    expect_notification(page, f"2 alerts were linked to incident #{target.number}", target.number)
    # The queue refreshed itself, with the row still expanded.
    expect(page.locator(f"#incident-row-{source.number} td.count")).to_have_text("1")
    expect(
        expansion.get_by_role("checkbox", name="Select alert Unfamiliar sign-in")
    ).to_be_visible()
    expect(expansion.get_by_role("checkbox", name="Select alert MFA fatigue")).to_have_count(0)

    assert alerts_named(target) == {"Phishing mail delivered", "Impossible travel", "MFA fatigue"}
    expect_alerts_tab(page, live_server.url, target, "Impossible travel", "MFA fatigue")
    expect_activity(
        page,
        live_server.url,
        target,
        # One entry for the two alerts, which its list names.
        f"2 alerts moved in from #{source.number} by responder: ",
        "Impossible travel",
        "Same actor as the phishing campaign",
    )
    expect_activity(
        page,
        live_server.url,
        source,
        f"2 alerts moved out to #{target.number} by responder: ",
        "MFA fatigue",
    )


def test_from_the_alerts_queue_to_a_new_incident(
    signed_in: Page, live_server, workspace, artifacts
):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Endpoint noise")
    alert_in(source, display_name="Ransomware behaviour detected")
    alert_in(source, display_name="Benign scanner")

    page.goto(f"{live_server.url}/alerts/")
    page.get_by_role("checkbox", name="Select alert Ransomware behaviour detected").check()
    page.screenshot(path=artifacts / "alerts-queue.png")
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    dialog.get_by_role("radio", name="Create a new incident").check()
    expect(dialog.get_by_role("combobox", name="Incident name or ID")).to_be_hidden()
    dialog.get_by_role("textbox", name="Comment").fill("Ransomware deserves its own incident")
    page.screenshot(path=artifacts / "flyout-alerts-queue.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    created = Incident.objects.get(title="Ransomware behaviour detected")
    expect_notification(
        page,
        f"Alert “Ransomware behaviour detected” was linked to a new incident #{created.number}",
        created.number,
    )
    # The list refreshed: the alert now names its new incident.
    expect(page.get_by_role("link", name=f"#{created.number}", exact=True)).to_be_visible()
    expect_alerts_tab(page, live_server.url, created, "Ransomware behaviour detected")
    expect_activity(
        page,
        live_server.url,
        created,
        "correlated with this incident by responder, moved from #1.",
        "Ransomware deserves its own incident",
    )
    expect_activity(page, live_server.url, source, f"linked to #{created.number} by responder")


def test_from_the_incident_alerts_tab(signed_in: Page, live_server, workspace, artifacts):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Mixed bag")
    alert_in(source, display_name="Brute force on VPN")
    alert_in(source, display_name="Password spray")
    alert_in(source, display_name="Unrelated DLP hit")
    target = IncidentFactory(workspace=workspace, title="Credential attacks on VPN")
    alert_in(target, display_name="VPN lockouts")

    page.goto(f"{live_server.url}/incidents/{source.number}/alerts/")
    page.get_by_role("checkbox", name=f"Select all alerts of incident #{source.number}").check()
    page.get_by_role("checkbox", name="Select alert Unrelated DLP hit").uncheck()
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link multiple alerts to another incident")
    dialog.get_by_role("radio", name="Link to an existing incident").check()
    dialog.get_by_role("combobox", name="Incident name or ID").fill("credential vpn")
    dialog.get_by_role("option", name=re.compile("Credential attacks on VPN")).click()
    dialog.get_by_role("textbox", name="Comment").fill("Both belong to the VPN attack")
    page.screenshot(path=artifacts / "flyout-alerts-tab.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    expect_notification(page, f"2 alerts were linked to incident #{target.number}", target.number)
    # The tab refreshed itself: only the alert that stayed is listed.
    expect(page.get_by_role("checkbox", name="Select alert Unrelated DLP hit")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Select alert Password spray")).to_have_count(0)
    tabs = page.get_by_role("navigation", name="Incident sections")
    expect(tabs.get_by_role("link", name="Alerts 1")).to_be_visible()

    expect_alerts_tab(page, live_server.url, target, "Brute force on VPN", "Password spray")
    expect_activity(
        page,
        live_server.url,
        target,
        f"2 alerts moved in from #{source.number} by responder: ",
        "Password spray",
        "Both belong to the VPN attack",
    )
    expect_activity(
        page,
        live_server.url,
        source,
        f"2 alerts moved out to #{target.number} by responder: ",
        "Brute force on VPN",
    )


def test_from_the_alert_page_closing_the_emptied_incident(
    signed_in: Page, live_server, workspace, artifacts
):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Lone alert")
    alert = alert_in(source, display_name="Malicious OAuth app consent")
    target = IncidentFactory(workspace=workspace, title="Cloud app abuse")
    alert_in(target, display_name="Mass download by app")

    page.goto(f"{live_server.url}/alerts/{alert.system_alert_id}/")
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    pick_incident(page, f"#{target.number}", re.compile("Cloud app abuse"))
    expect(dialog).to_contain_text("This incident will have no alerts left")
    emptied = dialog.locator(f'[data-emptied-incident="{source.number}"]')
    expect(emptied).to_contain_text("“Lone alert”")
    # Close is chosen already, as in Sentinel.
    expect(emptied.get_by_role("radio", name="Close other incident")).to_be_checked()
    dialog.get_by_role("textbox", name="Comment").fill("Part of the app abuse")
    page.screenshot(path=artifacts / "flyout-alert-page.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    expect_notification(
        page,
        f"Alert “Malicious OAuth app consent” was linked to incident #{target.number}",
        target.number,
    )
    incidents = page.get_by_role("region", name="Incidents")
    expect(incidents).to_contain_text(f"#{target.number} Cloud app abuse")
    expect(incidents).not_to_contain_text("Lone alert")

    source.refresh_from_db()
    assert source.status == IncidentStatus.CLOSED
    expect_alerts_tab(page, live_server.url, target, "Malicious OAuth app consent")
    expect_activity(
        page,
        live_server.url,
        target,
        "Alert “Malicious OAuth app consent” was correlated with this incident by responder",
        "Part of the app abuse",
    )
    expect_activity(
        page,
        live_server.url,
        source,
        f"linked to #{target.number} by responder",
        f"Alert was added to another incident #{target.number}.",
    )


def test_a_refusal_is_previewed_before_save_and_changes_nothing(
    signed_in: Page, live_server, workspace, settings, artifacts
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Source")
    alert_in(source, display_name="First")
    alert_in(source, display_name="Second")
    target = IncidentFactory(workspace=workspace, title="Nearly full")
    alert_in(target, display_name="Already here")

    page.goto(f"{live_server.url}/incidents/{source.number}/alerts/")
    page.get_by_role("checkbox", name=f"Select all alerts of incident #{source.number}").check()
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link multiple alerts to another incident")
    pick_incident(page, str(target.number), re.compile("Nearly full"))

    # The preview says what the move would do, and Save waits for a target with room.
    expect(dialog).to_contain_text("2 alerts will join")
    expect(dialog.get_by_role("alert")).to_contain_text("would pass the limit of 2 alerts")
    expect(dialog.get_by_role("button", name="Save")).to_be_disabled()
    page.screenshot(path=artifacts / "link-refusal-previewed.png")
    expect(dialog).to_be_visible()
    assert alerts_named(target) == {"Already here"}
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Link alerts to another incident")).to_be_focused()


def test_linking_into_a_closed_incident_reopens_it_when_asked(
    signed_in: Page, live_server, workspace, artifacts
):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Beacon")
    alert_in(source, display_name="Keep me")
    alert = alert_in(source, display_name="Beacon to known C2")
    target = IncidentFactory(
        workspace=workspace,
        title="C2 traffic",
        status=IncidentStatus.CLOSED,
        classification="Undetermined",
    )
    alert_in(target, display_name="Earlier beacon")

    page.goto(f"{live_server.url}/alerts/{alert.system_alert_id}/")
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    pick_incident(page, f"#{target.number}", re.compile("C2 traffic"))
    expect(dialog).to_contain_text(f"#{target.number} is closed")
    expect(dialog.get_by_role("checkbox", name="Reopen it")).to_be_checked()
    page.screenshot(path=artifacts / "flyout-closed-target.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    target.refresh_from_db()
    assert target.status == IncidentStatus.ACTIVE
    expect_activity(
        page, live_server.url, target, "responder reopened the incident to link alerts to it"
    )
