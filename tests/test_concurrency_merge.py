"""Merges and undos under real concurrency: threads with their own PostgreSQL connections.

Same method as `test_concurrency`: each test commits its world first, then releases its
threads together so that their transactions overlap and their row locks are contended.
"""

import random
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from incidents import membership
from incidents.errors import AlreadyMerged, MembershipError, MergeTooLarge, UndoRefused
from incidents.membership.core import lock_incidents
from incidents.models import ActivityKind, Alert, Incident, MembershipChange
from tests.factories import (
    activity_of,
    alert_ids_of,
    incident_ids_of,
    incident_with_alerts,
    snapshot,
)
from tests.test_concurrency import assert_rules_hold, run_together, unexpected

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REASON = "Same intrusion."


def merging(sources: list[Incident], into: Incident, actor) -> Callable[[], object]:
    return lambda: membership.merge_incidents(sources, into=into, actor=actor, reason=REASON)


def alerts_of(incident: Incident) -> list[Alert]:
    return list(Alert.objects.filter(relations__incident=incident).order_by("pk"))


def assert_merged_incidents_hold_nothing() -> None:
    for incident in Incident.objects.filter(merged_into__isnull=False):
        assert alert_ids_of(incident) == set(), f"merged #{incident.number} still holds alerts"
        assert incident.is_closed


def test_merging_a_into_b_while_b_merges_into_c_loses_no_alert(workspace, actor):
    triples = [[incident_with_alerts(3, workspace=workspace) for _ in range(3)] for _ in range(4)]
    alerts = set(Alert.objects.values_list("pk", flat=True))

    results = run_together(
        *(job for a, b, c in triples for job in (merging([a], b, actor), merging([b], c, actor)))
    )

    assert unexpected(results) == []
    assert all(isinstance(r, membership.MergeResult | AlreadyMerged) for r in results), results
    outcomes = zip(results[::2], results[1::2], strict=True)
    for (a, _b, c), (a_into_b, b_into_c) in zip(triples, outcomes, strict=True):
        assert isinstance(b_into_c, membership.MergeResult)
        if isinstance(a_into_b, membership.MergeResult):
            # A went into B first, and B took A's alerts on to C.
            assert len(alert_ids_of(c)) == 9
        else:
            # B was merged first: A was refused and keeps its own alerts.
            assert isinstance(a_into_b, AlreadyMerged)
            assert len(alert_ids_of(a)) == 3
            assert len(alert_ids_of(c)) == 6
    assert {x for triple in triples for i in triple for x in alert_ids_of(i)} == alerts
    assert_merged_incidents_hold_nothing()
    assert_rules_hold()


def test_two_merges_into_one_target_take_every_alert_of_both(workspace, actor):
    target = incident_with_alerts(2, workspace=workspace)
    first, second = (incident_with_alerts(4, workspace=workspace) for _ in range(2))
    shared = alerts_of(first)[0]
    membership.add_alerts(second, [shared], actor=actor)
    alerts = set(Alert.objects.values_list("pk", flat=True))

    results = run_together(merging([first], target, actor), merging([second], target, actor))

    assert all(isinstance(r, membership.MergeResult) for r in results), results
    assert alert_ids_of(target) == alerts
    target.refresh_from_db()
    assert target.alert_count == 10
    assert len(activity_of(target, ActivityKind.MERGED_IN)) == 2
    assert_merged_incidents_hold_nothing()
    assert_rules_hold()


def test_two_merges_into_one_target_never_pass_the_cap(workspace, actor):
    target = incident_with_alerts(140, workspace=workspace)
    sources = [incident_with_alerts(6, workspace=workspace) for _ in range(2)]

    results = run_together(*(merging([s], target, actor) for s in sources))

    assert unexpected(results) == []
    assert sum(isinstance(r, membership.MergeResult) for r in results) == 1
    (refusal,) = [r for r in results if isinstance(r, MergeTooLarge)]
    assert "would hold 152 alerts" in refusal.user_message
    target.refresh_from_db()
    assert target.alert_count == 146
    assert_rules_hold()


def test_incidents_merged_into_each_other_at_once_end_in_one_of_them(workspace, actor):
    pairs = [[incident_with_alerts(2, workspace=workspace) for _ in range(2)] for _ in range(5)]

    results = run_together(
        *(job for a, b in pairs for job in (merging([a], b, actor), merging([b], a, actor)))
    )

    assert unexpected(results) == []
    assert sum(isinstance(r, membership.MergeResult) for r in results) == 5
    assert sum(isinstance(r, AlreadyMerged) for r in results) == 5
    for a, b in pairs:
        a.refresh_from_db()
        b.refresh_from_db()
        assert {a.alert_count, b.alert_count} == {0, 4}
    assert_merged_incidents_hold_nothing()
    assert_rules_hold()


def test_a_merge_racing_a_move_of_one_of_its_alerts_leaves_the_alert_in_one_place(workspace, actor):
    cases = []
    for _ in range(6):
        source = incident_with_alerts(3, workspace=workspace)
        target = incident_with_alerts(1, workspace=workspace)
        elsewhere = incident_with_alerts(1, workspace=workspace)
        cases.append((source, target, elsewhere, alerts_of(source)[0]))

    results = run_together(
        *(
            job
            for source, target, elsewhere, alert in cases
            for job in (
                merging([source], target, actor),
                lambda alert=alert, elsewhere=elsewhere: membership.move_alerts(
                    [alert], destination=elsewhere, actor=actor
                ),
            )
        )
    )

    assert unexpected(results) == []
    assert all(isinstance(r, membership.MergeResult | membership.MoveResult) for r in results)
    for _source, target, elsewhere, alert in cases:
        # The move takes the alert out of wherever it is: the source, or the target.
        assert incident_ids_of(alert) == {elsewhere.pk}
        assert len(alert_ids_of(target)) == 1 + 2
    assert_merged_incidents_hold_nothing()
    assert_rules_hold()


