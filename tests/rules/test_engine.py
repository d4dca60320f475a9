"""Correlation rules at ingestion: which incident each new alert joins, and why."""

import datetime as dt

import pytest

from incidents import actions
from incidents.activity import Actor
from incidents.ingest.store import ingest_batch, prepare
from incidents.ingest.stream import INGESTION
from incidents.models import (
    ActivityKind,
    Alert,
    CorrelationExclusion,
    CorrelationRule,
    Entity,
    GroupingMethod,
    Incident,
    IncidentStatus,
    Relation,
)
from incidents.rules import engine
from tests.factories import activity_of
from tests.ingest.builders import account, host, ip, row

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def at(minutes: float, **columns) -> dict:
    """A row generated `minutes` after T0 (start time the same)."""
    when = (T0 + dt.timedelta(minutes=minutes)).isoformat()
    return row(TimeGenerated=when, StartTime=when, EndTime=when, **columns)


def rule(workspace, name="Shared host or account (24 h)", **fields) -> CorrelationRule:
    fields.setdefault("method", GroupingMethod.SHARED_ENTITY)
    fields.setdefault("entity_kinds", ["host", "account"])
    fields.setdefault("window", dt.timedelta(hours=24))
    order = CorrelationRule.objects.filter(workspace=workspace).count() + 1
    return CorrelationRule.objects.create(workspace=workspace, name=name, order=order, **fields)


def ingest(workspace, *rows):
    return ingest_batch(workspace, [prepare(r) for r in rows], actor=INGESTION)


def incident_of(data: dict) -> Incident:
    (incident,) = Incident.objects.filter(relations__alert__system_alert_id=data["SystemAlertId"])
    return incident


def relation_of(data: dict) -> Relation:
    return Relation.objects.get(alert__system_alert_id=data["SystemAlertId"])


# --- shared strong entity (Defender-style) -------------------------------------------


def test_alerts_that_share_a_host_join_one_incident_across_batches(workspace):
    rule(workspace)
    first = at(0, entities=[host("mb-winclient"), account("bjenkins")])
    second = at(60, entities=[host("mb-winclient"), ip("198.51.100.9")])

    ingest(workspace, first)
    ingest(workspace, second)

    assert incident_of(first) == incident_of(second)
    assert incident_of(first).alert_count == 2


def test_alerts_that_share_a_host_join_one_incident_in_one_batch(workspace):
    rule(workspace)
    rows = [at(i, entities=[host("mb-winclient"), account(f"user{i}")]) for i in range(3)]

    ingest(workspace, *rows)

    assert len({incident_of(r).pk for r in rows}) == 1


def test_alerts_about_different_users_and_hosts_stay_apart(workspace):
    rule(workspace)
    one = at(0, entities=[host("ws-a"), account("alice")])
    other = at(5, entities=[host("ws-b"), account("bob")])

    ingest(workspace, one, other)

    assert incident_of(one) != incident_of(other)


def test_the_relation_and_the_activity_entry_say_which_rule_and_which_values(workspace):
    shared = rule(workspace)
    first = at(0, entities=[host("mb-winclient"), account("bjenkins")])
    second = at(
        30,
        DisplayName="Suspicious PowerShell",
        AlertName="Suspicious PowerShell",
        entities=[host("mb-winclient"), account("bjenkins")],
    )

    ingest(workspace, first, second)

    details = relation_of(second).details
    assert details["rule"] == {"id": shared.pk, "name": "Shared host or account (24 h)"}
    assert details["method"] == GroupingMethod.SHARED_ENTITY
    assert details["window"] == "24 h"
    assert {(m["kind"], m["display"]) for m in details["matched"]} == {
        ("host", "mb-winclient.niseko.example"),
        ("account", "bjenkins@niseko.example"),
    }
    entry = activity_of(incident_of(second), ActivityKind.ALERT_CORRELATED)[-1]
    assert entry.message == (
        "Alert “Suspicious PowerShell” was correlated with this incident by rule "
        "“Shared host or account (24 h)”: same account bjenkins@niseko.example, "
        "same host mb-winclient.niseko.example."
    )


def test_a_weak_entity_does_not_join_alerts(workspace):
    rule(workspace, entity_kinds=["host"])
    # A bare host name, without a domain or device id, is a weak identifier.
    one = at(0, entities=[host("printer", domain=None)])
    other = at(5, entities=[host("printer", domain=None)])

    ingest(workspace, one, other)

    assert incident_of(one) != incident_of(other)


def test_an_alert_naming_many_accounts_does_not_chain_them(workspace):
    rule(workspace, entity_kinds=["account"])
    alice = at(0, entities=[account("alice")])
    bob = at(5, entities=[account("bob")])
    spray = at(
        10,
        entities=[
            account(n, id_=str(i + 10)) for i, n in enumerate(["alice", "bob", "carol", "dave"])
        ],
    )

    ingest(workspace, alice, bob, spray)

    assert len({incident_of(r).pk for r in (alice, bob, spray)}) == 3


