"""`membership.undo_change`: undo a move, a merge or a remove while nothing has changed since."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import actions, membership
from incidents.activity import Actor
from incidents.errors import UndoRefused
from incidents.models import (
    ActivityKind,
    Alert,
    Classification,
    ClassificationReason,
    Incident,
    IncidentStatus,
    MembershipChange,
    Relation,
    Severity,
)
from tests.factories import (
    IncidentFactory,
    UserFactory,
    activity_of,
    alert_ids_of,
    alert_in,
    everything,
    incident_ids_of,
    incident_with_alerts,
)

pytestmark = pytest.mark.django_db

REASON = "Same intrusion."


@pytest.fixture
def source(workspace):
    return incident_with_alerts(3, workspace=workspace, title="Brute force on DC01")


@pytest.fixture
def destination(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Password spray")


def alerts_of(incident: Incident) -> list[Alert]:
    return list(Alert.objects.filter(relations__incident=incident).order_by("pk"))


def relation_rows(incident: Incident) -> list[dict]:
    """The incident's alert relations as they are stored, without their primary keys."""
    return list(
        Relation.objects.filter(incident=incident, alert__isnull=False)
        .order_by("alert_id")
        .values("alert_id", "name", "reason", "details", "created_by", "created_by_name", "created")
    )


def refused(change: MembershipChange, actor: Actor) -> str:
    """The refusal's words; the database must be exactly as before the attempt."""
    before = everything()
    with pytest.raises(UndoRefused) as raised:
        membership.undo_change(change, actor=actor)
    assert everything() == before
    return raised.value.user_message


def move(alerts, source, destination, actor, **options):
    return membership.move_alerts(
        alerts, source=source, destination=destination, actor=actor, **options
    )


def merge(sources, into, actor):
    return membership.merge_incidents(sources, into=into, actor=actor, reason=REASON)


def age(change: MembershipChange, minutes: float) -> None:
    MembershipChange.objects.filter(pk=change.pk).update(
        created=timezone.now() - dt.timedelta(minutes=minutes)
    )


# --- undo a move ----------------------------------------------------------------


def test_undoing_a_move_puts_the_alerts_back_with_their_original_relations(
    source, destination, actor
):
    alerts = alerts_of(source)[:2]
    source_rows, destination_rows = relation_rows(source), relation_rows(destination)
    result = move(alerts, source, destination, actor)

    membership.undo_change(result.change, actor=actor)

    assert relation_rows(source) == source_rows
    assert relation_rows(destination) == destination_rows
    source.refresh_from_db()
    destination.refresh_from_db()
    assert source.alert_count == 3
    assert destination.alert_count == 2


def test_undoing_a_move_out_of_every_incident_puts_each_alert_back_in_each(
    source, destination, workspace, actor
):
    alert = alerts_of(source)[0]
    third = IncidentFactory(workspace=workspace)
    membership.add_alerts(third, [alert], actor=actor)
    result = move([alert], None, destination, actor)

    membership.undo_change(result.change, actor=actor)

    assert incident_ids_of(alert) == {source.pk, third.pk}


def test_undoing_a_move_leaves_an_alert_that_was_already_in_the_destination_there(
    source, destination, actor
):
    alert = alerts_of(source)[0]
    membership.add_alerts(destination, [alert], actor=actor)
    result = move(alerts_of(source)[:2], source, destination, actor)

    membership.undo_change(result.change, actor=actor)

    assert incident_ids_of(alert) == {source.pk, destination.pk}


def test_undoing_a_move_reopens_an_emptied_source_with_its_previous_status(
    workspace, destination, actor
):
    source = incident_with_alerts(2, workspace=workspace)
    actions.change_status(source, IncidentStatus.ACTIVE, actor=actor)
    result = move(alerts_of(source), source, destination, actor, emptied_incident="close")
    assert result.closed == [source]

    undone = membership.undo_change(result.change, actor=actor)

    source.refresh_from_db()
    assert source.status == IncidentStatus.ACTIVE
    assert source.classification == ""
    assert source.alert_count == 2
    assert undone.reopened == [source]
    assert activity_of(source, ActivityKind.REOPENED)[-1].details["undoes"] == str(
        result.change.uuid
    )


def test_undoing_a_move_to_a_new_incident_closes_the_emptied_new_incident(source, actor):
    alerts = alerts_of(source)[:2]
    result = move(alerts, source, None, actor)
    created = result.destination

    undone = membership.undo_change(result.change, actor=actor)

    created.refresh_from_db()
    assert created.alert_count == 0
    assert created.status == IncidentStatus.CLOSED
    assert created.classification == Classification.UNDETERMINED
    assert (
        created.classification_comment
        == f"Emptied by undoing: 2 alerts linked to new incident #{created.number}."
    )
    assert undone.closed == [created]
    assert {a.pk for a in alerts} <= alert_ids_of(source)


