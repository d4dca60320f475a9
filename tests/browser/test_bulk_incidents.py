"""The queue's bulk actions in Chromium: select incidents, preview the change, Save."""

import pytest
from playwright.sync_api import Page, expect

from incidents.models import ActivityEntry, ActivityKind, Incident, IncidentStatus
from tests.factories import IncidentFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def two(workspace):
    return [
        IncidentFactory(workspace=workspace, title="Impossible travel for j.doe"),
        IncidentFactory(workspace=workspace, title="Mass download from SharePoint"),
    ]


def select(page: Page, incidents) -> None:
    for incident in incidents:
        page.get_by_role("checkbox", name=f"Select incident #{incident.number}").check()


def test_select_two_incidents_and_assign_them_to_me(
    signed_in: Page, live_server, responder, two, artifacts
):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/")
    assign = page.get_by_role("button", name="Assign owner")
    expect(assign).to_be_disabled()
    select(page, two)
    expect(assign).to_be_enabled()
    assign.click()

    dialog = page.get_by_role("dialog", name="Assign owner")
    expect(dialog).to_be_visible()
    # Assign to me is the default, and the preview shows it at once.
    expect(dialog.get_by_role("combobox", name="Owner")).to_have_value(str(responder.pk))
    for incident in two:
        expect(dialog).to_contain_text(f"#{incident.number} {incident.title}")
    expect(dialog.locator("#bulk-preview")).to_contain_text("Unassigned → responder")
    page.screenshot(path=artifacts / "bulk-assign-dialog.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("2 incidents assigned to responder.")
    for incident in two:
        expect(page.locator(f"#incident-row-{incident.number}")).to_contain_text("responder")
    assert ActivityEntry.objects.filter(kind=ActivityKind.OWNER).count() == 2


def test_close_two_incidents_with_a_classification(signed_in: Page, live_server, two, artifacts):
    page = signed_in
    page.goto(f"{live_server.url}/incidents/?status=")
    select(page, two)
    page.get_by_role("button", name="Close with classification").click()

    dialog = page.get_by_role("dialog", name="Close incidents")
    expect(dialog).to_be_visible()
    dialog.get_by_role("radio", name="False Positive – inaccurate data").check()
    preview = dialog.locator("#bulk-preview")
    expect(preview).to_contain_text("New → Closed as False Positive – inaccurate data")
    dialog.get_by_role("textbox", name="Comment").fill("Known scanner")
    page.screenshot(path=artifacts / "bulk-close-dialog.png")
    dialog.get_by_role("button", name="Save").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text(
        "2 incidents closed as False Positive – inaccurate data."
    )
    for incident in two:
        expect(page.locator(f"#incident-row-{incident.number}")).to_contain_text("Closed")
        assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.CLOSED


def test_a_refusal_keeps_save_disabled_and_changes_nothing(
    signed_in: Page, live_server, two, workspace
):
    Incident.objects.filter(pk=two[1].pk).update(status=IncidentStatus.CLOSED)
    page = signed_in
    page.goto(f"{live_server.url}/incidents/?status=")
    select(page, two)
    page.get_by_role("button", name="Change status").click()
    dialog = page.get_by_role("dialog", name="Change status")
    expect(dialog.get_by_role("alert")).to_contain_text(f"#{two[1].number} closed")
    expect(dialog.get_by_role("button", name="Save")).to_be_disabled()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert Incident.objects.get(pk=two[0].pk).status == IncidentStatus.NEW
