"""After sign-out, the browser keeps no copy of the incidents seen (htmx history cache)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import IncidentFactory, alert_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def session_storage(page: Page) -> dict[str, str]:
    return page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))")


def test_signing_out_leaves_no_incident_in_session_storage(
    page: Page, live_server, workspace, responder
):
    incident = IncidentFactory(workspace=workspace, title="Wire transfer fraud at ACME")
    alert_in(incident, display_name="Mailbox rule forwards invoices")

    page.goto(f"{live_server.url}/accounts/login/?next=/incidents/{incident.number}/")
    page.get_by_label("Username").fill("responder")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Wire transfer fraud"))).to_be_visible()
    # Tabs are htmx requests that push a history entry: what htmx would snapshot.
    tabs = page.get_by_role("navigation", name="Incident sections")
    tabs.get_by_role("link", name=re.compile("^Alerts")).click()
    expect(page).to_have_url(re.compile(r"/alerts/$"))
    tabs.get_by_role("link", name=re.compile("^Activity")).click()
    expect(page).to_have_url(re.compile(r"/activity/$"))

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    stored = session_storage(page)
    assert "htmx-history-cache" not in stored
    assert not [key for key, value in stored.items() if "Wire transfer fraud" in value]
    assert not [key for key, value in stored.items() if "Mailbox rule" in value]