def test_undoing_a_move_to_a_new_incident_that_has_gained_alerts_keeps_it_open(
    source, workspace, actor
):
    result = move(alerts_of(source)[:1], source, None, actor)
    created = result.destination
    membership.add_alerts(
        created, [alert_in(incident_with_alerts(1, workspace=workspace))], actor=actor
    )

    membership.undo_change(result.change, actor=actor)

    created.refresh_from_db()
    assert created.alert_count == 1
    assert not created.is_closed


# --- undo a remove -----------------------------------------------------------------


def test_undoing_a_remove_puts_the_alert_back_with_its_relation(source, workspace, actor):
    alert = alerts_of(source)[0]
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=actor)
    rows = relation_rows(source)
    result = membership.remove_alert(source, alert, actor=actor)

    undone = membership.undo_change(result.change, actor=actor)

    assert relation_rows(source) == rows
    source.refresh_from_db()
    assert source.alert_count == 3
    assert undone.restored == {source: 1}
    assert undone.message == f"Undone: Alert “{alert.display_name}” removed from #{source.number}."


# --- undo a merge ----------------------------------------------------------------


def test_undoing_a_merge_puts_each_alert_back_in_its_source_with_its_relation(
    source, destination, workspace, actor
):
    second = incident_with_alerts(2, workspace=workspace)
    shared = alerts_of(source)[0]
    membership.add_alerts(second, [shared], actor=actor)
    membership.add_alerts(destination, [alerts_of(second)[0]], actor=actor)
    rows = {i.pk: relation_rows(i) for i in (source, second, destination)}
    result = merge([source, second], destination, actor)

    membership.undo_change(result.change, actor=actor)

    assert {i.pk: relation_rows(i) for i in (source, second, destination)} == rows
    for incident in (source, second, destination):
        incident.refresh_from_db()
        assert incident.alert_count == len(rows[incident.pk])


def test_undoing_a_merge_reopens_the_sources_as_they_were(source, destination, actor):
    actions.change_status(source, IncidentStatus.ACTIVE, actor=actor)
    Incident.objects.filter(pk=source.pk).update(labels=["Phishing"])
    result = merge([source], destination, actor)

    membership.undo_change(result.change, actor=actor)

    source.refresh_from_db()
    assert source.status == IncidentStatus.ACTIVE
    assert source.classification == ""
    assert source.classification_comment == ""
    assert source.labels == ["Phishing"]
    assert source.merged_into is None


def test_undoing_a_merge_leaves_a_source_that_was_closed_before_it_closed(
    source, destination, actor
):
    actions.close_incident(
        source,
        classification=Classification.FALSE_POSITIVE,
        reason=ClassificationReason.INCORRECT_ALERT_LOGIC,
        actor=actor,
    )
    result = merge([source], destination, actor)

    membership.undo_change(result.change, actor=actor)

    source.refresh_from_db()
    assert source.is_closed
    assert source.classification == Classification.FALSE_POSITIVE
    assert source.merged_into is None
    assert source.alert_count == 3


def test_undoing_a_merge_restores_the_targets_owner_severity_and_labels(source, destination, actor):
    alice = UserFactory(username="alice")
    Incident.objects.filter(pk=source.pk).update(
        owner=alice, severity=Severity.HIGH, labels=["Phishing"]
    )
    Incident.objects.filter(pk=destination.pk).update(severity=Severity.LOW, labels=["VIP"])
    result = merge([source], destination, actor)

    membership.undo_change(result.change, actor=actor)

    destination.refresh_from_db()
    assert destination.owner is None
    assert destination.severity == Severity.LOW
    assert destination.labels == ["VIP"]


def test_undoing_a_merge_keeps_what_someone_changed_on_the_target_since(
    source, destination, workspace, actor
):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    Incident.objects.filter(pk=source.pk).update(owner=alice, severity=Severity.HIGH)
    Incident.objects.filter(pk=destination.pk).update(severity=Severity.LOW)
    result = merge([source], destination, actor)
    Incident.objects.filter(pk=destination.pk).update(owner=bob, labels=["Escalated"])

    membership.undo_change(result.change, actor=actor)

    destination.refresh_from_db()
    assert destination.owner == bob
    assert destination.labels == ["Escalated"]
    assert destination.severity == Severity.LOW


def test_a_merge_undone_can_be_done_again(source, destination, actor):
    first = merge([source], destination, actor)
    membership.undo_change(first.change, actor=actor)

    again = merge([source], destination, actor)

    assert len(again.joined) == 3
    source.refresh_from_db()
    assert source.merged_into == destination


# --- the log --------------------------------------------------------------------


