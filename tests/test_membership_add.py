"""`membership.add_alerts`, `membership.preview_add` and `membership.create_incident`."""

import pytest

from incidents import membership
from incidents.actions import close_incident
from incidents.activity import Actor
from incidents.errors import (
    AlertAlreadyInIncident,
    DifferentWorkspace,
    IncidentFull,
    InvalidChange,
    NothingToMove,
    ProviderManagedAdd,
)
from incidents.models import (
    ActivityKind,
    Classification,
    IncidentStatus,
    Relation,
    RelationReason,
    Severity,
    Via,
)
from tests.factories import (
    DEFENDER,
    AlertFactory,
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
def incident(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Brute force on DC01")


@pytest.fixture
def elsewhere(workspace):
    """Another incident of the workspace, whose alerts are candidates for adding."""
    return incident_with_alerts(2, workspace=workspace, title="Password spray")


# --- adding ----------------------------------------------------------------


def test_adding_an_alert_relates_it_and_counts_it(incident, elsewhere, actor):
    alert = alert_in(elsewhere)

    result = membership.add_alerts(incident, [alert], actor=actor)

    assert result.added == [alert]
    assert alert.pk in alert_ids_of(incident)
    incident.refresh_from_db()
    assert incident.alert_count == 3 == len(alert_ids_of(incident))
    relation = Relation.objects.get(incident=incident, alert=alert)
    assert relation.reason == RelationReason.MANUAL
    assert relation.created_by == actor.user


def test_adding_never_removes_the_alert_from_its_other_incidents(incident, elsewhere, actor):
    alert = alert_in(elsewhere)

    result = membership.add_alerts(incident, [alert], actor=actor)

    assert incident_ids_of(alert) == {incident.pk, elsewhere.pk}
    assert result.also_in == {alert.pk: [elsewhere]}
    elsewhere.refresh_from_db()
    assert elsewhere.alert_count == 3
    assert elsewhere.status == IncidentStatus.NEW


def test_adding_updates_the_callers_incident_object(incident, elsewhere, actor):
    alerts = [alert_in(elsewhere), alert_in(elsewhere)]

    membership.add_alerts(incident, alerts, actor=actor)

    assert incident.alert_count == 4


def test_adding_extends_the_incidents_activity_times(incident, elsewhere, actor):
    incident.refresh_from_db()
    later = incident.last_activity_time.replace(year=incident.last_activity_time.year + 1)
    earlier = incident.first_activity_time.replace(year=incident.first_activity_time.year - 1)
    alert = alert_in(elsewhere, start_time=earlier, end_time=later, time_generated=later)

    membership.add_alerts(incident, [alert], actor=actor)

    incident.refresh_from_db()
    assert incident.first_activity_time == earlier
    assert incident.last_activity_time == later


def test_adding_records_on_the_destination_who_added_it_from_where_and_the_comment(
    incident, elsewhere, actor
):
    alert = alert_in(elsewhere, display_name="Mimikatz credential theft")
    before = len(activity_of(incident))

    membership.add_alerts(incident, [alert], actor=actor, comment="Same host, same hour.")

    entries = activity_of(incident)[before:]
    assert len(entries) == 1
    (entry,) = entries
    assert entry.kind == ActivityKind.ALERT_ADDED
    assert entry.actor == actor.user
    assert entry.actor_name == "responder"
    assert entry.via == Via.UI
    assert entry.message == (
        "Alert “Mimikatz credential theft” was correlated with this incident by responder. "
        f"It also belongs to #{elsewhere.number}."
    )
    assert entry.comment == "Same host, same hour."
    assert entry.details["alert"] == str(alert.system_alert_id)
    assert entry.details["also_in"] == [elsewhere.number]


def test_adding_leaves_the_other_incidents_log_alone_when_it_is_kept(incident, elsewhere, actor):
    alert = alert_in(elsewhere)
    before = activity_of(elsewhere)

    membership.add_alerts(incident, [alert], actor=actor)

    assert activity_of(elsewhere) == before


def test_adding_several_alerts_writes_one_entry_listing_them(incident, elsewhere, actor):
    alerts = [alert_in(elsewhere, display_name=f"Beacon {n}") for n in range(3)]
    before = len(activity_of(incident))

    membership.add_alerts(incident, alerts, actor=actor, comment="Same campaign.")

    (entry,) = activity_of(incident)[before:]
    assert entry.kind == ActivityKind.ALERT_ADDED
    assert entry.message == (
        "3 alerts were correlated with this incident by responder: “Beacon 0”, “Beacon 1” "
        f"and “Beacon 2”. 3 of them also belong to #{elsewhere.number}."
    )
    assert entry.comment == "Same campaign."
    assert entry.details["alert_list"] == [
        {
            "alert": str(a.system_alert_id),
            "alert_name": a.display_name,
            "also_in": [elsewhere.number],
        }
        for a in alerts
    ]


def test_an_automation_rule_adding_an_alert_is_recorded_as_correlation_by_the_rule(
    incident, elsewhere, rule_actor
):
    alert = alert_in(elsewhere, display_name="Impossible travel")

    membership.add_alerts(incident, [alert], actor=rule_actor, reason=RelationReason.RULE)

    (entry,) = activity_of(incident, ActivityKind.ALERT_CORRELATED)[-1:]
    assert entry.actor is None
    assert entry.actor_name == "Automation rule: Brute force grouping"
    assert entry.message.startswith(
        "Alert “Impossible travel” was correlated with this incident by "
        "Automation rule: Brute force grouping."
    )
    relation = Relation.objects.get(incident=incident, alert=alert)
    assert relation.created_by is None
    assert relation.created_by_name == "Automation rule: Brute force grouping"


def test_adding_nothing_is_refused(incident, actor):
    with pytest.raises(NothingToMove):
        membership.add_alerts(incident, [], actor=actor)


def test_adding_with_a_comment_that_is_too_long_is_refused_and_changes_nothing(
    incident, elsewhere, actor
):
    alert = alert_in(elsewhere)
    before = snapshot()

    with pytest.raises(InvalidChange):
        membership.add_alerts(incident, [alert], actor=actor, comment="x" * 30_001)

    assert snapshot() == before


# --- rule 1: the cap -------------------------------------------------------


def test_adding_up_to_the_cap_is_allowed(workspace, actor, settings):
    incident = incident_with_alerts(148, workspace=workspace)
    source = incident_with_alerts(2, workspace=workspace)
    alerts = [r.alert for r in source.relations.select_related("alert")]

    membership.add_alerts(incident, alerts, actor=actor)

    incident.refresh_from_db()
    assert settings.TRIAGE_MAX_ALERTS_PER_INCIDENT == 150
    assert incident.alert_count == 150 == len(alert_ids_of(incident))


def test_adding_past_the_cap_is_refused_and_changes_nothing(workspace, elsewhere, actor):
    incident = incident_with_alerts(150, workspace=workspace)
    alert = alert_in(elsewhere)
    before = snapshot()

    with pytest.raises(IncidentFull) as refused:
        membership.add_alerts(incident, [alert], actor=actor)

    assert refused.value.message == (
        f"Failed to create relation. Incident {incident.uuid} already contains 150 alerts; "
        "an incident can contain at most 150 alerts."
    )
    assert refused.value.user_message == (
        f"Incident #{incident.number} has 150 alerts; adding 1 more would pass the limit of "
        "150 alerts per incident. Nothing was changed."
    )
    assert snapshot() == before


def test_adding_several_alerts_that_would_pass_a_small_cap_adds_none_of_them(
    incident, elsewhere, actor, settings
):
    alerts = [alert_in(elsewhere), alert_in(elsewhere)]
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3
    before = snapshot()

    with pytest.raises(IncidentFull) as refused:
        membership.add_alerts(incident, alerts, actor=actor)

    assert refused.value.message.endswith("an incident can contain at most 3 alerts.")
    assert f"#{incident.number}" in refused.value.user_message
    assert snapshot() == before


def test_a_small_cap_can_be_reached_exactly(incident, elsewhere, actor, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3

    membership.add_alerts(incident, [alert_in(elsewhere)], actor=actor)

    incident.refresh_from_db()
    assert incident.alert_count == 3


# --- rule 2: same workspace ------------------------------------------------


def test_adding_an_alert_of_another_workspace_is_refused_and_changes_nothing(
    incident, other_workspace, actor
):
    foreign = incident_with_alerts(1, workspace=other_workspace)
    (alert,) = foreign.relations.all()
    before = snapshot()

    with pytest.raises(DifferentWorkspace) as refused:
        membership.add_alerts(incident, [alert.alert], actor=actor)

    assert refused.value.message == (
        "Failed to create relation. Related resource and incident should belong to the same "
        "workspace."
    )
    assert refused.value.status == 400
    assert f"incident #{incident.number}" in refused.value.user_message
    assert "different workspaces" in refused.value.user_message
    assert snapshot() == before


# --- rule 3: at most once --------------------------------------------------


def test_adding_an_alert_already_in_the_incident_is_refused_and_changes_nothing(incident, actor):
    alert = incident.relations.first().alert
    before = snapshot()

    with pytest.raises(AlertAlreadyInIncident) as refused:
        membership.add_alerts(incident, [alert], actor=actor)

    assert refused.value.message == (
        f"Failed to create relation. Alert {alert.system_alert_id} already exists in incident "
        f"{incident.uuid}."
    )
    assert refused.value.user_message == (
        f"Alert “{alert.display_name}” is already in incident #{incident.number}."
    )
    assert snapshot() == before


def test_adding_a_mix_of_new_alerts_and_one_already_there_adds_none(incident, elsewhere, actor):
    new = alert_in(elsewhere)
    present = incident.relations.first().alert
    before = snapshot()

    with pytest.raises(AlertAlreadyInIncident):
        membership.add_alerts(incident, [new, present], actor=actor)

    assert snapshot() == before


def test_adding_the_same_alert_twice_in_one_call_relates_it_once(incident, elsewhere, actor):
    alert = alert_in(elsewhere)

    membership.add_alerts(incident, [alert, alert], actor=actor)

    assert Relation.objects.filter(incident=incident, alert=alert).count() == 1
    incident.refresh_from_db()
    assert incident.alert_count == 3


# --- rule 5: provider-managed incidents ------------------------------------


def test_adding_a_defender_alert_to_a_defender_incident_is_refused_and_changes_nothing(
    workspace, actor
):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    defender_alert_in(defender_incident)
    source = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = defender_alert_in(source)
    before = snapshot()

    with pytest.raises(ProviderManagedAdd) as refused:
        membership.add_alerts(defender_incident, [alert], actor=actor)

    assert refused.value.message == (
        "Failed to create relation. Microsoft Defender XDR alerts cannot be added to "
        "Microsoft Defender XDR incidents."
    )
    assert f"#{defender_incident.number}" in refused.value.user_message
    assert "Make this change in Microsoft Defender XDR itself" in refused.value.user_message
    assert snapshot() == before


def test_an_automation_rule_cannot_add_a_defender_alert_to_a_defender_incident(
    workspace, rule_actor
):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = defender_alert_in(IncidentFactory(workspace=workspace, provider_name=DEFENDER))
    before = snapshot()

    with pytest.raises(ProviderManagedAdd):
        membership.add_alerts(
            defender_incident, [alert], actor=rule_actor, reason=RelationReason.RULE
        )

    assert snapshot() == before


def test_a_defender_alert_can_be_added_to_a_sentinel_incident(incident, workspace, actor):
    alert = defender_alert_in(IncidentFactory(workspace=workspace, provider_name=DEFENDER))

    membership.add_alerts(incident, [alert], actor=actor)

    assert alert.pk in alert_ids_of(incident)


def test_a_sentinel_alert_can_be_added_to_a_defender_incident(workspace, elsewhere, actor):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    defender_alert_in(defender_incident)
    alert = alert_in(elsewhere)

    membership.add_alerts(defender_incident, [alert], actor=actor)

    assert alert.pk in alert_ids_of(defender_incident)


# --- the sole alert of another incident: keep or close ---------------------


def test_keeping_the_other_incident_leaves_it_open_with_its_alert(incident, workspace, actor):
    other = incident_with_alerts(1, workspace=workspace)
    alert = other.relations.get().alert

    result = membership.add_alerts(incident, [alert], actor=actor, other_incident="keep")

    other.refresh_from_db()
    assert other.status == IncidentStatus.NEW
    assert other.alert_count == 1
    assert result.closed == []
    assert activity_of(other, ActivityKind.CLOSED) == []


def test_closing_the_other_incident_closes_it_as_undetermined_naming_this_incident(
    incident, workspace, actor
):
    other = incident_with_alerts(1, workspace=workspace)
    alert = other.relations.get().alert

    result = membership.add_alerts(incident, [alert], actor=actor, other_incident="close")

    other.refresh_from_db()
    assert result.closed == [other]
    assert other.status == IncidentStatus.CLOSED
    assert other.classification == Classification.UNDETERMINED
    assert other.classification_reason == ""
    assert "Alert was added to another incident" in other.classification_comment
    assert f"#{incident.number}" in other.classification_comment
    assert other.closed is not None
    # The alert stays in the closed incident: adding never removes.
    assert incident_ids_of(alert) == {incident.pk, other.pk}
    (closed,) = activity_of(other, ActivityKind.CLOSED)
    assert closed.actor == actor.user
    assert closed.message == "responder closed the incident as Undetermined."
    assert closed.comment == other.classification_comment


def test_closing_the_other_incident_spares_incidents_with_more_alerts(incident, elsewhere, actor):
    alert = alert_in(elsewhere)

    result = membership.add_alerts(incident, [alert], actor=actor, other_incident="close")

    elsewhere.refresh_from_db()
    assert result.closed == []
    assert elsewhere.status == IncidentStatus.NEW


def test_closing_an_already_closed_other_incident_writes_nothing_more(incident, workspace, actor):
    other = incident_with_alerts(1, workspace=workspace)
    close_incident(
        other, classification=Classification.FALSE_POSITIVE, reason="InaccurateData", actor=actor
    )
    alert = other.relations.get().alert
    before = activity_of(other)

    result = membership.add_alerts(incident, [alert], actor=actor, other_incident="close")

    other.refresh_from_db()
    assert result.closed == []
    assert other.classification == Classification.FALSE_POSITIVE
    assert activity_of(other) == before


# --- preview ---------------------------------------------------------------


def test_the_preview_names_the_other_incidents_and_the_ones_left_with_that_alert_only(
    incident, elsewhere, workspace, actor
):
    lonely = incident_with_alerts(1, workspace=workspace)
    shared = alert_in(elsewhere)
    sole = lonely.relations.get().alert
    present = incident.relations.first().alert
    before = snapshot()

    preview = membership.preview_add(incident, [shared, sole, present])

    assert preview.other_incidents == {shared.pk: [elsewhere], sole.pk: [lonely], present.pk: []}
    assert preview.sole_alert_incidents == [lonely]
    assert preview.already_here == [present]
    assert snapshot() == before


# --- query counts ----------------------------------------------------------


@pytest.mark.parametrize("count", [1, 50])
def test_adding_takes_the_same_number_of_queries_for_one_alert_or_fifty(
    count, incident, workspace, actor, django_assert_max_num_queries
):
    source = incident_with_alerts(count, workspace=workspace)
    alerts = [r.alert for r in source.relations.select_related("alert")]

    with django_assert_max_num_queries(13):
        membership.add_alerts(incident, alerts, actor=actor, comment="Same actor.")

    incident.refresh_from_db()
    assert incident.alert_count == 2 + count


# --- create_incident -------------------------------------------------------


def test_creating_an_incident_from_alerts_relates_them_and_logs_it(workspace, elsewhere, actor):
    alerts = [
        alert_in(elsewhere, display_name="Suspicious sign-in", severity=Severity.LOW),
        alert_in(elsewhere, display_name="Suspicious sign-in", severity=Severity.HIGH),
    ]

    created = membership.create_incident(
        workspace, alerts, actor=actor, reason=RelationReason.MANUAL
    )

    assert created.title == "Suspicious sign-in (2 alerts)"
    assert created.severity == Severity.HIGH
    assert created.alert_count == 2
    assert alert_ids_of(created) == {a.pk for a in alerts}
    # The alerts stay where they were too.
    assert {a.pk for a in alerts} <= alert_ids_of(elsewhere)
    kinds = [e.kind for e in activity_of(created)]
    assert kinds == [
        ActivityKind.CREATED,
        ActivityKind.ALERT_CORRELATED,
        ActivityKind.ALERT_CORRELATED,
    ]
    assert activity_of(created)[0].message == "responder created the incident."


def test_creating_an_incident_with_the_same_alert_twice_relates_it_once(
    workspace, elsewhere, actor
):
    alert = alert_in(elsewhere)

    created = membership.create_incident(workspace, [alert, alert], actor=actor)

    assert Relation.objects.filter(incident=created, alert=alert).count() == 1
    assert created.alert_count == 1


def test_creating_an_empty_incident_by_hand_gives_it_the_next_number(workspace, actor):
    last = IncidentFactory(workspace=workspace)

    created = membership.create_incident(workspace, actor=actor, title="Phishing wave")

    assert created.number == last.number + 1
    assert created.title == "Phishing wave"
    assert created.alert_count == 0


def test_creating_an_incident_with_alerts_of_another_workspace_is_refused_and_changes_nothing(
    workspace, other_workspace, actor
):
    alert = alert_in(IncidentFactory(workspace=other_workspace))
    before = snapshot()

    with pytest.raises(DifferentWorkspace):
        membership.create_incident(workspace, [alert], actor=actor)

    assert snapshot() == before


def test_creating_an_incident_with_more_alerts_than_the_cap_is_refused_and_changes_nothing(
    workspace, elsewhere, actor, settings
):
    alerts = [alert_in(elsewhere) for _ in range(3)]
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    before = snapshot()

    with pytest.raises(IncidentFull):
        membership.create_incident(workspace, alerts, actor=actor)

    assert snapshot() == before


def test_an_analyst_cannot_create_a_defender_incident_from_defender_alerts(workspace, actor):
    alert = defender_alert_in(IncidentFactory(workspace=workspace, provider_name=DEFENDER))
    before = snapshot()

    with pytest.raises(ProviderManagedAdd):
        membership.create_incident(
            workspace,
            [alert],
            actor=actor,
            reason=RelationReason.MANUAL,
            provider_name=DEFENDER,
        )

    assert snapshot() == before


def test_ingestion_creates_defender_incidents_from_defender_alerts(workspace):
    ingestion = Actor.system("Ingestion", via=Via.INGESTION)
    alert = AlertFactory(workspace=workspace, provider_name=DEFENDER)

    created = membership.create_incident(
        workspace, [alert], actor=ingestion, provider_name=DEFENDER
    )

    assert alert_ids_of(created) == {alert.pk}
    assert Relation.objects.get(incident=created).reason == RelationReason.INGESTION
