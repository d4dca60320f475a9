"""Back after a change: the page shows what is true now, never a stored copy."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import IncidentFactory, alert_in

pytestmark = pytest.mark.browser


def test_back_after_a_move_shows_the_current_overview(signed_in: Page, live_server, workspace):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Mixed bag")
    alert_in(source, display_name="Brute force on VPN")
    alert_in(source, display_name="Unrelated DLP hit")
    target = IncidentFactory(workspace=workspace, title="Credential attacks on VPN")
    alert_in(target, display_name="VPN lockouts")

    page.goto(f"{live_server.url}/incidents/{source.number}/")
    overview = page.get_by_role("region", name="Overview")
    expect(overview.get_by_text("Brute force on VPN").first).to_be_visible()
    page.get_by_role("navigation", name="Incident sections").get_by_role(
        "link", name=re.compile("^Alerts")
    ).click()
    page.get_by_role("checkbox", name="Select alert Brute force on VPN").check()
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    dialog.get_by_role("radio", name="Link to an existing incident").check()
    dialog.get_by_role("combobox", name="Incident name or ID").fill("credential vpn")
    dialog.get_by_role("option", name=re.compile("Credential attacks on VPN")).click()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("checkbox", name="Select alert Brute force on VPN")).to_have_count(0)

    page.go_back()

    expect(page).to_have_url(f"{live_server.url}/incidents/{source.number}/")
    overview = page.get_by_role("region", name="Overview")
    expect(overview.get_by_text("Unrelated DLP hit").first).to_be_visible()
    expect(overview.get_by_text("Brute force on VPN")).to_have_count(0)


def test_back_to_an_unfiltered_queue_shows_its_filters_as_they_were(
    signed_in: Page, live_server, workspace
):
    page = signed_in
    IncidentFactory(workspace=workspace, title="Quiet one", severity="Low")
    page.goto(f"{live_server.url}/incidents/")
    filters = page.get_by_role("search", name="Filter incidents")
    filters.get_by_label("Severity").select_option("High")
    filters.get_by_label("Search title or number").fill("nothing like it")
    filters.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"severity=High"))
    expect(page.get_by_role("link", name="Quiet one")).to_have_count(0)

    page.go_back()

    expect(page).to_have_url(f"{live_server.url}/incidents/")
    expect(page.get_by_role("link", name="Quiet one")).to_be_visible()
    expect(filters.get_by_label("Severity")).to_have_value("")
    expect(filters.get_by_label("Search title or number")).to_have_value("")

    page.go_forward()

    expect(filters.get_by_label("Severity")).to_have_value("High")
    expect(filters.get_by_label("Search title or number")).to_have_value("nothing like it")
