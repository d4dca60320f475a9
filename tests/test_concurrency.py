"""The membership rules under real concurrency: threads with their own PostgreSQL connections.

Each test commits its world first (`transaction=True`), then starts its threads together
on a barrier so that their transactions overlap and their row locks are contended.
"""

import random
import threading
import time
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection
from django.db.models import F

from incidents import actions, activity, membership
from incidents.errors import IncidentFull, InvalidChange, LastIncident, MembershipError
from incidents.membership import move, relations
from incidents.models import Alert, Incident, Relation
from tests.factories import (
    IncidentFactory,
    activity_of,
    alert_in,
    incident_ids_of,
    incident_with_alerts,
    snapshot,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*jobs: Callable[[], object], timeout: float = 60) -> list[object]:
    """Run each job in its own thread and connection, all released at once.

    Returns what each job returned, or the exception it raised.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def work(i: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout)
            results[i] = job()
        except BaseException as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def unexpected(results: list[object]) -> list[BaseException]:
    """Exceptions other than the rules' own refusals (deadlocks, integrity errors, …)."""
    return [
        r for r in results if isinstance(r, BaseException) and not isinstance(r, MembershipError)
    ]


def assert_rules_hold(limit: int = 150) -> None:
    for incident in Incident.objects.all():
        alerts = list(
            Relation.objects.filter(incident=incident, alert__isnull=False).values_list(
                "alert_id", flat=True
            )
        )
        assert len(alerts) == len(set(alerts)), f"an alert is twice in #{incident.number}"
        assert incident.alert_count == len(alerts), f"#{incident.number} miscounts its alerts"
        assert incident.alert_count <= limit
    stranded = Alert.objects.filter(relations__isnull=True)
    assert not stranded.exists(), "an alert belongs to no incident"
    mixed = Relation.objects.filter(alert__isnull=False).exclude(
        alert__workspace=F("incident__workspace")
    )
    assert not mixed.exists(), "an alert joined an incident of another workspace"


# --- (1) the cap -----------------------------------------------------------


def test_racing_to_add_alerts_to_an_incident_at_140_ends_at_exactly_150(workspace, actor):
    incident = incident_with_alerts(140, workspace=workspace)
    candidates = [alert_in(IncidentFactory(workspace=workspace)) for _ in range(20)]

    results = run_together(
        *(
            lambda alert=alert: membership.add_alerts(incident, [alert], actor=actor)
            for alert in candidates
        )
    )

    assert unexpected(results) == []
    refused = [r for r in results if isinstance(r, IncidentFull)]
    assert len(refused) == 10
    incident.refresh_from_db()
    assert incident.alert_count == 150
    assert Relation.objects.filter(incident=incident).count() == 150
    # The factory's one entry for its 140 alerts, then one for each alert that got in.
    assert len(activity_of(incident)) == 1 + 10
    assert_rules_hold()


def test_racing_multi_alert_adds_never_pass_the_cap(workspace, actor):
    incident = incident_with_alerts(140, workspace=workspace)
    holders = [incident_with_alerts(3, workspace=workspace) for _ in range(8)]

    results = run_together(
        *(
            lambda holder=holder: membership.add_alerts(
                incident, [r.alert for r in holder.relations.select_related("alert")], actor=actor
            )
            for holder in holders
        )
    )

    assert unexpected(results) == []
    assert sum(isinstance(r, IncidentFull) for r in results) == 5
    incident.refresh_from_db()
    assert incident.alert_count == 149
    assert_rules_hold()


# --- (2) moves and removes of the same alerts ------------------------------


