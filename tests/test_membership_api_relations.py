"""`membership.put_relation` and `membership.delete_relation`: the API's named relations.

Every row of the seed's error table ("Specific error codes") is here with its exact
message, placeholders filled, its status and code, and proof that nothing changed.
"""

import pytest

from incidents import membership
from incidents.activity import Actor
from incidents.errors import (
    AlertAlreadyInIncident,
    BookmarkAlreadyInIncident,
    DifferentWorkspace,
    IncidentFull,
    IncidentNotFound,
    LastIncident,
    ProviderManagedAdd,
    ProviderManagedRemove,
    RelationNameTaken,
    RelationTypeConflict,
    ResourceNotFound,
)
from incidents.models import (
    ActivityKind,
    Alert,
    Incident,
    IncidentStatus,
    Relation,
    RelationReason,
    Via,
)
from tests.factories import (
    DEFENDER,
    BookmarkFactory,
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
def api(responder):
    return Actor.for_user(responder, via=Via.API)


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(2, workspace=workspace, title="Brute force on DC01")


@pytest.fixture
def alert(workspace):
    """An alert of another incident of the same workspace."""
    return alert_in(incident_with_alerts(1, workspace=workspace), display_name="Mass download")


# --- creating --------------------------------------------------------------


def test_put_relates_the_alert_under_the_given_name(incident, alert, api):
    relation, created = membership.put_relation(incident, "relation-1", alert, actor=api)

    assert created is True
    assert relation.name == "relation-1"
    assert relation.alert == alert
    assert relation.reason == RelationReason.API
    assert relation.created_by == api.user
    assert incident.alert_count == 3
    incident.refresh_from_db()
    assert incident.alert_count == 3 == len(alert_ids_of(incident))


def test_put_records_that_the_alert_was_correlated_through_the_api(incident, alert, api):
    before = len(activity_of(incident))

    membership.put_relation(incident, "relation-1", alert, actor=api)

    (entry,) = activity_of(incident)[before:]
    assert entry.kind == ActivityKind.ALERT_ADDED
    assert entry.via == Via.API
    assert entry.message.startswith(
        "Alert “Mass download” was correlated with this incident by responder (API)."
    )


def test_put_keeps_the_alert_in_its_other_incident(incident, alert, api):
    (other_id,) = incident_ids_of(alert)

    membership.put_relation(incident, "relation-1", alert, actor=api)

    assert incident_ids_of(alert) == {other_id, incident.pk}
    assert Incident.objects.get(pk=other_id).status == IncidentStatus.NEW


def test_putting_the_same_relation_again_finds_it_and_changes_nothing(incident, alert, api):
    first, _ = membership.put_relation(incident, "relation-1", alert, actor=api)
    before = snapshot()

    again, created = membership.put_relation(incident, "relation-1", alert, actor=api)

    assert created is False
    assert again == first
    assert snapshot() == before


def test_put_relates_a_bookmark_without_counting_it_as_an_alert(incident, workspace, api):
    bookmark = BookmarkFactory(workspace=workspace, display_name="Failed logons")
    before = len(activity_of(incident))

    relation, created = membership.put_relation(incident, "bookmark-1", bookmark, actor=api)

    assert created is True
    assert relation.bookmark == bookmark
    incident.refresh_from_db()
    assert incident.alert_count == 2
    (entry,) = activity_of(incident)[before:]
    assert entry.kind == ActivityKind.BOOKMARK_ADDED
    assert (
        entry.message == "Bookmark “Failed logons” was added to this incident by responder (API)."
    )

    again, created = membership.put_relation(incident, "bookmark-1", bookmark, actor=api)
    assert (again, created) == (relation, False)


def test_putting_a_bookmark_already_related_under_another_name_is_refused(incident, workspace, api):
    bookmark = BookmarkFactory(workspace=workspace)
    membership.put_relation(incident, "bookmark-1", bookmark, actor=api)
    before = snapshot()

    with pytest.raises(BookmarkAlreadyInIncident) as refused:
        membership.put_relation(incident, "bookmark-2", bookmark, actor=api)

    assert refused.value.message == (
        f"Failed to create relation. Bookmark {bookmark.bookmark_id} already exists in "
        f"incident {incident.uuid}."
    )
    assert snapshot() == before


def test_putting_an_alert_into_a_full_incident_is_refused_and_changes_nothing(
    incident, alert, api, settings
):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 2
    before = snapshot()

    with pytest.raises(IncidentFull) as refused:
        membership.put_relation(incident, "relation-1", alert, actor=api)

    assert refused.value.status == 400
    assert snapshot() == before


# --- the seed's error table: create ----------------------------------------


def test_put_with_a_name_used_by_a_bookmark_is_a_different_relation_type(
    incident, alert, workspace, api
):
    membership.put_relation(incident, "evidence", BookmarkFactory(workspace=workspace), actor=api)
    before = snapshot()

    with pytest.raises(RelationTypeConflict) as refused:
        membership.put_relation(incident, "evidence", alert, actor=api)

    assert refused.value.status == 400
    assert refused.value.code == "BadRequest"
    assert refused.value.message == (
        "Failed to create relation. Different relation type with name evidence already exists "
        f"in incident {incident.uuid}."
    )
    assert snapshot() == before


def test_put_of_a_bookmark_with_a_name_used_by_an_alert_is_a_different_relation_type(
    incident, alert, workspace, api
):
    membership.put_relation(incident, "evidence", alert, actor=api)
    before = snapshot()

    with pytest.raises(RelationTypeConflict) as refused:
        membership.put_relation(
            incident, "evidence", BookmarkFactory(workspace=workspace), actor=api
        )

    assert refused.value.message == (
        "Failed to create relation. Different relation type with name evidence already exists "
        f"in incident {incident.uuid}."
    )
    assert snapshot() == before


def test_put_of_an_alert_already_in_the_incident_under_another_name_is_refused(incident, api):
    present = incident.relations.first().alert
    before = snapshot()

    with pytest.raises(AlertAlreadyInIncident) as refused:
        membership.put_relation(incident, "relation-new", present, actor=api)

    assert refused.value.status == 400
    assert refused.value.code == "BadRequest"
    assert refused.value.message == (
        f"Failed to create relation. Alert {present.system_alert_id} already exists in "
        f"incident {incident.uuid}."
    )
    assert snapshot() == before


def test_put_of_an_alert_of_another_workspace_is_refused(incident, other_workspace, api):
    foreign = alert_in(IncidentFactory(workspace=other_workspace))
    before = snapshot()

    with pytest.raises(DifferentWorkspace) as refused:
        membership.put_relation(incident, "relation-1", foreign, actor=api)

    assert refused.value.status == 400
    assert refused.value.message == (
        "Failed to create relation. Related resource and incident should belong to the same "
        "workspace."
    )
    assert snapshot() == before


def test_put_of_a_bookmark_of_another_workspace_is_refused(incident, other_workspace, api):
    before = snapshot()

    with pytest.raises(DifferentWorkspace) as refused:
        membership.put_relation(
            incident, "bookmark-1", BookmarkFactory(workspace=other_workspace), actor=api
        )

    assert refused.value.message == (
        "Failed to create relation. Related resource and incident should belong to the same "
        "workspace."
    )
    assert snapshot()["relations"] == before["relations"]
    assert snapshot()["activity"] == before["activity"]


def test_put_of_a_defender_alert_into_a_defender_incident_is_refused(workspace, api):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    defender_alert_in(defender_incident)
    alert = defender_alert_in(IncidentFactory(workspace=workspace, provider_name=DEFENDER))
    before = snapshot()

    with pytest.raises(ProviderManagedAdd) as refused:
        membership.put_relation(defender_incident, "relation-1", alert, actor=api)

    assert refused.value.status == 400
    assert refused.value.message == (
        "Failed to create relation. Microsoft Defender XDR alerts cannot be added to "
        "Microsoft Defender XDR incidents."
    )
    assert snapshot() == before


def test_put_of_a_defender_alert_into_a_sentinel_incident_is_allowed(incident, workspace, api):
    alert = defender_alert_in(IncidentFactory(workspace=workspace, provider_name=DEFENDER))

    _, created = membership.put_relation(incident, "relation-1", alert, actor=api)

    assert created is True


def test_put_of_an_alert_that_does_not_exist_is_not_found(incident, alert, api):
    Alert.objects.filter(pk=alert.pk).delete()
    before = snapshot()

    with pytest.raises(ResourceNotFound) as refused:
        membership.put_relation(incident, "relation-1", alert, actor=api)

    assert refused.value.status == 404
    assert refused.value.code == "NotFound"
    assert refused.value.message == f"Resource '{alert.system_alert_id}' does not exist."
    assert snapshot() == before


def test_the_not_found_error_takes_the_id_the_client_sent():
    assert ResourceNotFound("not-an-alert").message == "Resource 'not-an-alert' does not exist."


def test_put_into_an_incident_that_does_not_exist_is_not_found(workspace, alert, api):
    gone = IncidentFactory(workspace=workspace)
    Incident.objects.filter(pk=gone.pk).delete()
    before = snapshot()

    with pytest.raises(IncidentNotFound) as refused:
        membership.put_relation(gone, "relation-1", alert, actor=api)

    assert refused.value.status == 404
    assert refused.value.code == "NotFound"
    assert refused.value.message == "Incident doesn’t exist."
    assert snapshot() == before


def test_put_with_a_name_used_for_another_alert_is_a_conflict(incident, alert, workspace, api):
    membership.put_relation(incident, "relation-1", alert, actor=api)
    second = alert_in(IncidentFactory(workspace=workspace))
    before = snapshot()

    with pytest.raises(RelationNameTaken) as refused:
        membership.put_relation(incident, "relation-1", second, actor=api)

    assert refused.value.status == 409
    assert refused.value.code == "Conflict"
    assert refused.value.message == (
        f"Failed to create relation. Relation with name relation-1 already exists in incident "
        f"{incident.uuid} to different alert {alert.system_alert_id}."
    )
    assert snapshot() == before


# --- deleting --------------------------------------------------------------


def test_delete_removes_an_alert_that_has_another_incident(incident, alert, api):
    membership.put_relation(incident, "relation-1", alert, actor=api)
    before = len(activity_of(incident))

    assert membership.delete_relation(incident, "relation-1", actor=api) is True

    assert alert.pk not in alert_ids_of(incident)
    incident.refresh_from_db()
    assert incident.alert_count == 2
    (entry,) = activity_of(incident)[before:]
    assert entry.kind == ActivityKind.ALERT_REMOVED
    assert entry.via == Via.API
    assert "by responder (API)" in entry.message


def test_deleting_a_relation_that_does_not_exist_changes_nothing(incident, api):
    before = snapshot()

    assert membership.delete_relation(incident, "no-such-relation", actor=api) is False

    assert snapshot() == before


def test_deleting_the_last_relation_of_an_alert_is_refused(incident, api):
    relation = incident.relations.first()
    before = snapshot()

    with pytest.raises(LastIncident) as refused:
        membership.delete_relation(incident, relation.name, actor=api)

    assert refused.value.status == 400
    assert refused.value.message.startswith("Failed to delete relation.")
    assert "link it to another incident instead" in refused.value.message
    assert snapshot() == before


def test_delete_of_a_defender_alert_from_a_defender_incident_is_refused(workspace, api):
    defender_incident = IncidentFactory(workspace=workspace, provider_name=DEFENDER)
    alert = defender_alert_in(defender_incident)
    membership.add_alerts(IncidentFactory(workspace=workspace), [alert], actor=api)
    name = Relation.objects.get(incident=defender_incident, alert=alert).name
    before = snapshot()

    with pytest.raises(ProviderManagedRemove) as refused:
        membership.delete_relation(defender_incident, name, actor=api)

    assert refused.value.status == 400
    assert refused.value.code == "BadRequest"
    assert refused.value.message == (
        "Failed to delete relation. Microsoft Defender XDR alerts cannot be removed from "
        "Microsoft Defender XDR incidents."
    )
    assert snapshot() == before


def test_delete_removes_a_bookmark_and_records_it(incident, workspace, api):
    bookmark = BookmarkFactory(workspace=workspace, display_name="Failed logons")
    membership.put_relation(incident, "bookmark-1", bookmark, actor=api)
    before = len(activity_of(incident))

    assert membership.delete_relation(incident, "bookmark-1", actor=api) is True

    assert not Relation.objects.filter(incident=incident, bookmark=bookmark).exists()
    (entry,) = activity_of(incident)[before:]
    assert entry.kind == ActivityKind.BOOKMARK_REMOVED
    assert entry.message == (
        "Bookmark “Failed logons” was removed from this incident by responder (API)."
    )