def test_only_public_addresses_join_alerts(workspace):
    rule(workspace, name="Same address", entity_kinds=["ip"])
    public = [at(i, entities=[ip("52.40.155.199")]) for i in range(2)]
    private = [at(10 + i, entities=[ip("10.0.0.5")]) for i in range(2)]

    ingest(workspace, *public, *private)

    assert incident_of(public[0]) == incident_of(public[1])
    assert incident_of(private[0]) != incident_of(private[1])


# --- the window ----------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "together"), [(300, True), (301, False)])
def test_the_window_counts_from_the_incidents_first_alert(workspace, minutes, together):
    rule(workspace, window=dt.timedelta(hours=5))
    first = at(0, entities=[host("mb-winclient")])
    later = at(minutes, entities=[host("mb-winclient")])

    ingest(workspace, first)
    ingest(workspace, later)

    assert (incident_of(first) == incident_of(later)) is together


def test_the_window_counts_from_the_first_alert_not_the_last(workspace):
    rule(workspace, window=dt.timedelta(hours=5))
    rows = [at(m, entities=[host("mb-winclient")]) for m in (0, 200, 400)]

    for r in rows:
        ingest(workspace, r)

    assert incident_of(rows[0]) == incident_of(rows[1]) != incident_of(rows[2])


# --- re-open closed matches ----------------------------------------------------------


@pytest.fixture
def closed_match(workspace):
    def make(reopen: bool):
        rule(workspace, reopen_closed=reopen)
        first = at(0, entities=[host("mb-winclient")])
        ingest(workspace, first)
        actions.close_incident(
            incident_of(first), classification="Undetermined", actor=Actor.system("analyst")
        )
        later = at(30, entities=[host("mb-winclient")])
        ingest(workspace, later)
        return incident_of(first), incident_of(later)

    return make


def test_a_closed_match_is_reopened_when_the_rule_says_so(closed_match):
    first, later = closed_match(True)
    assert first == later
    assert later.status == IncidentStatus.ACTIVE
    (reopened,) = activity_of(later, ActivityKind.REOPENED)
    assert reopened.message == (
        "rule “Shared host or account (24 h)” reopened the incident: a new alert matches it."
    )


def test_a_closed_match_is_ignored_when_the_rule_does_not_reopen(closed_match):
    first, later = closed_match(False)
    assert first != later
    assert first.status == IncidentStatus.CLOSED


# --- exact methods -------------------------------------------------------------------


def test_any_alert_puts_every_matching_alert_in_one_incident(workspace):
    rule(
        workspace,
        name="Phish",
        method=GroupingMethod.ANY_ALERT,
        name_contains="phish",
        window=dt.timedelta(hours=5),
    )
    phish = [at(i, DisplayName=f"Phish {i}", entities=[account(f"u{i}")]) for i in range(3)]
    other = at(1, DisplayName="Malware", entities=[account("u9")])

    ingest(workspace, *phish, other)

    assert len({incident_of(r).pk for r in phish}) == 1
    assert incident_of(other) != incident_of(phish[0])
    assert relation_of(other).details["no_rule_matched"] is True


def test_all_entities_needs_the_same_entities(workspace):
    rule(workspace, method=GroupingMethod.ALL_ENTITIES, window=dt.timedelta(hours=5))
    same = [at(i, entities=[host("h1"), account("a1")]) for i in range(2)]
    more = at(3, entities=[host("h1"), account("a1"), ip("203.0.113.9")])

    ingest(workspace, *same, more)

    assert incident_of(same[0]) == incident_of(same[1]) != incident_of(more)


def test_selected_matches_on_the_chosen_kinds_and_details(workspace):
    rule(
        workspace,
        method=GroupingMethod.SELECTED,
        entity_kinds=["ip"],
        match_details=["name"],
        window=dt.timedelta(hours=24),
    )
    spray = [
        at(i * 60, DisplayName="Password spray", entities=[ip("203.0.113.7"), account(f"user{i}")])
        for i in range(3)
    ]
    other_name = at(5, DisplayName="Brute force", entities=[ip("203.0.113.7")])

    ingest(workspace, *spray, other_name)

    assert len({incident_of(r).pk for r in spray}) == 1
    assert incident_of(other_name) != incident_of(spray[0])
    matched = relation_of(spray[1]).details["matched"]
    assert {
        "kind": "alert name",
        "identifier": "password spray",
        "display": "Password spray",
    } in matched