def test_concurrent_moves_of_the_same_alerts_never_strand_an_alert_or_deadlock(workspace, actor):
    incidents = [incident_with_alerts(2, workspace=workspace) for _ in range(4)]
    alerts = [alert_in(incidents[0]) for _ in range(6)]
    rng = random.Random(7)

    def job(i: int) -> Callable[[], object]:
        chosen = rng.sample(alerts, k=rng.randint(2, 6))
        destination = None if i % 5 == 0 else incidents[i % 4]
        if i % 2:
            chosen.reverse()
        return lambda: membership.move_alerts(
            chosen, destination=destination, actor=actor, emptied_incident="close"
        )

    results = run_together(*(job(i) for i in range(16)))

    assert unexpected(results) == []
    assert not any(isinstance(r, OperationalError) for r in results)
    assert any(isinstance(r, membership.MoveResult) for r in results)
    assert_rules_hold()
    for alert in alerts:
        assert len(incident_ids_of(alert)) >= 1


def test_concurrent_moves_out_of_a_named_source_never_strand_an_alert(workspace, actor):
    first = incident_with_alerts(1, workspace=workspace)
    second = incident_with_alerts(1, workspace=workspace)
    alerts = [alert_in(first) for _ in range(4)]

    def forth() -> object:
        return membership.move_alerts(alerts, source=first, destination=second, actor=actor)

    def back() -> object:
        return membership.move_alerts(alerts, source=second, destination=first, actor=actor)

    results = run_together(*[forth, back] * 4)

    assert unexpected(results) == []
    assert_rules_hold()


def test_concurrent_removes_of_an_alert_from_its_two_incidents_keep_it_in_one(workspace, actor):
    pairs = []
    for _ in range(6):
        first = incident_with_alerts(1, workspace=workspace)
        second = incident_with_alerts(1, workspace=workspace)
        alert = alert_in(first)
        membership.add_alerts(second, [alert], actor=actor)
        pairs.append((alert, first, second))

    results = run_together(
        *(
            lambda alert=alert, incident=incident: membership.remove_alert(
                incident, alert, actor=actor
            )
            for alert, first, second in pairs
            for incident in (first, second)
        )
    )

    assert unexpected(results) == []
    assert sum(isinstance(r, LastIncident) for r in results) == 6
    for alert, _, _ in pairs:
        assert len(incident_ids_of(alert)) == 1
    assert_rules_hold()


