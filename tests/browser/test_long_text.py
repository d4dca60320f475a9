"""Long comments in Chromium under a strict CSP: folded with "Show more", unfolded by it,
and Markdown shown as formatting, not markup; the Defender XDR link and refusals."""

import re

import pytest
from playwright.sync_api import Page, expect

from incidents import actions
from incidents.activity import Actor
from tests.factories import DEFENDER, IncidentFactory, defender_alert_in

pytestmark = pytest.mark.browser

FOLDED = re.compile(r"\bfolded\b")
# Whether the element hides some of its content (it is folded).
CUT_OFF = "body => body.scrollHeight > body.clientHeight + 1"
LONG_COMMENT = "\n".join(f"Step {n}: checked **host-{n}**" for n in range(1, 13))


def test_a_long_comment_shows_more_on_demand(signed_in: Page, live_server, workspace, responder):
    incident = IncidentFactory(workspace=workspace, title="Credential theft")
    actions.add_comment(incident, LONG_COMMENT, actor=Actor.for_user(responder))
    actions.add_comment(incident, "Short one, <i>not</i> *italic*", actor=Actor.for_user(responder))
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    comments = page.get_by_role("region", name="Comments")

    expect(comments.get_by_role("button", name="Show more")).to_have_count(1)  # Not the short one.
    button = comments.locator(".long-text-toggle")
    expect(button).to_have_attribute("aria-expanded", "false")
    body = comments.locator(".long-text-body")
    expect(body).to_have_class(FOLDED)
    assert body.evaluate(CUT_OFF), "the folded comment shows every line"
    expect(body.locator("strong").first).to_have_text("host-1")
    expect(body.locator("strong").first).to_be_visible()
    expect(comments.get_by_text("Short one, <i>not</i>")).to_be_visible()
    expect(comments.locator("em", has_text="italic")).to_be_visible()

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(button).to_have_text("Show less")
    expect(body).not_to_have_class(FOLDED)
    assert not body.evaluate(CUT_OFF), "the unfolded comment still hides lines"
    expect(comments.locator("strong", has_text="host-12")).to_be_in_viewport()

    button.click()
    expect(button).to_have_accessible_name("Show more")
    expect(body).to_have_class(FOLDED)
    expect(button).to_be_focused()


def test_a_defender_incident_links_to_the_portal_and_disables_remove(
    signed_in: Page, live_server, workspace
):
    incident = IncidentFactory(
        workspace=workspace, provider_name=DEFENDER, provider_incident_id="9"
    )
    defender_alert_in(incident, display_name="Ransomware behavior detected")
    page = signed_in
    page.goto(f"{live_server.url}/incidents/{incident.number}/")
    link = page.get_by_role("link", name="9 in Microsoft Defender XDR (opens a new tab)")
    expect(link).to_have_attribute("href", "https://security.microsoft.com/incidents/9")
    page.get_by_role("button", name="More actions for Ransomware behavior detected").click()
    remove = page.get_by_role("menuitem", name="Remove alert")
    expect(remove).to_be_focused()
    expect(remove).to_have_attribute("aria-disabled", "true")
    expect(remove).to_have_accessible_description(
        "Microsoft Defender XDR alerts cannot be removed from Microsoft Defender XDR incidents "
        "here: Microsoft Defender XDR correlates its own alerts. Make this change in Microsoft "
        "Defender XDR itself (alert “Ransomware behavior detected”, incident "
        f"#{incident.number})."
    )
    page.keyboard.press("Enter")  # Nothing opens.
    expect(page.locator("#flyout")).not_to_be_visible()