def test_undoing_keeps_the_original_entries_and_adds_one_naming_them_on_each_incident(
    source, destination, actor
):
    result = move(alerts_of(source)[:2], source, destination, actor)
    logs = {i.pk: activity_of(i) for i in (source, destination)}

    membership.undo_change(result.change, actor=actor)

    for incident in (source, destination):
        log = activity_of(incident)
        assert log[: len(logs[incident.pk])] == logs[incident.pk]
        (entry,) = log[len(logs[incident.pk]) :]
        assert entry.kind == ActivityKind.UNDONE
        assert entry.actor == actor.user
        assert entry.details["undoes"] == str(result.change.uuid)
        assert entry.details["undone_entries"] == sorted(
            e.pk for e in logs[incident.pk] if e.details.get("change") == str(result.change.uuid)
        )
        # The move wrote one entry on each (two alerts, one per incident and direction).
        assert len(entry.details["undone_entries"]) == 1


def test_the_undo_entries_say_what_came_back_and_what_left_again(source, destination, actor):
    result = move(alerts_of(source)[:2], source, destination, actor)
    when = timezone.localtime(result.change.created).strftime("%H:%M")

    membership.undo_change(result.change, actor=actor)

    summary = f"2 alerts linked to #{destination.number}"
    assert activity_of(source)[-1].message == (
        f"responder undid a change responder made at {when}: {summary}. "
        "2 alerts came back to this incident."
    )
    assert activity_of(destination)[-1].message == (
        f"responder undid a change responder made at {when}: {summary}. "
        "2 alerts left this incident again."
    )


def test_undoing_a_merge_logs_once_on_the_target_and_on_each_source(
    source, destination, workspace, actor
):
    second = incident_with_alerts(1, workspace=workspace)
    result = merge([source, second], destination, actor)

    membership.undo_change(result.change, actor=actor)

    for incident in (source, second, destination):
        (entry,) = activity_of(incident, ActivityKind.UNDONE)
        assert entry.details["undoes"] == str(result.change.uuid)
    merged_in = activity_of(destination, ActivityKind.MERGED_IN)
    (undone,) = activity_of(destination, ActivityKind.UNDONE)
    assert {e.pk for e in merged_in} <= set(undone.details["undone_entries"])


def test_an_undone_change_is_marked_with_who_undid_it(source, destination, actor):
    result = move(alerts_of(source)[:1], source, destination, actor)

    membership.undo_change(result.change, actor=actor)

    result.change.refresh_from_db()
    assert result.change.undone is not None
    assert result.change.undone_by_name == "responder"


# --- refusals --------------------------------------------------------------------


def test_undo_is_refused_when_a_moved_alert_has_since_joined_another_incident(
    source, destination, workspace, actor
):
    alert = alerts_of(source)[0]
    result = move([alert], source, destination, actor)
    later = incident_with_alerts(1, workspace=workspace)
    membership.add_alerts(later, [alert], actor=actor)

    assert refused(result.change, actor) == (
        f"This change cannot be undone: Alert “{alert.display_name}” has since been added to "
        f"#{later.number}. Nothing was changed."
    )


def test_undo_is_refused_when_an_alert_has_since_left_an_incident(
    source, destination, workspace, actor
):
    alert = alerts_of(source)[0]
    elsewhere = incident_with_alerts(1, workspace=workspace)
    membership.add_alerts(elsewhere, [alert], actor=actor)
    result = move([alert], source, destination, actor)
    membership.remove_alert(elsewhere, alert, actor=actor)

    assert refused(result.change, actor) == (
        f"This change cannot be undone: Alert “{alert.display_name}” has since been removed "
        f"from #{elsewhere.number}. Nothing was changed."
    )


def test_undo_is_refused_when_an_incident_it_closed_has_since_been_reopened(
    source, destination, actor
):
    result = move(alerts_of(source), source, destination, actor, emptied_incident="close")
    actions.reopen_incident(source, actor=actor)

    assert refused(result.change, actor) == (
        f"This change cannot be undone: Incident #{source.number} has since been reopened. "
        "Nothing was changed."
    )


def test_undo_of_a_merge_is_refused_when_the_target_has_since_been_merged_elsewhere(
    source, destination, workspace, actor
):
    result = merge([source], destination, actor)
    later = incident_with_alerts(1, workspace=workspace)
    merge([destination], later, actor)

    assert refused(result.change, actor) == (
        f"This change cannot be undone: Incident #{destination.number} has since been merged "
        f"into #{later.number}. Nothing was changed."
    )


def test_undo_of_a_move_is_refused_when_its_source_has_since_been_merged(
    source, destination, workspace, actor
):
    result = move(alerts_of(source)[:1], source, destination, actor)
    later = incident_with_alerts(1, workspace=workspace)
    merge([source], later, actor)

    assert refused(result.change, actor) == (
        f"This change cannot be undone: Incident #{source.number} has since been merged "
        f"into #{later.number}. Nothing was changed."
    )


