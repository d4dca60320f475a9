"""Alerts ingested from the sample file, looked at in real Chromium as an analyst would."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from incidents.models import Alert, Incident

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "security_alerts.jsonl"


@pytest.fixture
def ingested(workspace):
    call_command("ingest_alerts", "--workspace", workspace.name, str(SAMPLE), verbosity=0)


def test_a_defender_incident_shows_its_alerts_and_their_entities(
    signed_in: Page, live_server, ingested, artifacts
):
    page = signed_in
    incident = (
        Incident.objects.filter(provider_name="Microsoft Defender XDR")
        .order_by("-alert_count", "number")
        .first()
    )
    assert incident.alert_count > 2

    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(incident.title)
    expect(page.get_by_text("Microsoft Defender XDR").first).to_be_visible()
    page.screenshot(path=artifacts / "ingested-incident.png", full_page=True)

    page.get_by_role("navigation", name="Incident sections").get_by_role(
        "link", name="Entities"
    ).click()
    expect(page).to_have_url(re.compile(r"/entities/$"))
    # Hosts spelt differently by different products are one entity.
    expect(page.get_by_role("table").first).to_be_visible()
    page.screenshot(path=artifacts / "ingested-entities.png", full_page=True)


def test_the_alert_page_shows_what_came_from_the_source(
    signed_in: Page, live_server, ingested, artifacts
):
    page = signed_in
    alert = Alert.objects.filter(provider_name="MDATP").order_by("pk").first()
    assert alert.source_fields["AlertLink"].startswith("https://")

    page.goto(f"{live_server.url}/alerts/{alert.system_alert_id}/")

    source = page.get_by_role("heading", name="From the source")
    expect(source).to_be_visible()
    link = page.get_by_role("link", name=alert.source_fields["AlertLink"])
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(page.get_by_text("ProcessingEndTime", exact=True)).to_be_visible()
    page.screenshot(path=artifacts / "ingested-alert.png", full_page=True)