def test_selected_matches_on_custom_details(workspace):
    rule(
        workspace,
        method=GroupingMethod.SELECTED,
        entity_kinds=[],
        custom_details=["Campaign"],
        window=dt.timedelta(hours=24),
    )
    a = at(0, extended={"Campaign": "Storm-1"}, entities=[account("a")])
    b = at(5, extended={"Campaign": "Storm-1"}, entities=[account("b")])
    c = at(6, extended={"Campaign": "Storm-2"}, entities=[account("c")])

    ingest(workspace, a, b, c)

    assert incident_of(a) == incident_of(b) != incident_of(c)


# --- order, conditions, disabled -----------------------------------------------------


def test_the_first_rule_that_groups_an_alert_wins(workspace):
    first = rule(workspace, name="By account", entity_kinds=["account"])
    rule(workspace, name="By host", entity_kinds=["host"])
    data = at(0, entities=[host("h1"), account("a1")])

    ingest(workspace, data)

    assert relation_of(data).details["rule"]["id"] == first.pk
    assert incident_of(data).correlation_rule == first


def test_a_rule_whose_method_cannot_group_lets_the_next_one_try(workspace):
    rule(workspace, name="By account", entity_kinds=["account"])
    by_host = rule(workspace, name="By host", entity_kinds=["host"])
    data = at(0, entities=[host("h1")])

    ingest(workspace, data)

    assert relation_of(data).details["rule"]["id"] == by_host.pk


def test_conditions_must_all_hold(workspace):
    rule(workspace, min_severity="High", product_names=["Microsoft Defender for Endpoint"])
    low = at(
        0, AlertSeverity="Low", ProductName="Microsoft Defender for Endpoint", entities=[host("h1")]
    )

    ingest(workspace, low)

    assert relation_of(low).details["no_rule_matched"] is True


def test_a_disabled_rule_does_not_run(workspace):
    rule(workspace, enabled=False)
    rows = [at(i, entities=[host("h1")]) for i in range(2)]

    ingest(workspace, *rows)

    assert incident_of(rows[0]) != incident_of(rows[1])
    assert (
        "No correlation rule is enabled"
        in activity_of(incident_of(rows[0]), ActivityKind.ALERT_CORRELATED)[0].message
    )


def test_no_rule_matching_is_said_with_the_rules_tried(workspace):
    tried = rule(workspace, name="Only phish", name_contains="phish")
    data = at(0, DisplayName="Malware found", entities=[host("h1")])

    ingest(workspace, data)

    details = relation_of(data).details
    assert details["no_rule_matched"] is True
    assert details["rules_tried"] == [tried.pk]
    entry = activity_of(incident_of(data), ActivityKind.ALERT_CORRELATED)[0]
    assert entry.message.endswith("No correlation rule matched (rules tried: “Only phish”).")


def test_rules_count_their_matches(workspace):
    shared = rule(workspace)
    ingest(workspace, *[at(i, entities=[host("h1")]) for i in range(3)])
    shared.refresh_from_db()
    assert shared.matched_count == 3
    assert shared.last_matched is not None


# --- values that never group ---------------------------------------------------------


def test_an_excluded_value_does_not_join_alerts(workspace):
    rule(workspace, entity_kinds=["host"])
    first = at(0, entities=[host("dc-01")])
    ingest(workspace, first)
    CorrelationExclusion.objects.create(
        workspace=workspace, entity=Entity.objects.get(kind="host"), reason="domain controller"
    )
    later = at(5, entities=[host("dc-01")])

    ingest(workspace, later)

    assert incident_of(first) != incident_of(later)


def test_a_value_in_too_many_recent_alerts_does_not_join_alerts_by_itself(workspace):
    workspace.common_entity_share = 0.2
    workspace.save()
    rule(workspace, entity_kinds=["host", "account"])
    # 60 alerts on the scanner host, each with a user of its own: in all of them.
    ingest(workspace, *[at(i, entities=[host("scanner"), account(f"u{i}")]) for i in range(60)])
    one = at(100, entities=[host("scanner"), account("x")])
    other = at(101, entities=[host("scanner"), account("y")])

    ingest(workspace, one, other)

    assert incident_of(one) != incident_of(other)


def test_in_a_young_workspace_an_attacks_host_is_not_common(workspace):
    rule(workspace, entity_kinds=["host"])
    # 40 alerts, 10 of them on one host: 25%, but too few to call the host common.
    ingest(workspace, *[at(i, entities=[host(f"ws-{i}")]) for i in range(30)])
    attack = [at(50 + i, entities=[host("victim")]) for i in range(10)]

    ingest(workspace, *attack)

    assert len({incident_of(r).pk for r in attack}) == 1


# --- the cap -------------------------------------------------------------------------