def test_undo_is_refused_when_it_would_pass_the_cap(source, destination, workspace, actor):
    result = move(alerts_of(source)[:2], source, destination, actor)
    filler = incident_with_alerts(148, workspace=workspace)
    membership.add_alerts(source, alerts_of(filler)[:148], actor=actor)

    assert refused(result.change, actor) == (
        f"This change cannot be undone: Incident #{source.number} now has 149 alerts; putting "
        "2 back would pass the limit of 150 alerts per incident. Nothing was changed."
    )


def test_undo_is_refused_after_the_undo_window(source, destination, actor):
    result = move(alerts_of(source)[:1], source, destination, actor)
    age(result.change, minutes=15.5)
    result.change.refresh_from_db()
    made = timezone.localtime(result.change.created).strftime("%H:%M")

    assert refused(result.change, actor) == (
        f"A change can be undone for 15 minutes; this one was made at {made}."
    )


def test_undo_goes_through_just_inside_the_undo_window(source, destination, actor):
    result = move(alerts_of(source)[:1], source, destination, actor)
    age(result.change, minutes=14.5)

    membership.undo_change(result.change, actor=actor)

    assert source.pk in incident_ids_of(alerts_of(source)[0])


def test_undoing_twice_is_refused_and_changes_nothing_the_second_time(source, destination, actor):
    result = move(alerts_of(source)[:1], source, destination, actor)
    membership.undo_change(result.change, actor=actor)
    result.change.refresh_from_db()
    when = timezone.localtime(result.change.undone).strftime("%H:%M")

    assert refused(result.change, actor) == (
        f"This change was already undone by responder at {when}."
    )


def test_the_refusal_can_be_read_before_trying(source, destination, workspace, actor):
    alert = alerts_of(source)[0]
    result = move([alert], source, destination, actor)
    assert membership.undo_refusal(result.change) is None
    later = incident_with_alerts(1, workspace=workspace)
    membership.add_alerts(later, [alert], actor=actor)
    before = everything()

    reason = membership.undo_refusal(result.change)

    assert reason == f"Alert “{alert.display_name}” has since been added to #{later.number}."
    assert everything() == before


# --- latest_undoable ------------------------------------------------------------


def test_the_latest_undoable_change_is_the_most_recent_one(source, destination, actor):
    alerts = alerts_of(source)
    move(alerts[:1], source, destination, actor)
    latest = move(alerts[1:2], source, destination, actor)

    assert membership.latest_undoable(source) == latest.change
    assert membership.latest_undoable(destination) == latest.change


def test_an_undone_change_is_no_longer_the_latest_undoable(source, destination, actor):
    alerts = alerts_of(source)
    first = move(alerts[:1], source, destination, actor)
    second = move(alerts[1:2], source, destination, actor)
    membership.undo_change(second.change, actor=actor)

    assert membership.latest_undoable(source) == first.change


def test_the_latest_undoable_change_skips_a_later_change_that_cannot_be_undone(
    source, destination, workspace, actor
):
    alerts = alerts_of(source)
    first = move(alerts[:1], source, destination, actor)
    second = move(alerts[1:2], source, destination, actor)
    membership.add_alerts(incident_with_alerts(1, workspace=workspace), [alerts[1]], actor=actor)
    assert membership.undo_refusal(second.change) is not None

    assert membership.latest_undoable(source) == first.change


def test_there_is_no_undoable_change_once_the_window_has_passed(source, destination, actor):
    result = move(alerts_of(source)[:1], source, destination, actor)
    age(result.change, minutes=16)

    assert membership.latest_undoable(source) is None


def test_an_incident_never_changed_has_no_undoable_change(destination):
    assert membership.latest_undoable(destination) is None


# --- query count -----------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 74])
def test_undoing_a_merge_takes_the_same_number_of_queries_for_one_alert_or_a_full_incident(
    count, destination, workspace, actor, django_assert_max_num_queries
):
    sources = [incident_with_alerts(count, workspace=workspace) for _ in range(2)]
    result = merge(sources, destination, actor)

    with django_assert_max_num_queries(26):
        membership.undo_change(result.change, actor=actor)

    assert len(alert_ids_of(destination)) == 2
    assert all(len(alert_ids_of(source)) == count for source in sources)


@pytest.mark.parametrize("count", [1, 74])
def test_undoing_a_move_to_a_new_incident_takes_a_bounded_number_of_queries(
    count, workspace, actor, django_assert_max_num_queries
):
    source = incident_with_alerts(count, workspace=workspace)
    result = move(alerts_of(source), source, None, actor, emptied_incident="close")

    with django_assert_max_num_queries(24):
        membership.undo_change(result.change, actor=actor)

    source.refresh_from_db()
    assert source.alert_count == count
