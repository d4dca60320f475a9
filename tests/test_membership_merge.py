"""`membership.merge_incidents` and `preview_merge`: merge incidents into one, losing nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import actions, membership
from incidents.activity import Actor
from incidents.errors import (
    AlreadyMerged,
    InvalidChange,
    MergeAcrossWorkspaces,
    MergeIntoItself,
    MergeProviderManaged,
    MergeTooLarge,
    NothingToMerge,
    TooManySources,
)
from incidents.models import (
    ActivityKind,
    Alert,
    Classification,
    ClassificationReason,
    Incident,
    IncidentStatus,
    Relation,
    RelationReason,
    Severity,
)
from tests.factories import (
    DEFENDER,
    AlertFactory,
    UserFactory,
    activity_of,
    alert_ids_of,
    alert_in,
    everything,
    incident_ids_of,
    incident_with_alerts,
)

pytestmark = pytest.mark.django_db

REASON = "Same intrusion: one attacker, one host."


@pytest.fixture
def target(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Brute force on DC01")


@pytest.fixture
def source(workspace):
    return incident_with_alerts(3, workspace=workspace, title="Password spray")


def merge(sources, into, actor, reason=REASON):
    return membership.merge_incidents(sources, into=into, actor=actor, reason=reason)


def comment_on(incident: Incident, text: str, *, by: str = "analyst"):
    return actions.add_comment(incident, text, actor=Actor.for_user(UserFactory(username=by)))


# --- the alerts ----------------------------------------------------------------


def test_merging_puts_every_alert_of_the_source_in_the_target(source, target, actor):
    alerts = alert_ids_of(source) | alert_ids_of(target)

    merge([source], target, actor)

    assert alert_ids_of(target) == alerts
    assert alert_ids_of(source) == set()
    source.refresh_from_db()
    target.refresh_from_db()
    assert target.alert_count == 5
    assert source.alert_count == 0


def test_an_alert_already_in_the_target_stays_there_once(source, target, workspace, actor):
    shared = alert_in(source)
    membership.add_alerts(target, [shared], actor=actor)
    kept = Relation.objects.get(incident=target, alert=shared)

    result = merge([source], target, actor)

    assert Relation.objects.filter(incident=target, alert=shared).get() == kept
    assert target.alert_count == 6 == len(alert_ids_of(target))
    assert result.duplicates == 1
    assert shared not in result.joined


def test_an_alert_in_two_sources_joins_the_target_once(source, target, workspace, actor):
    second = incident_with_alerts(1, workspace=workspace)
    shared = alert_in(source)
    membership.add_alerts(second, [shared], actor=actor)

    result = merge([source, second], target, actor)

    assert Relation.objects.filter(incident=target, alert=shared).count() == 1
    assert target.alert_count == 2 + 4 + 1
    assert result.duplicates == 1
    assert incident_ids_of(shared) == {target.pk}


def test_merging_keeps_an_alerts_other_incidents(source, target, workspace, actor):
    elsewhere = incident_with_alerts(1, workspace=workspace)
    alert = alert_in(source)
    membership.add_alerts(elsewhere, [alert], actor=actor)

    merge([source], target, actor)

    assert incident_ids_of(alert) == {target.pk, elsewhere.pk}


def test_a_merged_relation_keeps_its_reason_details_author_and_time_and_says_where_from(
    source, target, actor, rule_actor
):
    alert = AlertFactory(workspace=source.workspace)
    membership.add_alerts(
        source,
        [alert],
        actor=rule_actor,
        reason=RelationReason.RULE,
        details={"rule": "Brute force grouping", "matched": ["host:dc01"]},
    )
    original = Relation.objects.get(incident=source, alert=alert)
    Relation.objects.filter(pk=original.pk).update(created=timezone.now() - dt.timedelta(days=2))
    original.refresh_from_db()

    merge([source], target, actor)

    merged = Relation.objects.get(incident=target, alert=alert)
    assert merged.reason == RelationReason.RULE
    assert merged.created_by_name == rule_actor.name
    assert merged.created_by is None
    assert merged.created == original.created
    assert merged.details == {
        "rule": "Brute force grouping",
        "matched": ["host:dc01"],
        "merged_from": source.number,
    }


def test_a_merged_relation_keeps_the_user_who_made_it(source, target, workspace, actor):
    alert = alert_in(incident_with_alerts(1, workspace=workspace))
    membership.add_alerts(source, [alert], actor=actor)

    merge([source], target, actor=Actor.for_user(UserFactory(username="lead")))

    assert Relation.objects.get(incident=target, alert=alert).created_by == actor.user


def test_merging_recounts_the_targets_activity_times(source, target, workspace, actor):
    early = alert_in(source, start_time=timezone.now() - dt.timedelta(days=5))
    late = alert_in(source, end_time=timezone.now() + dt.timedelta(hours=1))

    merge([source], target, actor)

    target.refresh_from_db()
    assert target.first_activity_time == early.start_time
    assert target.last_activity_time == late.end_time


# --- the sources ---------------------------------------------------------------


def test_a_merged_source_is_closed_as_undetermined_saying_where_it_went(source, target, actor):
    merge([source], target, actor)

    source.refresh_from_db()
    assert source.status == IncidentStatus.CLOSED
    assert source.classification == Classification.UNDETERMINED
    assert source.classification_comment == f"Merged into incident #{target.number}."
    assert source.merged_into == target
    assert "Merged" in source.labels
    closed = activity_of(source, ActivityKind.CLOSED)[-1]
    assert closed.comment == f"Merged into incident #{target.number}."


def test_a_merged_source_keeps_its_own_labels_and_gains_merged(source, target, actor):
    Incident.objects.filter(pk=source.pk).update(labels=["Phishing"])

    merge([source], target, actor)

    source.refresh_from_db()
    assert source.labels == ["Phishing", "Merged"]


def test_merging_updates_the_callers_incident_objects(source, target, actor):
    merge([source], target, actor)

    assert source.merged_into_id == target.pk
    assert source.is_closed
    assert target.alert_count == 5


def test_an_already_closed_source_keeps_its_classification(source, target, actor):
    actions.close_incident(
        source,
        classification=Classification.TRUE_POSITIVE,
        reason=ClassificationReason.SUSPICIOUS_ACTIVITY,
        comment="Confirmed.",
        actor=actor,
    )
    closes = len(activity_of(source, ActivityKind.CLOSED))

    merge([source], target, actor)

    source.refresh_from_db()
    assert source.classification == Classification.TRUE_POSITIVE
    assert source.classification_comment == "Confirmed."
    assert source.merged_into == target
    assert len(activity_of(source, ActivityKind.CLOSED)) == closes
    assert alert_ids_of(source) == set()


def test_a_closed_target_takes_the_alerts_and_stays_closed(source, target, actor):
    actions.close_incident(target, classification=Classification.UNDETERMINED, actor=actor)

    merge([source], target, actor)

    target.refresh_from_db()
    assert target.is_closed
    assert target.alert_count == 5


# --- the activity log ------------------------------------------------------------


def test_the_target_logs_one_entry_per_source_with_what_came(source, target, workspace, actor):
    second = incident_with_alerts(1, workspace=workspace)
    comment_on(source, "Looks like the spray from last week.")
    comment_on(source, "Same IP range.")

    merge([source, second], target, actor)

    first_entry, second_entry = activity_of(target, ActivityKind.MERGED_IN)
    assert first_entry.message == (
        f"Incident #{source.number} was merged into this incident by responder: "
        "3 alerts, 2 comments."
    )
    assert second_entry.message == (
        f"Incident #{second.number} was merged into this incident by responder: "
        "1 alert, 0 comments."
    )
    assert first_entry.comment == REASON
    assert first_entry.actor == actor.user
    assert first_entry.details["source"] == source.number


def test_each_source_logs_where_it_went(source, target, actor):
    merge([source], target, actor)

    (entry,) = activity_of(source, ActivityKind.MERGED_INTO)
    assert entry.message == (
        f"responder merged this incident into #{target.number}: 3 alerts, 0 comments went there."
    )
    assert entry.comment == REASON
    assert entry.details["target"] == target.number


def test_merging_keeps_the_history_of_both_sides(source, target, actor):
    source_log, target_log = activity_of(source), activity_of(target)

    merge([source], target, actor)

    assert activity_of(source)[: len(source_log)] == source_log
    assert activity_of(target)[: len(target_log)] == target_log


def test_comments_are_copied_with_their_author_time_and_origin(source, target, actor):
    original = comment_on(source, "Blocked the IP at the firewall.", by="alice")

    merge([source], target, actor)

    (copy,) = activity_of(target, ActivityKind.COMMENT)
    assert copy.comment == "Blocked the IP at the firewall."
    assert copy.actor == original.actor
    assert copy.actor_name == "alice"
    assert copy.created == original.created
    assert copy.message == f"alice commented on #{source.number}."
    assert copy.details["copied_from"] == {"incident": source.number, "entry": original.pk}
    assert activity_of(source, ActivityKind.COMMENT) == [original]


def test_a_comment_is_copied_once_when_merged_again_after_an_undo(source, target, actor):
    comment_on(source, "Blocked the IP at the firewall.")
    first = merge([source], target, actor)
    membership.undo_change(first.change, actor=actor)

    again = merge([source], target, actor)

    assert len(activity_of(target, ActivityKind.COMMENT)) == 1
    assert again.comments == 0


def test_a_comment_copied_into_a_source_keeps_its_first_origin(workspace, source, target, actor):
    first = incident_with_alerts(1, workspace=workspace)
    comment_on(first, "Seen on DC01 too.")
    merge([first], source, actor)

    merge([source], target, actor)

    (copy,) = activity_of(target, ActivityKind.COMMENT)
    assert copy.details["copied_from"]["incident"] == first.number
    assert copy.message == f"analyst commented on #{first.number}."


# --- the target's fields -----------------------------------------------------------


def test_the_target_keeps_its_owner(source, target, actor):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    Incident.objects.filter(pk=target.pk).update(owner=alice)
    Incident.objects.filter(pk=source.pk).update(owner=bob)

    merge([source], target, actor)

    target.refresh_from_db()
    assert target.owner == alice


def test_a_target_without_owner_takes_the_first_sources_owner(source, target, workspace, actor):
    second = incident_with_alerts(1, workspace=workspace)
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    Incident.objects.filter(pk=second.pk).update(owner=alice)
    Incident.objects.filter(pk=source.pk).update(owner=bob)

    merge([source, second], target, actor)

    target.refresh_from_db()
    assert target.owner == bob


def test_the_target_takes_the_highest_severity(source, target, workspace, actor):
    Incident.objects.filter(pk=target.pk).update(severity=Severity.LOW)
    Incident.objects.filter(pk=source.pk).update(severity=Severity.HIGH)
    target.refresh_from_db()

    merge([source], target, actor)

    target.refresh_from_db()
    assert target.severity == Severity.HIGH


def test_a_target_more_severe_than_its_sources_keeps_its_severity(source, target, actor):
    Incident.objects.filter(pk=target.pk).update(severity=Severity.HIGH)
    Incident.objects.filter(pk=source.pk).update(severity=Severity.INFORMATIONAL)
    target.refresh_from_db()

    merge([source], target, actor)

    target.refresh_from_db()
    assert target.severity == Severity.HIGH


def test_the_target_takes_the_union_of_the_labels(source, target, workspace, actor):
    second = incident_with_alerts(1, workspace=workspace)
    Incident.objects.filter(pk=target.pk).update(labels=["VIP"])
    Incident.objects.filter(pk=source.pk).update(labels=["Phishing", "VIP"])
    Incident.objects.filter(pk=second.pk).update(labels=["Ransomware"])
    target.refresh_from_db()

    merge([source, second], target, actor)

    target.refresh_from_db()
    assert target.labels == ["VIP", "Phishing", "Ransomware"]


# --- the result -------------------------------------------------------------------


def test_the_result_says_what_joined(source, target, actor):
    comment_on(source, "One.")

    result = merge([source], target, actor)

    assert result.target == target
    assert result.sources == [source]
    assert {a.pk for a in result.joined} == set(
        Relation.objects.filter(incident=target, details__merged_from=source.number).values_list(
            "alert_id", flat=True
        )
    )
    assert len(result.joined) == 3
    assert result.comments == 1
    assert result.message == (
        f"Merged #{source.number} into incident #{target.number} “Brute force on DC01”: "
        "3 alerts joined it."
    )
    assert result.change.kind == "merge"


def test_the_same_source_named_twice_is_merged_once(source, target, actor):
    result = merge([source, source], target, actor)

    assert len(result.sources) == 1
    assert len(activity_of(target, ActivityKind.MERGED_IN)) == 1


# --- refusals -------------------------------------------------------------------


def test_merging_an_incident_into_itself_is_refused_and_changes_nothing(source, target, actor):
    before = everything()

    with pytest.raises(MergeIntoItself) as refused:
        merge([source, target], target, actor)

    assert refused.value.user_message == (
        f"Incident #{target.number} cannot be merged into itself."
    )
    assert everything() == before


def test_merging_incidents_of_two_workspaces_is_refused_and_changes_nothing(
    target, other_workspace, actor
):
    foreign = incident_with_alerts(1, workspace=other_workspace)
    before = everything()

    with pytest.raises(MergeAcrossWorkspaces) as refused:
        merge([foreign], target, actor)

    assert refused.value.user_message == (
        f"Incident #{foreign.number} is in another workspace than incident #{target.number}; "
        "only incidents of one workspace can be merged."
    )
    assert everything() == before


@pytest.mark.parametrize("side", ["source", "target"])
def test_a_defender_incident_on_either_side_is_refused_and_changes_nothing(
    side, source, target, workspace, actor
):
    defender = incident_with_alerts(1, workspace=workspace, provider_name=DEFENDER)
    sources, into = ([defender], target) if side == "source" else ([source], defender)
    before = everything()

    with pytest.raises(MergeProviderManaged) as refused:
        merge(sources, into, actor)

    assert refused.value.user_message == (
        f"Incident #{defender.number} is a {DEFENDER} incident: {DEFENDER} correlates its own "
        f"alerts, so it cannot be merged here. Merge it in {DEFENDER} itself."
    )
    assert everything() == before


def test_merging_a_source_already_merged_is_refused_and_changes_nothing(
    source, target, workspace, actor
):
    merge([source], target, actor)
    third = incident_with_alerts(1, workspace=workspace)
    before = everything()

    with pytest.raises(AlreadyMerged) as refused:
        merge([source], third, actor)

    assert refused.value.user_message == (
        f"Incident #{source.number} was already merged into #{target.number}; "
        f"use #{target.number} instead."
    )
    assert everything() == before


def test_merging_into_an_incident_already_merged_is_refused(source, target, workspace, actor):
    merge([source], target, actor)
    third = incident_with_alerts(1, workspace=workspace)
    before = everything()

    with pytest.raises(AlreadyMerged):
        merge([third], source, actor)

    assert everything() == before


def test_merging_more_than_ten_incidents_at_once_is_refused_and_changes_nothing(
    target, workspace, actor
):
    sources = [incident_with_alerts(1, workspace=workspace) for _ in range(11)]
    before = everything()

    with pytest.raises(TooManySources) as refused:
        merge(sources, target, actor)

    assert refused.value.user_message == (
        "11 incidents were chosen; at most 10 can be merged into another at once."
    )
    assert everything() == before


def test_ten_incidents_can_be_merged_at_once(target, workspace, actor):
    sources = [incident_with_alerts(1, workspace=workspace) for _ in range(10)]

    merge(sources, target, actor)

    assert target.alert_count == 12


def test_merging_nothing_is_refused(target, actor):
    with pytest.raises(NothingToMerge) as refused:
        merge([], target, actor)

    assert refused.value.user_message == "Choose at least one incident to merge into another."


@pytest.mark.parametrize("reason", ["", "   "])
def test_merging_without_a_reason_is_refused_and_changes_nothing(reason, source, target, actor):
    before = everything()

    with pytest.raises(InvalidChange) as refused:
        merge([source], target, actor, reason=reason)

    assert refused.value.user_message == "Give a reason for the merge."
    assert everything() == before


# --- the cap -------------------------------------------------------------------


def test_a_merge_that_fills_the_target_to_exactly_the_cap_goes_through(workspace, actor):
    target = incident_with_alerts(148, workspace=workspace)
    source = incident_with_alerts(2, workspace=workspace)

    merge([source], target, actor)

    assert target.alert_count == 150 == len(alert_ids_of(target))


def test_a_merge_that_would_pass_the_cap_is_refused_with_the_count(workspace, actor):
    target = incident_with_alerts(148, workspace=workspace)
    source = incident_with_alerts(3, workspace=workspace)
    before = everything()

    with pytest.raises(MergeTooLarge) as refused:
        merge([source], target, actor)

    assert refused.value.user_message == (
        f"The merged incident #{target.number} would hold 151 alerts, more than the limit of "
        "150 alerts per incident. Merge fewer incidents at once, or first link some alerts "
        "to another incident (split it)."
    )
    assert everything() == before


def test_alerts_already_in_the_target_do_not_count_twice_against_the_cap(workspace, actor):
    target = incident_with_alerts(149, workspace=workspace)
    source = incident_with_alerts(1, workspace=workspace)
    shared = Alert.objects.filter(relations__incident=target).first()
    membership.add_alerts(source, [shared], actor=actor)

    merge([source], target, actor)

    assert target.alert_count == 150


# --- the preview -----------------------------------------------------------------


def test_the_preview_counts_what_would_join_without_changing_anything(
    source, target, workspace, actor
):
    second = incident_with_alerts(1, workspace=workspace)
    shared = alert_in(source)
    membership.add_alerts(target, [shared], actor=actor)
    membership.add_alerts(second, [shared], actor=actor)
    comment_on(source, "One.")
    comment_on(second, "Two.")
    before = everything()

    preview = membership.preview_merge([source, second], into=target)

    assert everything() == before
    assert preview.joining == 3 + 1
    assert preview.duplicates == 2
    assert preview.total == 3 + 4
    assert preview.comments == 2
    assert preview.refusal is None
    assert preview.warnings == []


def test_the_preview_gives_the_refusal_the_merge_would_raise(workspace, actor):
    target = incident_with_alerts(149, workspace=workspace)
    source = incident_with_alerts(2, workspace=workspace)
    before = everything()

    preview = membership.preview_merge([source], into=target)

    assert isinstance(preview.refusal, MergeTooLarge)
    assert preview.total == 151
    assert everything() == before


def test_the_preview_warns_that_the_target_is_closed(source, target, actor):
    actions.close_incident(target, classification=Classification.UNDETERMINED, actor=actor)

    preview = membership.preview_merge([source], into=target)

    assert preview.refusal is None
    assert preview.warnings == [
        f"Incident #{target.number} is closed: the merged alerts will be in a closed incident."
    ]


def test_the_preview_of_a_merge_into_itself_is_a_refusal(target):
    preview = membership.preview_merge([target], into=target)

    assert isinstance(preview.refusal, MergeIntoItself)


# --- query count -----------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 74])
def test_a_merge_takes_the_same_number_of_queries_for_one_alert_or_a_full_incident(
    count, target, workspace, actor, django_assert_max_num_queries
):
    sources = [incident_with_alerts(count, workspace=workspace) for _ in range(2)]
    comment_on(sources[0], "Comment.")

    # Each further source adds 3: closing it, its Closed entry, its label and pointer.
    with django_assert_max_num_queries(30):
        merge(sources, target, actor)

    assert target.alert_count == 2 + 2 * count
