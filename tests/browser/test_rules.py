"""A contributor creates a correlation rule through its form, tests it and sees the groups;
enabling, disabling and reordering happen in place."""

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Alert, CorrelationRule, Role
from tests.browser.conftest import signed_in_as
from tests.factories import MembershipFactory, UserFactory, incident_with_alerts

pytestmark = pytest.mark.browser


@pytest.fixture
def contributor(workspace):
    user = UserFactory(username="contributor")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


@pytest.fixture
def as_contributor(page: Page, live_server, contributor):
    """The page, signed in as a contributor (see `signed_in_as`)."""
    yield from signed_in_as(page, live_server, contributor)


@pytest.fixture
def powershell(workspace):
    """Three PowerShell alerts, each alone in its incident, and one other alert."""
    incidents = [incident_with_alerts(1, workspace=workspace) for _ in range(3)]
    other = incident_with_alerts(1, workspace=workspace)
    Alert.objects.filter(relations__incident=other).update(display_name="Impossible travel")
    return incidents


def test_a_contributor_creates_a_rule_tests_it_and_sees_the_groups(
    as_contributor: Page, live_server, powershell, artifacts
):
    page = as_contributor
    page.goto(f"{live_server.url}/incidents/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rules").click()
    page.get_by_role("link", name="New rule").click()

    page.get_by_role("textbox", name="Name", exact=True).fill("PowerShell storm")
    page.get_by_role("textbox", name="Alert name contains").fill("PowerShell")
    page.get_by_role("radio", name="Alerts that match on the selected entities and details").check()
    page.get_by_role("textbox", name="Window").fill("2 weeks")
    page.get_by_role("button", name="Save").click()
    # Refused in place, with the reasons, and nothing typed is lost.
    expect(page.get_by_text("The rule was not saved")).to_be_visible()
    expect(page.get_by_text("“Selected” needs at least one entity kind")).to_be_visible()
    expect(page.get_by_text("Write the window as a number of minutes")).to_be_visible()
    expect(page.get_by_role("textbox", name="Alert name contains")).to_have_value("PowerShell")

    page.get_by_role("radio", name="All matching alerts into one incident").check()
    page.get_by_role("textbox", name="Window").fill("2h")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="PowerShell storm", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Rule “PowerShell storm” was created.")
    expect(page.get_by_text("Created the rule")).to_be_visible()
    assert CorrelationRule.objects.get().window.total_seconds() == 7200

    page.get_by_role("link", name="Test rule").click()
    expect(page.get_by_text("4 alerts of the last 7 days tested.")).to_be_visible()
    expect(page.get_by_text("3 alerts would form 1 group: 1 new incident")).to_be_visible()
    group = page.get_by_role("region", name="Group for a new incident")
    expect(group.get_by_role("row")).to_have_count(4)  # the header and three alerts
    expect(page.get_by_role("heading", name="Alerts no rule takes")).to_be_visible()
    page.get_by_label("Alerts of").select_option("24h")
    page.get_by_role("button", name="Run test").click()
    expect(page.get_by_text("4 alerts of the last 24 hours tested.")).to_be_visible()
    page.screenshot(path=artifacts / "rule-test.png", full_page=True)


def test_rules_are_disabled_and_reordered_in_place(as_contributor: Page, live_server, workspace):
    for order, name in enumerate(["First", "Second"], start=1):
        CorrelationRule.objects.create(workspace=workspace, name=name, order=order * 10)
    page = as_contributor
    page.goto(f"{live_server.url}/rules/")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Disable rule First").click()
    expect(page.get_by_role("status").filter(has_text="is disabled")).to_be_visible()
    expect(page.get_by_role("button", name="Enable rule First")).to_be_visible()
    page.get_by_role("button", name="Move rule Second up").click()
    expect(page.get_by_role("row").nth(1)).to_contain_text("Second")
    expect(page.get_by_role("button", name="Move rule Second up")).to_be_disabled()
    assert page.evaluate("window.notReloaded") is True
    assert not CorrelationRule.objects.get(name="First").enabled


def test_a_contributors_rule_groups_an_ingested_file_and_the_alerts_tab_says_why(
    as_contributor: Page, live_server, workspace, tmp_path, artifacts
):
    import json

    from django.core.management import call_command

    from incidents.models import Incident
    from tests.ingest.builders import account, host, row

    page = as_contributor
    page.goto(f"{live_server.url}/rules/new/")
    page.get_by_role("textbox", name="Name", exact=True).fill("Same host (24 h)")
    page.get_by_role(
        "radio", name="Alerts that share a strong entity of the selected kinds"
    ).check()
    grouping = page.get_by_role("group", name="Grouping")
    grouping.get_by_role("checkbox", name="Host", exact=True).check()
    page.get_by_role("textbox", name="Window").fill("24h")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Same host (24 h)", level=1)).to_be_visible()

    rows = [
        row(DisplayName=name, AlertName=name, entities=[host("mb-winclient"), account(user)])
        for name, user in [
            ("Suspicious PowerShell", "bjenkins"),
            ("Credential dumping", "bjenkins"),
            ("Unfamiliar sign-in", "mlopez"),
        ]
    ]
    path = tmp_path / "alerts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    call_command("ingest_alerts", "--workspace", workspace.name, str(path), verbosity=0)
    assert CorrelationRule.objects.get().entity_kinds == ["host"]
    (incident,) = Incident.objects.all()

    page.goto(f"{live_server.url}/incidents/{incident.number}/alerts/")
    table = page.get_by_role("table", name=f"Alerts of incident #{incident.number}")
    for name in ("Suspicious PowerShell", "Credential dumping", "Unfamiliar sign-in"):
        alert_row = table.get_by_role("row").filter(has_text=name)
        expect(alert_row).to_contain_text("Same host (24 h)")
        expect(alert_row).to_contain_text("same host mb-winclient.niseko.example")
        expect(alert_row).not_to_contain_text("same account")
    expect(table.get_by_role("link", name="Same host (24 h)").first).to_have_attribute(
        "href", f"/rules/{CorrelationRule.objects.get().pk}/"
    )
    page.screenshot(path=artifacts / "alerts-tab-why.png", full_page=True)
