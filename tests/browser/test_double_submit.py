"""Double-clicking Save changes things once."""

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.factories import IncidentFactory, alert_in

pytestmark = pytest.mark.browser


def test_double_clicking_save_creates_one_incident(signed_in: Page, live_server, workspace):
    page = signed_in
    source = IncidentFactory(workspace=workspace, title="Endpoint noise")
    alert_in(source, display_name="Ransomware behaviour detected")
    alert_in(source, display_name="Benign scanner")

    page.goto(f"{live_server.url}/alerts/")
    page.get_by_role("checkbox", name="Select alert Ransomware behaviour detected").check()
    page.get_by_role("button", name="Link alerts to another incident").click()
    dialog = page.get_by_role("dialog", name="Link alert to another incident")
    dialog.get_by_role("radio", name="Create a new incident").check()
    dialog.get_by_role("button", name="Save").dblclick()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("was linked to a new incident")
    assert Incident.objects.count() == 2
    assert Incident.objects.filter(title="Ransomware behaviour detected").count() == 1