def test_a_mixed_workload_keeps_every_rule_and_never_deadlocks(workspace, actor, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 6
    incidents = [incident_with_alerts(2, workspace=workspace) for _ in range(5)]
    alerts = list(Alert.objects.all())

    def job(seed: int) -> Callable[[], object]:
        def run() -> list[object]:
            rng = random.Random(seed)
            outcomes = []
            for _ in range(6):
                chosen = rng.sample(alerts, k=rng.randint(1, 3))
                incident = rng.choice(incidents)
                operation = rng.choice(["add", "remove", "move", "move_new", "put", "status"])
                try:
                    if operation == "add":
                        membership.add_alerts(incident, chosen, actor=actor, other_incident="close")
                    elif operation == "remove":
                        membership.remove_alert(incident, chosen[0], actor=actor)
                    elif operation == "move":
                        membership.move_alerts(chosen, destination=incident, actor=actor)
                    elif operation == "move_new":
                        membership.move_alerts(chosen, destination=None, actor=actor)
                    elif operation == "put":
                        membership.put_relation(
                            incident, f"r-{chosen[0].pk}", chosen[0], actor=actor
                        )
                    else:
                        actions.change_status(incident, "Active", actor=actor)
                    outcomes.append(operation)
                except (MembershipError, InvalidChange) as refused:
                    outcomes.append(refused)
            return outcomes

        return run

    results = run_together(*(job(seed) for seed in range(12)))

    assert unexpected(results) == []
    assert_rules_hold(limit=6)


def test_adding_through_the_api_while_a_move_takes_the_same_incidents_does_not_deadlock(
    workspace, actor, monkeypatch
):
    # The lower incident holds both alerts; the higher one is where they go.
    low = incident_with_alerts(1, workspace=workspace)
    high = incident_with_alerts(1, workspace=workspace)
    put_alert, moved_alert = alert_in(low), alert_in(low)
    put_holds_its_locks, mover_waits = threading.Event(), threading.Event()
    real_add_alerts = membership.add_alerts

    def add_alerts_after_the_mover_queued(*args, **kwargs):
        put_holds_its_locks.set()
        mover_waits.wait(10)
        return real_add_alerts(*args, **kwargs)

    monkeypatch.setattr(relations, "add_alerts", add_alerts_after_the_mover_queued)
    results: dict[str, object] = {}

    def in_thread(name: str, job: Callable[[], object]) -> threading.Thread:
        def work() -> None:
            try:
                results[name] = job()
            except BaseException as exc:
                results[name] = exc
            finally:
                connection.close()

        thread = threading.Thread(target=work)
        thread.start()
        return thread

    put = in_thread("put", lambda: membership.put_relation(high, "r-1", put_alert, actor=actor))
    assert put_holds_its_locks.wait(10)
    move = in_thread(
        "move",
        lambda: membership.move_alerts([moved_alert], source=low, destination=high, actor=actor),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _a_backend_waits_for_a_lock():
        time.sleep(0.02)
    mover_waits.set()
    put.join(30)
    move.join(30)

    assert not put.is_alive()
    assert not move.is_alive()
    assert unexpected(list(results.values())) == []
    assert incident_ids_of(put_alert) == {low.pk, high.pk}
    assert incident_ids_of(moved_alert) == {high.pk}
    assert_rules_hold()


def _a_backend_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


# --- (3) a failure half-way ------------------------------------------------


@pytest.mark.parametrize("step", ["recount", "close_sole_alert_incidents"])
@pytest.mark.parametrize("to_new_incident", [False, True])
def test_a_failure_in_the_middle_of_a_move_leaves_the_database_exactly_as_before(
    step, to_new_incident, workspace, actor, monkeypatch
):
    source = incident_with_alerts(3, workspace=workspace)
    destination = incident_with_alerts(2, workspace=workspace)
    alerts = [r.alert for r in source.relations.select_related("alert")]
    before = snapshot()
    real = getattr(move, step)

    def do_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(move, step, do_then_fail)

    with pytest.raises(RuntimeError, match="connection lost"):
        membership.move_alerts(
            alerts,
            source=source,
            destination=None if to_new_incident else destination,
            actor=actor,
            emptied_incident="close",
        )

    assert snapshot() == before


def test_a_failure_while_writing_the_log_of_an_add_leaves_the_database_as_before(
    workspace, actor, monkeypatch
):
    incident = incident_with_alerts(2, workspace=workspace)
    alert = alert_in(incident_with_alerts(1, workspace=workspace))
    before = snapshot()

    def fail(entries):
        raise RuntimeError("disk full")

    monkeypatch.setattr(activity, "write", fail)

    with pytest.raises(RuntimeError, match="disk full"):
        membership.add_alerts(incident, [alert], actor=actor)

    assert snapshot() == before


# --- (4) numbering ---------------------------------------------------------


def test_concurrent_incident_creation_gives_unique_consecutive_numbers(
    workspace, other_workspace, actor
):
    results = run_together(
        *(
            lambda ws=ws: membership.create_incident(ws, actor=actor, title="Raced")
            for ws in [workspace] * 15 + [other_workspace] * 5
        )
    )

    assert unexpected(results) == []
    numbers = sorted(r.number for r in results if r.workspace_id == workspace.pk)
    assert numbers == list(range(1, 16))
    others = sorted(r.number for r in results if r.workspace_id == other_workspace.pk)
    assert others == list(range(1, 6))


def test_concurrent_moves_to_new_incidents_give_unique_numbers(workspace, actor):
    holders = [incident_with_alerts(1, workspace=workspace) for _ in range(10)]
    first_new = holders[-1].number + 1

    results = run_together(
        *(
            lambda holder=holder: membership.move_alerts(
                [holder.relations.get().alert], destination=None, actor=actor
            )
            for holder in holders
        )
    )

    assert unexpected(results) == []
    numbers = sorted(r.destination.number for r in results)
    assert numbers == list(range(first_new, first_new + 10))
    assert_rules_hold()
