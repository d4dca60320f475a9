"""The queue's incident details panel and the Overview's in-place edits, in real Chromium
under a strict CSP (console errors fail the test)."""

import pytest
from playwright.sync_api import Page, expect

from incidents.models import ActivityKind, Incident
from tests.factories import EntityFactory, IncidentFactory, activity_of, alert_in

pytestmark = pytest.mark.browser


@pytest.fixture
def incidents(workspace):
    host = EntityFactory(workspace=workspace, kind="host", identifier="mb-winclient")
    account = EntityFactory(workspace=workspace, kind="account", identifier="bjenkins")
    attack = IncidentFactory(workspace=workspace, title="Multi-stage attack on mb-winclient")
    for name, tactics, techniques in [
        ("Suspicious PowerShell command line", ["Execution"], ["T1059.001"]),
        ("Credential dumping", ["CredentialAccess"], ["T1003"]),
        ("Phishing link clicked", ["InitialAccess"], ["T1566.002"]),
    ]:
        alert = alert_in(attack, display_name=name, tactics=tactics, techniques=techniques)
        alert.entities.add(host, account)
    other = IncidentFactory(workspace=workspace, title="Unusual sign-in for bjenkins")
    alert_in(other, display_name="Impossible travel", tactics=["InitialAccess"]).entities.add(
        account
    )
    return attack, other


def test_selecting_a_row_opens_the_details_panel_beside_the_queue(
    signed_in: Page, live_server, incidents, artifacts
):
    page = signed_in
    attack, _ = incidents
    page.goto(f"{live_server.url}/incidents/")
    row = page.locator(f"#incident-row-{attack.number}")
    row.get_by_role("cell").nth(4).click()  # the severity cell: not a link
    panel = page.get_by_role("complementary", name="Incident details")
    expect(panel.get_by_role("heading", name=attack.title)).to_be_focused()
    expect(page).to_have_url(f"{live_server.url}/incidents/")  # still the queue
    expect(panel.get_by_role("link", name="Execution")).to_have_attribute(
        "href", "https://attack.mitre.org/tactics/TA0002/"
    )
    expect(panel.get_by_role("link", name="bjenkins")).to_be_visible()
    expect(panel.get_by_text("Credential dumping")).to_be_visible()
    expect(row).to_have_attribute("aria-current", "true")
    page.screenshot(path=artifacts / "queue-details-panel.png")

    # Assign to me from the panel: the panel and the queue row both say so.
    panel.get_by_role("button", name="Assign to me").click()
    expect(panel.get_by_text("responder", exact=True)).to_be_visible()
    expect(row.get_by_role("cell", name="responder")).to_be_visible()
    expect(page.locator(f"#incident-row-{attack.number}")).to_have_attribute("aria-current", "true")
    attack.refresh_from_db()
    assert attack.owner.get_username() == "responder"

    # Close the panel: focus returns to the row.
    panel.get_by_role("button", name="Close incident details").click()
    expect(panel).to_be_hidden()
    expect(page.locator(f"#incident-row-{attack.number}")).to_be_focused()


def test_enter_on_a_row_opens_the_panel_and_view_full_details_opens_the_page(
    signed_in: Page, live_server, incidents
):
    page = signed_in
    _, other = incidents
    page.goto(f"{live_server.url}/incidents/")
    page.locator(f"#incident-row-{other.number}").focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("complementary", name="Incident details")
    expect(panel.get_by_role("heading", name=other.title)).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    page.locator(f"#incident-row-{other.number}").press("Enter")
    panel.get_by_role("link", name="View full details").click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{other.number}/")


def test_the_title_link_still_opens_the_incident_page(signed_in: Page, live_server, incidents):
    page = signed_in
    attack, _ = incidents
    page.goto(f"{live_server.url}/incidents/")
    page.get_by_role("link", name=attack.title).click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{attack.number}/")
    expect(page.get_by_role("complementary", name="Incident details")).to_have_count(0)


def test_severity_and_labels_are_edited_on_the_overview(
    signed_in: Page, live_server, incidents, artifacts
):
    page = signed_in
    attack, other = incidents
    page.goto(f"{live_server.url}/incidents/{attack.number}/")
    similar = page.locator("#similar-incidents")
    expect(similar.get_by_role("link", name=f"#{other.number} {other.title}")).to_be_visible()
    expect(similar).to_contain_text("1 shared entity: bjenkins")

    page.get_by_label("Severity", exact=True).select_option("High")
    page.get_by_role("button", name="Set severity").click()
    expect(page.get_by_role("status")).to_contain_text("is now of High severity")
    expect(page.locator(".incident-head .sev")).to_have_text("High")

    page.get_by_label("New label").fill("ransomware")
    page.get_by_label("New label").press("Enter")
    expect(page.get_by_role("button", name="Remove label ransomware")).to_be_visible()
    page.get_by_label("New label").fill("VIP")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("button", name="Remove label VIP")).to_be_visible()
    page.screenshot(path=artifacts / "incident-overview.png", full_page=True)

    page.get_by_role("button", name="Remove label ransomware").click()
    expect(page.get_by_role("button", name="Remove label ransomware")).to_have_count(0)
    attack = Incident.objects.get(pk=attack.pk)
    assert attack.severity == "High"
    assert attack.labels == ["VIP"]
    assert len(activity_of(attack, ActivityKind.LABELS)) == 3


def test_similar_incidents_load_once_while_the_overview_refreshes(
    signed_in: Page, live_server, incidents
):
    page = signed_in
    attack, other = incidents
    asked = []
    page.on("request", lambda r: "/similar/" in r.url and asked.append(r.url))
    page.goto(f"{live_server.url}/incidents/{attack.number}/")
    similar = page.locator("#similar-incidents")
    expect(similar.get_by_role("link", name=f"#{other.number} {other.title}")).to_be_visible()
    page.get_by_label("New label").fill("VIP")
    page.get_by_label("New label").press("Enter")
    expect(page.get_by_role("button", name="Remove label VIP")).to_be_visible()
    expect(similar.get_by_role("link", name=f"#{other.number} {other.title}")).to_be_visible()
    assert len(asked) == 1
