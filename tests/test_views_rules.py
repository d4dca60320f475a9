"""Correlation rules pages: /rules/ (enable, disable, reorder), the rule form, the rule
page and its change log, and "Test rule" (a dry run that changes nothing)."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incidents.models import (
    ActivityEntry,
    Alert,
    CorrelationRule,
    GroupingMethod,
    Incident,
    MembershipChange,
    Relation,
    Role,
    RuleChange,
    Workspace,
)
from incidents.rules import dryrun
from incidents.rules.engine import window_text
from incidents.rules.facts import Excluded
from incidents.rules.grouping import grouping
from tests.factories import (
    AlertFactory,
    MembershipFactory,
    UserFactory,
    incident_with_alerts,
)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def contributor(workspace):
    user = UserFactory(username="contributor")
    MembershipFactory(workspace=workspace, user=user, role=Role.CONTRIBUTOR)
    return user


def make_rule(workspace, name: str, order: int, **fields) -> CorrelationRule:
    fields.setdefault("method", GroupingMethod.ANY_ALERT)
    return CorrelationRule.objects.create(workspace=workspace, name=name, order=order, **fields)


@pytest.fixture
def rules(workspace):
    return [
        make_rule(workspace, "PowerShell storm", 10, name_contains="PowerShell"),
        make_rule(
            workspace,
            "Same user or host",
            20,
            method=GroupingMethod.SHARED_ENTITY,
            entity_kinds=["account", "host"],
            window=dt.timedelta(hours=24),
        ),
        make_rule(workspace, "Same entities", 30, method=GroupingMethod.ALL_ENTITIES),
    ]


@pytest.fixture
def rule(rules):
    return rules[0]


def valid_form(**overrides) -> dict:
    data = {
        "name": "Phishing wave",
        "description": "Mail alerts of one campaign",
        "enabled": "on",
        "name_contains": "phish",
        "product_names": "Microsoft Defender for Office 365, Microsoft Defender XDR",
        "min_severity": "Medium",
        "tactics": "InitialAccess",
        "method": GroupingMethod.SELECTED,
        "entity_kinds": ["mailbox"],
        "match_details": ["name"],
        "window": "2h",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def order_of(workspace) -> list[str]:
    return list(
        CorrelationRule.objects.filter(workspace=workspace)
        .order_by("order", "id")
        .values_list("name", flat=True)
    )


# --- who may do what ---------------------------------------------------------------


def endpoints(rule) -> list[tuple[str, str, dict]]:
    """(method, url, data) of every page and endpoint of the rules."""
    return [
        ("get", "/rules/", {}),
        ("get", reverse("incidents:rules_test"), {}),
        ("get", reverse("incidents:rule_new"), {}),
        ("post", reverse("incidents:rule_new"), valid_form()),
        ("get", rule.get_absolute_url(), {}),
        ("get", reverse("incidents:rule_edit", args=[rule.pk]), {}),
        ("post", reverse("incidents:rule_edit", args=[rule.pk]), valid_form()),
        ("post", reverse("incidents:rule_toggle", args=[rule.pk]), {"enabled": "off"}),
        ("post", reverse("incidents:rule_move", args=[rule.pk]), {"position": "2"}),
        ("get", reverse("incidents:rule_test", args=[rule.pk]), {}),
    ]


def test_every_page_and_endpoint_asks_anonymous_users_to_sign_in(client, rule):
    for method, url, data in endpoints(rule):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("role", ["reader", "responder"])
def test_readers_and_responders_see_and_test_rules_but_change_nothing(client, request, role, rule):
    client.force_login(request.getfixturevalue(role))
    before = list(CorrelationRule.objects.values())
    for method, url, data in endpoints(rule):
        response = getattr(client, method)(url, data)
        reads = method == "get" and "/new/" not in url and "/edit/" not in url
        assert response.status_code == (200 if reads else 403), url
    assert list(CorrelationRule.objects.values()) == before
    assert not RuleChange.objects.exists()


def test_a_rule_of_another_workspace_is_not_found(client, outsider, rule):
    client.force_login(outsider)
    for method, url, data in endpoints(rule):
        if "/rules/" + str(rule.pk) in url:
            assert getattr(client, method)(url, data).status_code == 404, url


def test_a_contributor_of_another_workspace_does_not_find_the_rule(client, rule):
    user = UserFactory(username="elsewhere-contributor")
    MembershipFactory(
        workspace=Workspace.objects.create(name="other"), user=user, role=Role.CONTRIBUTOR
    )
    client.force_login(user)
    for method, url, data in endpoints(rule):
        if "/rules/" + str(rule.pk) in url:
            assert getattr(client, method)(url, data).status_code == 404, url
    assert "PowerShell storm" not in client.get("/rules/").content.decode()


def test_outsiders_see_their_own_workspace_rules_only(client, outsider, rule):
    client.force_login(outsider)
    response = client.get("/rules/")
    assert response.status_code == 200
    assert "PowerShell storm" not in response.content.decode()


@pytest.mark.parametrize("name", ["rule_toggle", "rule_move"])
def test_changes_need_post(client, contributor, rule, name):
    client.force_login(contributor)
    assert client.get(reverse(f"incidents:{name}", args=[rule.pk])).status_code == 405


@pytest.mark.parametrize("url", ["/rules/", "/rules/test/"])
def test_reads_refuse_post(client, contributor, rule, url):
    client.force_login(contributor)
    assert client.post(url).status_code == 405
    assert client.post(reverse("incidents:rule_test", args=[rule.pk])).status_code == 405


def test_changes_need_the_csrf_token(contributor, rule):
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)
    toggle = reverse("incidents:rule_toggle", args=[rule.pk])
    assert client.post(toggle, {"enabled": "off"}).status_code == 403
    assert client.post("/rules/new/", valid_form()).status_code == 403
    rule.refresh_from_db()
    assert rule.enabled
    assert CorrelationRule.objects.count() == 3


# --- the list ----------------------------------------------------------------------


def test_the_list_shows_the_rules_in_order_with_their_settings_and_matches(client, reader, rules):
    rules[1].last_matched = timezone.now()
    rules[1].matched_count = 42
    rules[1].save()
    rules[2].enabled = False
    rules[2].save()
    client.force_login(reader)
    html = client.get("/rules/").content.decode()
    assert (
        html.index("PowerShell storm")
        < html.index("Same user or host")
        < html.index("Same entities")
    )
    assert "name contains “PowerShell”" in html
    assert "share a strong entity (Account, Host)" in html
    assert "24 h" in html
    assert "5 h" in html
    assert ">42<" in html
    assert ">Disabled<" in html
    assert ">Enabled<" in html
    assert "Every alert" in html
    assert "New rule" not in html
    assert "Move rule" not in html
    assert 'aria-current="page">Rules</a>' in html
    assert "Test all rules" in html


def test_contributors_get_the_controls(client, contributor, rules):
    client.force_login(contributor)
    html = client.get("/rules/").content.decode()
    assert "New rule" in html
    assert 'aria-label="Disable rule PowerShell storm"' in html
    assert 'aria-label="Move rule PowerShell storm up" disabled' in html
    assert 'aria-label="Move rule Same entities down" disabled' in html


def test_the_header_links_to_the_rules(client, responder):
    client.force_login(responder)
    assert '<a href="/rules/">Rules</a>' in client.get("/incidents/").content.decode()


def test_the_list_query_count_does_not_grow_with_the_rules(client, contributor, workspace):
    client.force_login(contributor)
    make_rule(workspace, "One", 10)
    make_rule(workspace, "Two", 20)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/rules/").status_code == 200
    for n in range(10):
        make_rule(workspace, f"More {n}", 30 + n, product_names=["A", "B"], tactics=["X"])
    with CaptureQueriesContext(connection) as many:
        assert client.get("/rules/").status_code == 200
    assert len(many) == len(few) <= 8


# --- creating and editing ----------------------------------------------------------


def test_a_contributor_creates_a_rule_that_runs_last_and_is_logged(
    client, contributor, workspace, rules
):
    client.force_login(contributor)
    response = client.post("/rules/new/", valid_form())
    created = CorrelationRule.objects.get(name="Phishing wave")
    assert response.status_code == 302
    assert response["Location"] == created.get_absolute_url()
    assert order_of(workspace)[-1] == "Phishing wave"
    assert created.window == dt.timedelta(hours=2)
    assert created.product_names == [
        "Microsoft Defender for Office 365",
        "Microsoft Defender XDR",
    ]
    assert (created.entity_kinds, created.match_details) == (["mailbox"], ["name"])
    assert created.min_severity == "Medium"
    (change,) = created.changes.all()
    assert (change.actor, change.actor_name, change.summary) == (
        contributor,
        "contributor",
        "Created the rule",
    )
    assert change.changes["window"] == [None, "2 h"]
    assert change.changes["entity_kinds"] == [None, ["Mailbox"]]


def test_htmx_creation_redirects_the_page_to_the_rule(client, contributor):
    client.force_login(contributor)
    response = client.post("/rules/new/", valid_form(), headers=HTMX)
    created = CorrelationRule.objects.get(name="Phishing wave")
    assert response.status_code == 200
    assert response["HX-Redirect"] == created.get_absolute_url()


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("5h", dt.timedelta(hours=5)),
        ("30m", dt.timedelta(minutes=30)),
        ("2d", dt.timedelta(days=2)),
        ("90", dt.timedelta(minutes=90)),
        ("1h 30m", dt.timedelta(minutes=90)),
        ("5 min", dt.timedelta(minutes=5)),
        ("7 days", dt.timedelta(days=7)),
    ],
)
def test_the_window_accepts_minutes_or_a_unit(client, contributor, text, window):
    client.force_login(contributor)
    client.post("/rules/new/", valid_form(window=text))
    assert CorrelationRule.objects.get(name="Phishing wave").window == window


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"window": "4m"}, "The window must be between 5 minutes and 7 days."),
        ({"window": "8d"}, "The window must be between 5 minutes and 7 days."),
        ({"window": "soon"}, "Write the window as a number of minutes or with a unit"),
        ({"window": ""}, "Give the window, such as 5h."),
        ({"name": ""}, "Give the rule a name"),
        (
            {"entity_kinds": None, "match_details": None},
            "“Selected” needs at least one entity kind, alert detail or custom detail",
        ),
        ({"method": None}, "Choose how the rule groups alerts."),
        ({"entity_kinds": ["starship"]}, "Select a valid choice."),
        ({"name_equals": "Suspicious login"}, "No alert name can equal “Suspicious login”"),
    ],
)
def test_invalid_rules_are_refused_in_plain_words(client, contributor, overrides, message):
    client.force_login(contributor)
    response = client.post("/rules/new/", valid_form(**overrides), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "The rule was not saved" in html
    assert '<form id="rule-form"' in html
    assert "<html" not in html
    assert not CorrelationRule.objects.exists()
    assert not RuleChange.objects.exists()


def test_without_javascript_an_invalid_form_shows_the_whole_page(client, contributor):
    client.force_login(contributor)
    response = client.post("/rules/new/", valid_form(window="9d"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "The window must be between 5 minutes and 7 days." in html
    assert 'value="9d"' in html


def test_the_custom_details_alone_make_a_selected_rule(client, contributor):
    client.force_login(contributor)
    form = valid_form(entity_kinds=None, match_details=None, custom_details="CampaignId, Tenant")
    client.post("/rules/new/", form)
    created = CorrelationRule.objects.get(name="Phishing wave")
    assert created.custom_details == ["CampaignId", "Tenant"]


def test_a_shared_entity_rule_may_leave_the_kinds_empty(client, contributor):
    client.force_login(contributor)
    form = valid_form(method=GroupingMethod.SHARED_ENTITY, entity_kinds=None, match_details=None)
    assert client.post("/rules/new/", form).status_code == 302
    created = CorrelationRule.objects.get(name="Phishing wave")
    assert created.entity_kinds == []
    assert created.method == GroupingMethod.SHARED_ENTITY


def test_settings_the_method_does_not_use_are_not_kept(client, contributor):
    client.force_login(contributor)
    client.post("/rules/new/", valid_form(method=GroupingMethod.ANY_ALERT, custom_details="X"))
    created = CorrelationRule.objects.get(name="Phishing wave")
    assert (created.entity_kinds, created.match_details, created.custom_details) == ([], [], [])


def test_the_edit_form_shows_the_rule_as_it_is(client, contributor, rules):
    client.force_login(contributor)
    html = client.get(reverse("incidents:rule_edit", args=[rules[1].pk])).content.decode()
    assert 'value="Same user or host"' in html
    assert 'value="24 h"' in html
    assert 'value="host"' in html
    assert "checked" in html


def test_an_edit_records_what_changed_before_and_after(client, contributor, rule):
    client.force_login(contributor)
    form = valid_form(
        name="PowerShell storm",
        description="",
        name_contains="PowerShell",
        product_names="",
        min_severity="",
        tactics="",
        method=GroupingMethod.ANY_ALERT,
        window="1d",
        reopen_closed="on",
    )
    response = client.post(reverse("incidents:rule_edit", args=[rule.pk]), form)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.window == dt.timedelta(days=1)
    assert rule.reopen_closed
    (change,) = rule.changes.all()
    day = window_text(dt.timedelta(days=1))
    assert change.changes == {"window": ["5 h", day], "reopen_closed": [False, True]}
    assert change.summary == "Changed window, re-open closed matching incidents"
    page = client.get(rule.get_absolute_url()).content.decode()
    assert f'Window: <span class="before">5 h</span> → <span class="after">{day}</span>' in page
    assert "Rule “PowerShell storm” was saved." in page
    # The same form again changes nothing and records nothing.
    client.post(reverse("incidents:rule_edit", args=[rule.pk]), form)
    assert rule.changes.count() == 1


# --- enable, disable, reorder --------------------------------------------------------


def test_disabling_swaps_the_list_and_records_it_once(client, contributor, rule):
    client.force_login(contributor)
    url = reverse("incidents:rule_toggle", args=[rule.pk])
    response = client.post(url, {"enabled": "off"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('\n<section id="rule-list"') or html.lstrip().startswith(
        '<section id="rule-list"'
    )
    assert "Rule “PowerShell storm” is disabled." in html
    assert 'aria-label="Enable rule PowerShell storm"' in html
    client.post(url, {"enabled": "off"}, headers=HTMX)  # pressed twice
    rule.refresh_from_db()
    assert not rule.enabled
    (change,) = rule.changes.all()
    assert (change.summary, change.changes) == ("Disabled the rule", {"enabled": [True, False]})
    client.post(url, {"enabled": "on"}, headers=HTMX)
    rule.refresh_from_db()
    assert rule.enabled
    assert [c.summary for c in rule.changes.all()] == ["Enabled the rule", "Disabled the rule"]


def test_without_javascript_enabling_redirects_back_with_a_message(client, contributor, rule):
    client.force_login(contributor)
    url = reverse("incidents:rule_toggle", args=[rule.pk])
    response = client.post(url, {"enabled": "off", "next": rule.get_absolute_url()})
    assert response.status_code == 302
    assert response["Location"] == rule.get_absolute_url()
    response = client.post(url, {"enabled": "on", "next": "https://evil.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/rules/"
    assert "Rule “PowerShell storm” is enabled." in response.content.decode()


def test_a_toggle_without_a_state_is_bad_input(client, contributor, rule):
    client.force_login(contributor)
    url = reverse("incidents:rule_toggle", args=[rule.pk])
    assert client.post(url, {"enabled": "maybe"}).status_code == 400
    assert not RuleChange.objects.exists()


def test_moving_a_rule_renumbers_the_list_and_records_the_positions(
    client, contributor, workspace, rules
):
    client.force_login(contributor)
    url = reverse("incidents:rule_move", args=[rules[2].pk])
    response = client.post(url, {"position": "2"}, headers=HTMX)
    assert response.status_code == 200
    assert "Rule “Same entities” runs 2nd of 3." in response.content.decode()
    assert order_of(workspace) == ["PowerShell storm", "Same entities", "Same user or host"]
    client.post(url, {"position": "2"}, headers=HTMX)  # pressed twice: still second
    assert order_of(workspace) == ["PowerShell storm", "Same entities", "Same user or host"]
    (change,) = rules[2].changes.all()
    assert (change.summary, change.changes) == ("Moved from position 3 to 2", {"position": [3, 2]})
    assert not rules[1].changes.exists()
    client.post(url, {"position": "1"})
    assert order_of(workspace)[0] == "Same entities"
    client.post(url, {"position": "99"})
    assert order_of(workspace)[-1] == "Same entities"


def test_a_move_without_a_position_is_bad_input(client, contributor, rule):
    client.force_login(contributor)
    url = reverse("incidents:rule_move", args=[rule.pk])
    assert client.post(url, {"position": "up"}).status_code == 400
    assert not RuleChange.objects.exists()


# --- the rule page -------------------------------------------------------------------


def test_the_rule_page_shows_settings_stats_and_the_log_newest_first(
    client, contributor, reader, rules
):
    rule = rules[1]
    client.force_login(contributor)
    client.post(reverse("incidents:rule_toggle", args=[rule.pk]), {"enabled": "off"})
    client.post(reverse("incidents:rule_move", args=[rule.pk]), {"position": "1"})
    client.force_login(reader)
    html = client.get(rule.get_absolute_url()).content.decode()
    assert "<h1>Same user or host</h1>" in html
    assert "Runs 1 of 3." in html
    assert "share a strong entity (Account, Host) within 24 h" in html
    assert "<dt>Alerts matched</dt><dd>0</dd>" in html
    assert html.index("Moved from position 2 to 1") < html.index("Disabled the rule")
    assert html.count("<strong>contributor</strong>") == 2
    assert "Test rule" in html
    assert "Edit</a>" not in html


def test_a_default_rule_page_says_it_has_no_changes(client, reader, rule):
    client.force_login(reader)
    assert "No change was recorded" in client.get(rule.get_absolute_url()).content.decode()


# --- Test rule: the dry run ------------------------------------------------------------


def everything() -> dict[str, list]:
    """Every row a correlation (or a rule change) could touch."""
    return {
        "workspaces": list(Workspace.objects.order_by("pk").values()),
        "incidents": list(Incident.objects.order_by("pk").values()),
        "relations": list(Relation.objects.order_by("pk").values()),
        "activity": list(ActivityEntry.objects.order_by("pk").values()),
        "alerts": list(Alert.objects.order_by("pk").values()),
        "rules": list(CorrelationRule.objects.order_by("pk").values()),
        "rule_changes": list(RuleChange.objects.order_by("pk").values()),
        "changes": list(MembershipChange.objects.order_by("pk").values()),
    }


@pytest.fixture
def alerts(workspace):
    """Four PowerShell alerts, each alone in its incident, and one unrelated alert."""
    made = [incident_with_alerts(1, workspace=workspace) for _ in range(4)]
    incident_with_alerts(0, workspace=workspace)
    other = incident_with_alerts(1, workspace=workspace)
    Alert.objects.filter(relations__incident=other).update(display_name="Impossible travel")
    return made


def test_testing_a_rule_shows_its_groups_and_changes_nothing(client, reader, rule, alerts):
    client.force_login(reader)
    before = everything()
    response = client.get(reverse("incidents:rule_test", args=[rule.pk]))
    html = response.content.decode()
    run = response.context["run"]
    assert response.status_code == 200
    assert everything() == before
    assert (run.tested, run.grouped_alerts, run.new_incidents, run.unmatched_alerts) == (5, 4, 1, 1)
    assert "4 alerts would form 1 group: 1 new incident" in html
    assert "New incident" in html
    assert "every alert of the rule within its window" in html
    assert "Impossible travel" in html  # taken by no rule
    assert f">#{alerts[0].number}</a>" in html  # where the alert is today


def test_testing_all_rules_uses_the_enabled_ones_and_changes_nothing(
    client, responder, rules, alerts
):
    rules[0].enabled = False
    rules[0].save()
    client.force_login(responder)
    before = everything()
    response = client.get("/rules/test/", {"period": "24h"})
    assert everything() == before
    assert response.context["run"].rules == rules[1:]
    assert "Test all rules" in response.content.decode()


def test_a_rule_made_incident_is_extended_not_duplicated(client, reader, workspace, rule):
    sample = AlertFactory.build(workspace=workspace)
    key = grouping(rule, sample, [], Excluded({})).key
    existing = incident_with_alerts(
        1,
        workspace=workspace,
        correlation_rule=rule,
        group_key=key,
        first_activity_time=timezone.now() - dt.timedelta(hours=2),
    )
    client.force_login(reader)
    html = client.get(reverse("incidents:rule_test", args=[rule.pk])).content.decode()
    assert f'Extends <a href="{existing.get_absolute_url()}">#{existing.number}' in html
    assert "0 new incidents, 1 existing incident extended" in html


def test_the_period_bounds_the_alerts(client, reader, rule, alerts):
    Alert.objects.filter(pk=Alert.objects.order_by("pk").first().pk).update(
        time_generated=timezone.now() - dt.timedelta(days=3)
    )
    client.force_login(reader)
    url = reverse("incidents:rule_test", args=[rule.pk])
    assert client.get(url, {"period": "24h"}).context["run"].tested == 4
    assert client.get(url).context["run"].tested == 5
    assert client.get(url, {"period": "nonsense"}).context["run"].period == "7d"


def test_only_the_newest_alerts_are_tested_and_the_page_says_so(
    client, reader, rule, alerts, monkeypatch
):
    monkeypatch.setattr(dryrun, "MAX_ALERTS", 3)
    client.force_login(reader)
    response = client.get(reverse("incidents:rule_test", args=[rule.pk]), headers=HTMX)
    html = response.content.decode()
    assert response.context["run"].tested == 3
    assert "(only the newest 3: the period has more)" in html
    assert html.lstrip().startswith('<section id="test-results"')