def test_a_full_incident_is_continued_by_a_new_one_with_the_same_rule(workspace, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3
    shared = rule(workspace, entity_kinds=["host"])
    rows = [at(i, entities=[host("h1")]) for i in range(5)]

    ingest(workspace, *rows[:3])
    ingest(workspace, *rows[3:])

    full, continuing = incident_of(rows[0]), incident_of(rows[3])
    assert full.alert_count == 3
    assert continuing.continues == full
    assert continuing.correlation_rule == shared
    # A later alert of the group goes to the continuing incident, not the full one.
    ingest(workspace, at(6, entities=[host("h1")]))
    continuing.refresh_from_db()
    assert continuing.alert_count == 3


# --- bridging ------------------------------------------------------------------------


def test_an_alert_bridging_two_rule_incidents_merges_them_into_the_oldest(workspace):
    rule(workspace)
    on_host = at(0, entities=[host("h1")])
    on_account = at(10, entities=[account("alice")])
    ingest(workspace, on_host)
    ingest(workspace, on_account)
    oldest, other = incident_of(on_host), incident_of(on_account)
    bridge = at(20, DisplayName="Logon", entities=[host("h1"), account("alice")])

    ingest(workspace, bridge)

    oldest.refresh_from_db()
    other.refresh_from_db()
    assert incident_of(bridge) == oldest
    assert incident_of(on_account) == oldest
    assert other.merged_into == oldest
    assert oldest.alert_count == 3
    (merged,) = activity_of(oldest, ActivityKind.MERGED_IN)
    assert (
        "Alert “Logon” bridged them (same account alice@niseko.example, same host h1"
        in merged.comment
    )


def test_an_incident_an_analyst_touched_is_not_merged_by_a_bridging_alert(workspace, actor):
    rule(workspace)
    on_host, on_account = at(0, entities=[host("h1")]), at(10, entities=[account("alice")])
    ingest(workspace, on_host)
    ingest(workspace, on_account)
    actions.add_comment(incident_of(on_account), "Mine.", actor=actor)
    bridge = at(20, DisplayName="Logon", entities=[host("h1"), account("alice")])

    ingest(workspace, bridge)

    assert incident_of(bridge) == incident_of(on_host)
    assert Incident.objects.get(pk=incident_of(on_account).pk).merged_into is None
    note = activity_of(incident_of(on_host), ActivityKind.ALERT_CORRELATED)[-1]
    assert f"also matches #{incident_of(on_account).number}" in note.message
    assert note.message.endswith("an analyst has worked on one of them.")


# --- the plan changes nothing --------------------------------------------------------


def test_planning_changes_nothing(workspace):
    rule(workspace)
    ingest(workspace, at(0, entities=[host("h1")]))
    alerts = list(Alert.objects.all())
    before = (Incident.objects.count(), Relation.objects.count())
    plan = engine.plan(workspace, alerts)
    assert plan.groups
    assert (Incident.objects.count(), Relation.objects.count()) == before


# --- queries -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 100])
def test_the_rules_take_the_same_number_of_queries_for_a_batch_of_any_size(
    workspace, count, django_assert_max_num_queries
):
    from incidents.rules.defaults import install_default_rules

    install_default_rules(workspace)
    # Earlier incidents of every kind of group, so each candidate lookup finds some.
    ingest(
        workspace, *[at(i, entities=[host(f"h{i % 7}"), account(f"u{i % 5}")]) for i in range(30)]
    )
    alerts = [
        at(60 + i, entities=[host(f"h{i % 7}"), account(f"u{i % 11}"), ip(f"52.40.1.{i % 3}")])
        for i in range(count)
    ]
    # The batch's own work (alerts, entities, incidents, relations, activity) and the
    # rules' (the rules, the alerts' entities and strong keys, exclusions, the guard's three
    # counts, the candidate incidents, the counts): the same for 10 alerts as for 100.
    with django_assert_max_num_queries(32):
        ingest(workspace, *alerts)


@pytest.mark.parametrize("count", [1, 4])
def test_bridging_merges_of_a_batch_take_a_merges_queries_once_plus_their_records(
    workspace, count, django_assert_max_num_queries
):
    rule(workspace)
    for i in range(count):
        ingest(workspace, at(i, entities=[host(f"h{i}")]))
        ingest(workspace, at(10 + i, entities=[account(f"user{i}")]))
    bridges = [at(20 + i, entities=[host(f"h{i}"), account(f"user{i}")]) for i in range(count)]

    # The batch's and the rules' own queries, one merge's, then each merge's Undo record
    # (two) and the closing of its source (two): not a merge's worth of queries each.
    with django_assert_max_num_queries(56 + 5 * (count - 1)):
        ingest(workspace, *bridges)

    assert Incident.objects.filter(merged_into__isnull=False).count() == count
    assert len({incident_of(b).pk for b in bridges}) == count