def test_a_merge_racing_moves_into_its_source_takes_the_alerts_that_arrived(workspace, actor):
    cases = []
    for _ in range(6):
        source = incident_with_alerts(2, workspace=workspace)
        target = incident_with_alerts(1, workspace=workspace)
        arriving = alerts_of(incident_with_alerts(2, workspace=workspace))
        cases.append((source, target, arriving))

    results = run_together(
        *(
            job
            for source, target, arriving in cases
            for job in (
                merging([source], target, actor),
                lambda arriving=arriving, source=source: membership.move_alerts(
                    arriving, destination=source, actor=actor
                ),
            )
        )
    )

    assert unexpected(results) == []
    for source, target, arriving in cases:
        # Moved in before the merge, they went on to the target; after it, they stay in
        # the (merged) source: either way in exactly one of the two.
        for alert in arriving:
            assert len(incident_ids_of(alert) & {source.pk, target.pk}) == 1
    assert_rules_hold()


def test_two_undos_of_one_change_at_once_apply_it_exactly_once(workspace, actor):
    changes = []
    for _ in range(4):
        source = incident_with_alerts(2, workspace=workspace)
        target = incident_with_alerts(1, workspace=workspace)
        changes.append(
            membership.merge_incidents([source], into=target, actor=actor, reason=REASON).change
        )

    results = run_together(
        *(
            lambda change=change: membership.undo_change(change, actor=actor)
            for change in changes
            for _ in range(2)
        )
    )

    assert unexpected(results) == []
    assert sum(isinstance(r, membership.UndoResult) for r in results) == 4
    refusals = [r for r in results if isinstance(r, UndoRefused)]
    assert len(refusals) == 4
    assert all("already undone" in r.user_message for r in refusals)
    for change in changes:
        for incident in change.incidents.all():
            assert len(activity_of(incident, ActivityKind.UNDONE)) == 1
    assert not Incident.objects.filter(merged_into__isnull=False).exists()
    assert MembershipChange.objects.filter(undone__isnull=True).count() == 0
    assert_rules_hold()


def test_an_undo_racing_a_move_of_the_same_alert_keeps_every_rule(workspace, actor):
    cases = []
    for _ in range(6):
        source = incident_with_alerts(2, workspace=workspace)
        destination = incident_with_alerts(1, workspace=workspace)
        elsewhere = incident_with_alerts(1, workspace=workspace)
        alert = alerts_of(source)[0]
        change = membership.move_alerts(
            [alert], source=source, destination=destination, actor=actor
        ).change
        cases.append((alert, elsewhere, change))

    results = run_together(
        *(
            job
            for alert, elsewhere, change in cases
            for job in (
                lambda change=change: membership.undo_change(change, actor=actor),
                lambda alert=alert, elsewhere=elsewhere: membership.move_alerts(
                    [alert], destination=elsewhere, actor=actor
                ),
            )
        )
    )

    assert unexpected(results) == []
    for alert, elsewhere, _change in cases:
        assert incident_ids_of(alert) == {elsewhere.pk}
    assert_rules_hold()


def test_a_mixed_workload_of_merges_moves_and_undos_keeps_every_rule_and_never_deadlocks(
    workspace, actor, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 12
    incidents = [incident_with_alerts(3, workspace=workspace) for _ in range(8)]
    alerts = list(Alert.objects.order_by("pk"))
    # Rewrite the lower alerts so the table's physical order is no longer the id order.
    for alert in alerts[: len(alerts) // 2]:
        Alert.objects.filter(pk=alert.pk).update(description="rewritten")
    before = snapshot()

    def job(seed: int) -> Callable[[], object]:
        def run() -> list[object]:
            rng = random.Random(seed)
            outcomes = []
            for _ in range(5):
                operation = rng.choice(["merge", "merge", "move", "undo"])
                try:
                    if operation == "merge":
                        sources = rng.sample(incidents, k=rng.randint(1, 2))
                        target = rng.choice(incidents)
                        membership.merge_incidents(sources, into=target, actor=actor, reason=REASON)
                    elif operation == "move":
                        chosen = rng.sample(alerts, k=rng.randint(1, 4))
                        membership.move_alerts(
                            chosen, destination=rng.choice(incidents), actor=actor
                        )
                    else:
                        change = MembershipChange.objects.order_by("?").first()
                        if change is not None:
                            membership.undo_change(change, actor=actor)
                    outcomes.append(operation)
                except MembershipError as refused:
                    outcomes.append(refused)
            return outcomes

        return run

    results = run_together(*(job(seed) for seed in range(10)))

    assert unexpected(results) == []
    assert snapshot() != before
    assert_rules_hold(limit=12)
    connection.close()


def test_a_change_commits_while_another_holds_an_incident_that_its_incidents_point_to(
    workspace, actor
):
    # A move updates its incidents more than once, so at COMMIT PostgreSQL checks their
    # keys again: here `continues`, which points at an incident another change holds.
    # That check must not wait for the holder (who may be waiting for us: a deadlock).
    earlier = incident_with_alerts(1, workspace=workspace)
    later = incident_with_alerts(2, workspace=workspace)
    Incident.objects.filter(pk=later.pk).update(continues=earlier)
    destination = incident_with_alerts(1, workspace=workspace)
    held, release = threading.Event(), threading.Event()

    def hold_earlier() -> None:
        try:
            with transaction.atomic():
                lock_incidents([earlier.pk])
                held.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_earlier)
    holder.start()
    try:
        assert held.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
        membership.move_alerts(alerts_of(later)[:1], destination=destination, actor=actor)
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert len(alert_ids_of(destination)) == 2
