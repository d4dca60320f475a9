"""`membership.move_alerts`: "Link alerts to another incident", existing or new."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import membership
from incidents.actions import close_incident
from incidents.errors import (
    AlertAlreadyInIncident,
    AlertNotInIncident,
    DifferentWorkspace,
    IncidentFull,
    IncidentNotFound,
    InvalidChange,
    NothingToMove,
    ProviderManagedAdd,
    ProviderManagedRemove,
)
from incidents.membership import move
from incidents.models import (
    ActivityKind,
    Alert,
    Classification,
    ClassificationReason,
    Incident,
    IncidentStatus,
    Relation,
    Severity,
)
from tests.factories import (
    DEFENDER,
    IncidentFactory,
    activity_of,
    alert_ids_of,
    alert_in,
    defender_alert_in,
    incident_ids_of,
    incident_with_alerts,
    snapshot,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(workspace):
    return incident_with_alerts(3, workspace=workspace, title="Brute force on DC01")


@pytest.fixture
def destination(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Password spray")


def alerts_of(incident: Incident, count: int | None = None) -> list:
    alerts = [r.alert for r in incident.relations.select_related("alert").order_by("pk")]
    return alerts[:count] if count is not None else alerts


# --- to an existing incident -----------------------------------------------


def test_moving_takes_the_alerts_out_of_the_source_and_into_the_destination(
    source, destination, actor
):
    alerts = alerts_of(source, 2)

    result = membership.move_alerts(alerts, source=source, destination=destination, actor=actor)

    assert {a.pk for a in alerts} <= alert_ids_of(destination)
    assert not {a.pk for a in alerts} & alert_ids_of(source)
    source.refresh_from_db()
    destination.refresh_from_db()
    assert source.alert_count == 1 == len(alert_ids_of(source))
    assert destination.alert_count == 4 == len(alert_ids_of(destination))
    assert result.destination == destination
    assert result.created is False
    assert result.moved == alerts
    assert result.left == {source: alerts}


def test_moving_records_on_the_destination_who_moved_it_from_where_and_the_comment(
    source, destination, actor
):
    alert = alert_in(source, display_name="Mimikatz credential theft")
    before = len(activity_of(destination))

    membership.move_alerts(
        [alert], source=source, destination=destination, actor=actor, comment="Wrong campaign."
    )

    (entry,) = activity_of(destination)[before:]
    assert entry.kind == ActivityKind.ALERT_MOVED_IN
    assert entry.actor == actor.user
    assert entry.message == (
        "Alert “Mimikatz credential theft” was correlated with this incident by responder, "
        f"moved from #{source.number}."
    )
    assert entry.comment == "Wrong campaign."
    assert entry.details["from"] == [source.number]
    relation = Relation.objects.get(incident=destination, alert=alert)
    assert relation.details["comment"] == "Wrong campaign."


def test_moving_records_on_the_source_that_the_alert_left_and_where_to(source, destination, actor):
    alert = alert_in(source, display_name="Mimikatz credential theft")
    before = len(activity_of(source))

    membership.move_alerts(
        [alert], source=source, destination=destination, actor=actor, comment="Wrong campaign."
    )

    (entry,) = activity_of(source)[before:]
    assert entry.kind == ActivityKind.ALERT_MOVED_OUT
    assert entry.actor == actor.user
    assert entry.message == (
        "Alert “Mimikatz credential theft” was unlinked from this incident and linked to "
        f"#{destination.number} by responder."
    )
    assert entry.comment == "Wrong campaign."
    assert entry.details["to"] == destination.number


def test_a_bulk_move_writes_one_entry_per_incident_and_direction_listing_the_alerts(
    source, destination, actor
):
    alerts = [alert_in(source, display_name=f"Password spray {n}") for n in range(12)]
    before = {i.pk: len(activity_of(i)) for i in (source, destination)}

    membership.move_alerts(
        alerts, source=source, destination=destination, actor=actor, comment="Same actor."
    )

    (moved_in,) = activity_of(destination)[before[destination.pk] :]
    assert moved_in.kind == ActivityKind.ALERT_MOVED_IN
    assert moved_in.message == (
        f"12 alerts moved in from #{source.number} by responder: “Password spray 0”, "
        "“Password spray 1”, “Password spray 2” and 9 more."
    )
    assert moved_in.comment == "Same actor."
    assert moved_in.details["from"] == [source.number]
    assert moved_in.details["alert_list"] == [
        {"alert": str(a.system_alert_id), "alert_name": a.display_name, "from": [source.number]}
        for a in alerts
    ]
    (moved_out,) = activity_of(source)[before[source.pk] :]
    assert moved_out.kind == ActivityKind.ALERT_MOVED_OUT
    assert moved_out.message == (
        f"12 alerts moved out to #{destination.number} by responder: “Password spray 0”, "
        "“Password spray 1”, “Password spray 2” and 9 more."
    )
    assert moved_out.details["to"] == destination.number
    assert [a["alert"] for a in moved_out.details["alert_list"]] == [
        str(a.system_alert_id) for a in alerts
    ]


def test_a_move_from_several_incidents_writes_one_entry_on_each(
    source, destination, workspace, actor
):
    third = IncidentFactory(workspace=workspace)
    first = [alert_in(source, display_name="Beacon") for _ in range(2)]
    other = alert_in(third, display_name="Lateral movement")

    membership.move_alerts([*first, other], destination=destination, actor=actor)

    (moved_in,) = activity_of(destination, ActivityKind.ALERT_MOVED_IN)
    assert moved_in.message == (
        f"3 alerts moved in from #{source.number}, #{third.number} by responder: "
        "“Beacon”, “Beacon” and “Lateral movement”."
    )
    assert [a["from"] for a in moved_in.details["alert_list"]] == [
        [source.number],
        [source.number],
        [third.number],
    ]
    (from_source,) = activity_of(source, ActivityKind.ALERT_MOVED_OUT)
    assert from_source.message.startswith(f"2 alerts moved out to #{destination.number}")
    (from_third,) = activity_of(third, ActivityKind.ALERT_MOVED_OUT)
    assert from_third.message == (
        "Alert “Lateral movement” was unlinked from this incident and linked to "
        f"#{destination.number} by responder."
    )


def test_moving_from_a_source_leaves_the_alerts_other_incidents_alone(
    source, destination, workspace, actor
):
    alert = alert_in(source)
    third = IncidentFactory(workspace=workspace)
    membership.add_alerts(third, [alert], actor=actor)
    third_log = activity_of(third)

    membership.move_alerts([alert], source=source, destination=destination, actor=actor)

    assert incident_ids_of(alert) == {third.pk, destination.pk}
    assert activity_of(third) == third_log


def test_moving_without_a_source_takes_the_alerts_out_of_every_incident(
    source, destination, workspace, actor
):
    alert = alert_in(source)
    third = IncidentFactory(workspace=workspace)
    membership.add_alerts(third, [alert], actor=actor)

    result = membership.move_alerts([alert], destination=destination, actor=actor)

    assert incident_ids_of(alert) == {destination.pk}
    assert set(result.left) == {source, third}
    assert activity_of(third, ActivityKind.ALERT_MOVED_OUT)[-1].details["to"] == (
        destination.number
    )
    (moved_in,) = activity_of(destination, ActivityKind.ALERT_MOVED_IN)
    assert moved_in.details["from"] == sorted([source.number, third.number])


def test_moving_an_alert_already_in_the_destination_only_takes_it_out_of_the_source(
    source, destination, actor
):
    alert = alert_in(source)
    membership.add_alerts(destination, [alert], actor=actor)
    destination_log = activity_of(destination)

    membership.move_alerts([alert], source=source, destination=destination, actor=actor)

    assert incident_ids_of(alert) == {destination.pk}
    assert Relation.objects.filter(incident=destination, alert=alert).count() == 1
    assert activity_of(destination) == destination_log
    assert activity_of(source, ActivityKind.ALERT_MOVED_OUT)


def test_moving_alerts_that_are_only_in_the_destination_is_refused_and_changes_nothing(
    destination, actor
):
    alert = alerts_of(destination, 1)[0]
    before = snapshot()

    with pytest.raises(AlertAlreadyInIncident) as refused:
        membership.move_alerts([alert], destination=destination, actor=actor)

    assert refused.value.message == (
        f"Failed to create relation. Alert {alert.system_alert_id} already exists in incident "
        f"{destination.uuid}."
    )
    assert snapshot() == before


def test_moving_an_alert_that_is_not_in_the_source_is_refused_and_changes_nothing(
    source, destination, workspace, actor
):
    stranger = alert_in(IncidentFactory(workspace=workspace))
    alerts = [alerts_of(source, 1)[0], stranger]
    before = snapshot()

    with pytest.raises(AlertNotInIncident) as refused:
        membership.move_alerts(alerts, source=source, destination=destination, actor=actor)

    assert refused.value.message == (
        f"Alert {stranger.system_alert_id} is not related to incident {source.uuid}."
    )
    assert f"#{source.number}" in refused.value.user_message
    assert snapshot() == before


def test_moving_nothing_is_refused(destination, actor):
    with pytest.raises(NothingToMove):
        membership.move_alerts([], destination=destination, actor=actor)


def test_moving_to_an_incident_that_no_longer_exists_is_refused_and_changes_nothing(
    source, workspace, actor
):
    gone = IncidentFactory(workspace=workspace)
    Incident.objects.filter(pk=gone.pk).delete()
    before = snapshot()

    with pytest.raises(IncidentNotFound):
        membership.move_alerts(alerts_of(source, 1), destination=gone, actor=actor)

    assert snapshot() == before


def test_moving_with_a_comment_that_is_too_long_is_refused_and_changes_nothing(
    source, destination, actor
):
    before = snapshot()

    with pytest.raises(InvalidChange):
        membership.move_alerts(
            alerts_of(source, 1), destination=destination, actor=actor, comment="x" * 30_001
        )

    assert snapshot() == before


def test_moving_updates_the_callers_incident_objects(source, destination, actor):
    membership.move_alerts(
        alerts_of(source, 3),
        source=source,
        destination=destination,
        actor=actor,
        emptied_incident="close",
    )

    assert destination.alert_count == 5
    assert source.alert_count == 0
    assert source.status == IncidentStatus.CLOSED
    assert source.classification == Classification.UNDETERMINED
    assert source.closed is not None


# --- the emptied source: keep or close -------------------------------------


def test_keeping_the_emptied_source_leaves_it_open_and_empty(source, destination, actor):
    result = membership.move_alerts(
        alerts_of(source), source=source, destination=destination, actor=actor
    )

    source.refresh_from_db()
    assert source.alert_count == 0
    assert source.status == IncidentStatus.NEW
    assert result.closed == []
    assert activity_of(source, ActivityKind.CLOSED) == []


def test_closing_the_emptied_source_closes_it_as_undetermined_naming_the_destination(
    source, destination, actor
):
    result = membership.move_alerts(
        alerts_of(source),
        source=source,
        destination=destination,
        actor=actor,
        emptied_incident="close",
    )

    source.refresh_from_db()
    assert result.closed == [source]
    assert source.status == IncidentStatus.CLOSED
    assert source.classification == Classification.UNDETERMINED
    assert "Alert was added to another incident" in source.classification_comment
    assert f"#{destination.number}" in source.classification_comment
    (closed,) = activity_of(source, ActivityKind.CLOSED)
    assert closed.actor == actor.user
    assert closed.comment == source.classification_comment
    # Closed after the alerts left it, in the same change.
    assert activity_of(source)[-1] == closed


def test_closing_applies_only_to_sources_left_without_alerts(source, destination, actor):
    result = membership.move_alerts(
        alerts_of(source, 2),
        source=source,
        destination=destination,
        actor=actor,
        emptied_incident="close",
    )

    source.refresh_from_db()
    assert result.closed == []
    assert source.status == IncidentStatus.NEW


def test_closing_an_emptied_source_that_was_already_closed_writes_nothing_more(
    source, destination, actor
):
    close_incident(source, classification=Classification.UNDETERMINED, actor=actor)
    closed_entries = activity_of(source, ActivityKind.CLOSED)

    result = membership.move_alerts(
        alerts_of(source),
        source=source,
        destination=destination,
        actor=actor,
        emptied_incident="close",
    )

    assert result.closed == []
    assert activity_of(source, ActivityKind.CLOSED) == closed_entries


def test_each_emptied_incident_is_kept_or_closed_as_its_own_choice_says(
    workspace, destination, actor
):
    kept = incident_with_alerts(1, workspace=workspace)
    closing = incident_with_alerts(1, workspace=workspace)
    alerts = alerts_of(kept) + alerts_of(closing)

    result = membership.move_alerts(
        alerts,
        destination=destination,
        actor=actor,
        emptied_incident={kept.pk: "keep", closing.pk: "close"},
    )

    kept.refresh_from_db()
    closing.refresh_from_db()
    assert result.closed == [closing]
    assert kept.status == IncidentStatus.NEW
    assert kept.alert_count == 0
    assert closing.status == IncidentStatus.CLOSED
    assert closing.classification == Classification.UNDETERMINED
    assert f"#{destination.number}" in closing.classification_comment


def test_an_emptied_incident_the_choices_do_not_name_is_kept(source, destination, actor):
    result = membership.move_alerts(
        alerts_of(source),
        source=source,
        destination=destination,
        actor=actor,
        emptied_incident={},
    )

    source.refresh_from_db()
    assert result.closed == []
    assert source.status == IncidentStatus.NEW


def test_undoing_a_move_reopens_only_the_emptied_incident_it_closed(workspace, destination, actor):
    kept = incident_with_alerts(1, workspace=workspace)
    closing = incident_with_alerts(1, workspace=workspace)
    result = membership.move_alerts(
        alerts_of(kept) + alerts_of(closing),
        destination=destination,
        actor=actor,
        emptied_incident={kept.pk: "keep", closing.pk: "close"},
    )

    membership.undo_change(result.change, actor=actor)

    kept.refresh_from_db()
    closing.refresh_from_db()
    assert (kept.status, kept.alert_count) == (IncidentStatus.NEW, 1)
    assert (closing.status, closing.alert_count) == (IncidentStatus.NEW, 1)


# --- a closed destination: reopen it or join it closed ---------------------


def close_as_false_positive(incident: Incident, actor) -> None:
    close_incident(
        incident,
        classification=Classification.FALSE_POSITIVE,
        reason=ClassificationReason.INCORRECT_ALERT_LOGIC,
        actor=actor,
        comment="Known scanner",
    )
    incident.refresh_from_db()


def test_moving_into_a_closed_destination_can_reopen_it_in_the_same_change(
    source, destination, actor
):
    close_as_false_positive(destination, actor)

    result = membership.move_alerts(
        alerts_of(source, 1),
        source=source,
        destination=destination,
        actor=actor,
        reopen_destination=True,
    )

    destination.refresh_from_db()
    assert result.reopened
    assert destination.status == IncidentStatus.ACTIVE
    assert destination.classification == ""
    (reopened,) = activity_of(destination, ActivityKind.REOPENED)
    assert reopened.details["change"] == str(result.change.uuid)
    assert "to link alerts to it" in reopened.message


def test_moving_into_a_closed_destination_without_reopen_leaves_it_closed(
    source, destination, actor
):
    close_as_false_positive(destination, actor)

    result = membership.move_alerts(
        alerts_of(source, 1), source=source, destination=destination, actor=actor
    )

    destination.refresh_from_db()
    assert not result.reopened
    assert destination.status == IncidentStatus.CLOSED
    assert activity_of(destination, ActivityKind.REOPENED) == []


def test_reopen_leaves_an_open_destination_as_it_is(source, destination, actor):
    result = membership.move_alerts(
        alerts_of(source, 1),
        source=source,
        destination=destination,
        actor=actor,
        reopen_destination=True,
    )

    assert not result.reopened
    assert activity_of(destination, ActivityKind.REOPENED) == []


def test_undoing_a_move_that_reopened_its_destination_closes_it_again_as_it_was(
    source, destination, actor
):
    close_as_false_positive(destination, actor)
    moved = alerts_of(source, 1)
    result = membership.move_alerts(
        moved, source=source, destination=destination, actor=actor, reopen_destination=True
    )

    undone = membership.undo_change(result.change, actor=actor)

    destination.refresh_from_db()
    assert undone.closed == [destination]
    assert destination.status == IncidentStatus.CLOSED
    assert destination.classification == Classification.FALSE_POSITIVE
    assert destination.classification_reason == ClassificationReason.INCORRECT_ALERT_LOGIC
    assert destination.classification_comment == "Known scanner"
    assert moved[0] not in alerts_of(destination)


def test_undo_of_a_move_that_reopened_its_destination_is_refused_once_it_is_closed_again(
    source, destination, actor
):
    close_as_false_positive(destination, actor)
    result = membership.move_alerts(
        alerts_of(source, 1),
        source=source,
        destination=destination,
        actor=actor,
        reopen_destination=True,
    )
    close_as_false_positive(destination, actor)

    assert membership.undo_refusal(result.change) == (
        f"Incident #{destination.number} has since been closed."
    )


# --- rule 1: the cap -------------------------------------------------------


def test_moving_into_a_full_incident_is_refused_and_changes_nothing(source, workspace, actor):
    full = incident_with_alerts(150, workspace=workspace)
    before = snapshot()

    with pytest.raises(IncidentFull) as refused:
        membership.move_alerts(alerts_of(source, 1), source=source, destination=full, actor=actor)

    assert refused.value.message == (
        f"Failed to create relation. Incident {full.uuid} already contains 150 alerts; "
        "an incident can contain at most 150 alerts."
    )
    assert f"#{full.number}" in refused.value.user_message
    assert snapshot() == before


def test_moving_more_alerts_than_a_small_cap_leaves_room_for_moves_none(
    source, destination, actor, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 4
    before = snapshot()

    with pytest.raises(IncidentFull):
        membership.move_alerts(alerts_of(source, 3), destination=destination, actor=actor)

    assert snapshot() == before


def test_moving_up_to_a_small_cap_is_allowed(source, destination, actor, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 4

    membership.move_alerts(alerts_of(source, 2), destination=destination, actor=actor)

    destination.refresh_from_db()
    assert destination.alert_count == 4


def test_moving_more_alerts_than_the_cap_to_a_new_incident_is_refused_and_creates_nothing(
    source, actor, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    before = snapshot()

    with pytest.raises(IncidentFull) as refused:
        membership.move_alerts(alerts_of(source), destination=None, actor=actor)

    assert refused.value.message.endswith("an incident can contain at most 2 alerts.")
    assert snapshot() == before


def test_alerts_already_in_the_destination_do_not_count_against_the_cap(
    source, destination, actor, settings
):
    alert = alerts_of(source, 1)[0]
    membership.add_alerts(destination, [alert], actor=actor)
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3

    membership.move_alerts([alert], source=source, destination=destination, actor=actor)

    destination.refresh_from_db()
    assert destination.alert_count == 3


# --- rule 2: same workspace ------------------------------------------------


def test_moving_to_an_incident_of_another_workspace_is_refused_and_changes_nothing(
    source, other_workspace, actor
):
    foreign = incident_with_alerts(1, workspace=other_workspace)
    before = snapshot()

    with pytest.raises(DifferentWorkspace) as refused:
        membership.move_alerts(alerts_of(source, 1), destination=foreign, actor=actor)

    assert refused.value.message == (
        "Failed to create relation. Related resource and incident should belong to the same "
        "workspace."
    )
    assert f"#{foreign.number}" in refused.value.user_message
    assert snapshot() == before


def test_moving_to_a_new_incident_in_another_workspace_is_refused_and_creates_nothing(
    source, other_workspace, actor
):
    before = snapshot()

    with pytest.raises(DifferentWorkspace):
        membership.move_alerts(
            alerts_of(source, 1), destination=None, workspace=other_workspace, actor=actor
        )

    assert snapshot() == before


# --- rule 5: provider-managed incidents ------------------------------------


@pytest.fixture
def defender_incident(workspace):
    incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    defender_alert_in(incident)
    defender_alert_in(incident)
    return incident


def test_moving_a_defender_alert_out_of_a_defender_incident_is_refused_and_changes_nothing(
    defender_incident, destination, actor
):
    before = snapshot()

    with pytest.raises(ProviderManagedRemove) as refused:
        membership.move_alerts(
            alerts_of(defender_incident, 1),
            source=defender_incident,
            destination=destination,
            actor=actor,
        )

    assert refused.value.message == (
        "Failed to delete relation. Microsoft Defender XDR alerts cannot be removed from "
        "Microsoft Defender XDR incidents."
    )
    assert f"#{defender_incident.number}" in refused.value.user_message
    assert snapshot() == before


def test_moving_a_defender_alert_out_of_a_defender_incident_to_a_new_one_is_refused(
    defender_incident, actor
):
    before = snapshot()

    with pytest.raises(ProviderManagedRemove):
        membership.move_alerts(alerts_of(defender_incident, 1), destination=None, actor=actor)

    assert snapshot() == before


def test_moving_a_defender_alert_into_a_defender_incident_is_refused_and_changes_nothing(
    defender_incident, workspace, actor
):
    sentinel = incident_with_alerts(1, workspace=workspace)
    alert = defender_alert_in(sentinel)
    before = snapshot()

    with pytest.raises(ProviderManagedAdd) as refused:
        membership.move_alerts([alert], source=sentinel, destination=defender_incident, actor=actor)

    assert refused.value.message == (
        "Failed to create relation. Microsoft Defender XDR alerts cannot be added to "
        "Microsoft Defender XDR incidents."
    )
    assert snapshot() == before


def test_a_defender_alert_moves_freely_between_non_defender_incidents(source, destination, actor):
    alert = defender_alert_in(source)

    membership.move_alerts([alert], source=source, destination=destination, actor=actor)

    assert incident_ids_of(alert) == {destination.pk}


def test_a_sentinel_alert_moves_into_and_out_of_a_defender_incident(
    source, destination, defender_incident, actor
):
    alert = alerts_of(source, 1)[0]

    membership.move_alerts([alert], source=source, destination=defender_incident, actor=actor)
    assert incident_ids_of(alert) == {defender_incident.pk}

    membership.move_alerts([alert], source=defender_incident, destination=destination, actor=actor)
    assert incident_ids_of(alert) == {destination.pk}


# --- to a new incident -----------------------------------------------------


def test_moving_to_a_new_incident_creates_it_with_the_next_number_and_the_alerts(
    source, destination, workspace, actor
):
    alerts = alerts_of(source, 2)

    result = membership.move_alerts(alerts, source=source, destination=None, actor=actor)

    created = result.destination
    assert result.created is True
    assert created.workspace == workspace
    assert created.number == max(source.number, destination.number) + 1
    assert created.status == IncidentStatus.NEW
    assert alert_ids_of(created) == {a.pk for a in alerts}
    created.refresh_from_db()
    assert created.alert_count == 2
    assert len(alert_ids_of(source)) == 1


def test_a_new_incident_records_its_creation_and_the_alerts_it_received(source, actor):
    alerts = alerts_of(source, 2)

    created = membership.move_alerts(
        alerts, source=source, destination=None, actor=actor, comment="New campaign."
    ).destination

    entries = activity_of(created)
    assert [e.kind for e in entries] == [ActivityKind.CREATED, ActivityKind.ALERT_MOVED_IN]
    assert entries[0].actor == actor.user
    assert entries[0].message == "responder created the incident from 2 alerts."
    assert entries[1].message.startswith(f"2 alerts moved in from #{source.number} by responder")
    assert entries[1].comment == "New campaign."
    assert len(entries[1].details["alert_list"]) == 2
    assert len(activity_of(source, ActivityKind.ALERT_MOVED_OUT)) == 1


def test_a_new_incident_takes_the_highest_severity_of_its_alerts(workspace, actor):
    holder = IncidentFactory(workspace=workspace)
    alerts = [
        alert_in(holder, severity=Severity.LOW),
        alert_in(holder, severity=Severity.HIGH),
        alert_in(holder, severity=Severity.INFORMATIONAL),
    ]

    created = membership.move_alerts(alerts, destination=None, actor=actor).destination

    assert created.severity == Severity.HIGH


def _alerts_named(holder, *names, start=None):
    start = start or timezone.now() - dt.timedelta(days=1)
    return [
        alert_in(holder, display_name=name, time_generated=start + dt.timedelta(minutes=i))
        for i, name in enumerate(names)
    ]


@pytest.mark.parametrize(
    ("names", "title"),
    [
        (["Suspicious sign-in"], "Suspicious sign-in"),
        (["Suspicious sign-in", "Suspicious sign-in"], "Suspicious sign-in (2 alerts)"),
        (["Suspicious sign-in", "Mass download"], "Suspicious sign-in and Mass download"),
        (
            ["Suspicious sign-in", "Mass download", "Suspicious sign-in"],
            "Suspicious sign-in and Mass download",
        ),
        (
            ["Suspicious sign-in", "Mass download", "Ransomware", "Log cleared"],
            "Suspicious sign-in, Mass download and 2 more",
        ),
        (["   "], "Untitled alert"),
    ],
)
def test_a_new_incident_is_named_after_its_alerts(names, title, workspace, actor):
    alerts = _alerts_named(IncidentFactory(workspace=workspace), *names)

    created = membership.move_alerts(alerts, destination=None, actor=actor).destination

    assert created.title == title


def test_a_new_incident_is_named_after_the_earliest_alert_first(workspace, actor):
    holder = IncidentFactory(workspace=workspace)
    now = timezone.now()
    late = alert_in(holder, display_name="Late", time_generated=now)
    early = alert_in(holder, display_name="Early", time_generated=now - dt.timedelta(hours=2))
    started_earlier = alert_in(
        holder,
        display_name="Started earlier",
        time_generated=now - dt.timedelta(hours=1),
        start_time=now - dt.timedelta(hours=3),
    )

    created = membership.move_alerts(
        [late, early, started_earlier], destination=None, actor=actor
    ).destination

    assert created.title == "Started earlier, Early and 1 more"


def test_a_new_incidents_long_name_is_cut_to_the_title_length(workspace, actor):
    alerts = _alerts_named(IncidentFactory(workspace=workspace), "A" * 200, "B" * 200)

    created = membership.move_alerts(alerts, destination=None, actor=actor).destination

    assert len(created.title) == 256
    assert created.title == ("A" * 200 + " and " + "B" * 200)[:255] + "…"


def test_a_refused_move_to_a_new_incident_does_not_use_up_its_number(
    source, destination, other_workspace, actor
):
    with pytest.raises(DifferentWorkspace):
        membership.move_alerts(
            alerts_of(source, 1), destination=None, workspace=other_workspace, actor=actor
        )

    created = membership.move_alerts(
        alerts_of(source, 1), destination=None, actor=actor
    ).destination

    assert created.number == max(source.number, destination.number) + 1


# --- atomicity ---------------------------------------------------------------


@pytest.mark.parametrize("to_new_incident", [False, True])
@pytest.mark.parametrize("step", ["recount", "close_sole_alert_incidents"])
def test_a_failure_in_the_middle_of_a_move_leaves_everything_as_it_was(
    step, to_new_incident, source, destination, actor, monkeypatch
):
    before = snapshot()
    real = getattr(move, step)

    def do_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        # The relations, the activity entries and the counts have been written by now.
        assert snapshot() != before
        raise RuntimeError("connection lost")

    monkeypatch.setattr(move, step, do_then_fail)

    with pytest.raises(RuntimeError, match="connection lost"):
        membership.move_alerts(
            alerts_of(source),
            source=source,
            destination=None if to_new_incident else destination,
            actor=actor,
            emptied_incident="close",
        )

    assert snapshot() == before


# --- query counts ----------------------------------------------------------


@pytest.mark.parametrize("count", [1, 50])
# Each count includes the 3 queries that record the change for Undo (its relations, the
# change, the incidents it touched).
@pytest.mark.parametrize(("to_new_incident", "queries"), [(False, 20), (True, 25)])
def test_moving_takes_the_same_number_of_queries_for_one_alert_or_fifty(
    count, to_new_incident, queries, destination, workspace, actor, django_assert_max_num_queries
):
    source = incident_with_alerts(count, workspace=workspace)
    alerts = alerts_of(source)

    with django_assert_max_num_queries(queries):
        result = membership.move_alerts(
            alerts,
            source=source,
            destination=None if to_new_incident else destination,
            actor=actor,
            emptied_incident="close",
        )

    assert len(alert_ids_of(result.destination)) == count + (0 if to_new_incident else 2)


@pytest.mark.parametrize("count", [1, 50])
def test_moving_alerts_out_of_every_incident_takes_a_bounded_number_of_queries(
    count, destination, workspace, actor, django_assert_max_num_queries
):
    first = incident_with_alerts(count, workspace=workspace)
    second = IncidentFactory(workspace=workspace)
    alerts = alerts_of(first)
    membership.add_alerts(second, alerts, actor=actor)

    with django_assert_max_num_queries(17):  # 3 of them record the change for Undo
        membership.move_alerts(alerts, destination=destination, actor=actor)

    assert all(incident_ids_of(a) == {destination.pk} for a in alerts)
    assert not Alert.objects.filter(relations__isnull=True).exists()
