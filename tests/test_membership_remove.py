"""`membership.remove_alert`: take an alert out of one of its incidents."""

import pytest

from incidents import membership
from incidents.errors import (
    AlertNotInIncident,
    IncidentNotFound,
    InvalidChange,
    LastIncident,
    ProviderManagedRemove,
)
from incidents.models import ActivityKind, Incident, IncidentStatus
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
def shared(incident, workspace, actor):
    """An alert of `incident` that also belongs to a second incident."""
    alert = alert_in(incident, display_name="Mimikatz credential theft")
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=actor)
    incident.refresh_from_db()
    return alert


def test_removing_an_alert_that_has_another_incident_takes_it_out(incident, shared, actor):
    (other_id,) = incident_ids_of(shared) - {incident.pk}

    membership.remove_alert(incident, shared, actor=actor)

    assert shared.pk not in alert_ids_of(incident)
    assert incident_ids_of(shared) == {other_id}
    assert incident.alert_count == 2
    incident.refresh_from_db()
    assert incident.alert_count == 2 == len(alert_ids_of(incident))


def test_removing_records_who_removed_it_where_it_stays_and_the_comment(incident, shared, actor):
    other = Incident.objects.get(pk__in=incident_ids_of(shared) - {incident.pk})
    before = len(activity_of(incident))

    membership.remove_alert(incident, shared, actor=actor, comment="Different host.")

    (entry,) = activity_of(incident)[before:]
    assert entry.kind == ActivityKind.ALERT_REMOVED
    assert entry.actor == actor.user
    assert entry.message == (
        "Alert “Mimikatz credential theft” was removed from this incident by responder. "
        f"It stays in #{other.number}."
    )
    assert entry.comment == "Different host."
    assert entry.details["remains_in"] == [other.number]
    assert entry.details["alert"] == str(shared.system_alert_id)


def test_removing_the_only_alert_leaves_an_empty_incident_with_its_activity_times(workspace, actor):
    incident = incident_with_alerts(1, workspace=workspace)
    alert = incident.relations.get().alert
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=actor)
    incident.refresh_from_db()
    first, last = incident.first_activity_time, incident.last_activity_time

    membership.remove_alert(incident, alert, actor=actor)

    incident.refresh_from_db()
    assert incident.alert_count == 0
    assert (incident.first_activity_time, incident.last_activity_time) == (first, last)
    assert incident.status == IncidentStatus.NEW


def test_removing_an_alert_from_its_last_incident_is_refused_and_changes_nothing(incident, actor):
    alert = incident.relations.first().alert
    before = snapshot()

    with pytest.raises(LastIncident) as refused:
        membership.remove_alert(incident, alert, actor=actor)

    assert refused.value.message == (
        f"Failed to delete relation. Alert {alert.system_alert_id} belongs to no other "
        f"incident than {incident.uuid}, and every alert must belong to an incident: link it "
        "to another incident instead of removing it."
    )
    assert refused.value.status == 400
    assert refused.value.user_message == (
        f"Alert “{alert.display_name}” belongs to no other incident than #{incident.number}, "
        "and every alert must belong to an incident. Link it to another incident instead "
        "(“Link alerts to another incident”)."
    )
    assert snapshot() == before


def test_removing_an_alert_that_is_not_in_the_incident_is_refused_and_changes_nothing(
    incident, workspace, actor
):
    alert = alert_in(IncidentFactory(workspace=workspace))
    before = snapshot()

    with pytest.raises(AlertNotInIncident) as refused:
        membership.remove_alert(incident, alert, actor=actor)

    assert refused.value.status == 404
    assert refused.value.message == (
        f"Alert {alert.system_alert_id} is not related to incident {incident.uuid}."
    )
    assert f"#{incident.number}" in refused.value.user_message
    assert snapshot() == before


def test_removing_from_an_incident_that_no_longer_exists_is_refused(workspace, actor):
    gone = IncidentFactory(workspace=workspace)
    alert = AlertFactory(workspace=workspace)
    Incident.objects.filter(pk=gone.pk).delete()

    with pytest.raises(IncidentNotFound) as refused:
        membership.remove_alert(gone, alert, actor=actor)

    assert refused.value.message == "Incident doesn’t exist."


def test_removing_with_a_comment_that_is_too_long_is_refused_and_changes_nothing(
    incident, shared, actor
):
    before = snapshot()

    with pytest.raises(InvalidChange):
        membership.remove_alert(incident, shared, actor=actor, comment="x" * 30_001)

    assert snapshot() == before


# --- provider-managed incidents --------------------------------------------


def test_removing_a_defender_alert_from_a_defender_incident_is_refused_and_changes_nothing(
    workspace, actor
):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = defender_alert_in(defender_incident)
    # It is in a second incident too, so only the provider rule can refuse.
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=actor)
    before = snapshot()

    with pytest.raises(ProviderManagedRemove) as refused:
        membership.remove_alert(defender_incident, alert, actor=actor)

    assert refused.value.message == (
        "Failed to delete relation. Microsoft Defender XDR alerts cannot be removed from "
        "Microsoft Defender XDR incidents."
    )
    assert f"#{defender_incident.number}" in refused.value.user_message
    assert "cannot be removed" in refused.value.user_message
    assert snapshot() == before


def test_a_defender_alert_can_be_removed_from_a_sentinel_incident(workspace, actor):
    alert = defender_alert_in(IncidentFactory(workspace=workspace, provider_name=DEFENDER))
    sentinel = incident_with_alerts(1, workspace=workspace)
    membership.add_alerts(sentinel, [alert], actor=actor)

    membership.remove_alert(sentinel, alert, actor=actor)

    assert alert.pk not in alert_ids_of(sentinel)


def test_a_sentinel_alert_can_be_removed_from_a_defender_incident(workspace, actor):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    defender_alert_in(defender_incident)
    alert = alert_in(IncidentFactory(workspace=workspace))
    membership.add_alerts(defender_incident, [alert], actor=actor)

    membership.remove_alert(defender_incident, alert, actor=actor)

    assert alert.pk not in alert_ids_of(defender_incident)


# --- query counts ----------------------------------------------------------


@pytest.mark.parametrize("count", [1, 50])
def test_removing_takes_the_same_number_of_queries_however_many_alerts_the_incident_holds(
    count, workspace, actor, django_assert_max_num_queries
):
    incident = incident_with_alerts(count, workspace=workspace)
    alert = incident.relations.first().alert
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=actor)

    with django_assert_max_num_queries(17):  # 3 of them record the change for Undo
        membership.remove_alert(incident, alert, actor=actor)

    assert incident.alert_count == count - 1
