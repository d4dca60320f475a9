"""Triage actions on one incident (`incidents.actions`) and the append-only activity log."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from incidents import actions
from incidents.activity import Actor
from incidents.errors import InvalidChange
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Classification,
    ClassificationReason,
    IncidentStatus,
    Role,
    Via,
)
from tests.factories import (
    IncidentFactory,
    MembershipFactory,
    UserFactory,
    activity_of,
    incident_with_alerts,
    snapshot,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(workspace):
    return incident_with_alerts(1, workspace=workspace, title="Brute force on DC01")


@pytest.fixture
def alice(workspace):
    user = UserFactory(username="alice")
    MembershipFactory(workspace=workspace, user=user, role=Role.RESPONDER)
    return user


@pytest.fixture
def closed(incident, actor):
    return actions.close_incident(
        incident,
        classification=Classification.TRUE_POSITIVE,
        reason=ClassificationReason.SUSPICIOUS_ACTIVITY,
        comment="Confirmed with the user.",
        actor=actor,
    )


# --- owner -----------------------------------------------------------------


def test_assigning_a_member_sets_the_owner_and_records_it(incident, alice, actor):
    actions.assign_owner(incident, alice, actor=actor)

    incident.refresh_from_db()
    assert incident.owner == alice
    (entry,) = activity_of(incident, ActivityKind.OWNER)
    assert entry.actor == actor.user
    assert entry.message == "responder assigned the incident to alice."
    assert entry.details == {"from": None, "to": "alice"}


def test_a_reader_cannot_be_made_owner_because_owners_act(incident, reader, actor):
    before = snapshot()

    with pytest.raises(InvalidChange) as refused:
        actions.assign_owner(incident, reader, actor=actor)

    assert refused.value.user_message == (
        "reader is a reader of this workspace and cannot act on incidents: "
        "choose a responder or a contributor."
    )
    assert snapshot() == before


def test_assigning_someone_outside_the_workspace_is_refused_and_changes_nothing(
    incident, outsider, actor
):
    before = snapshot()

    with pytest.raises(InvalidChange) as refused:
        actions.assign_owner(incident, outsider, actor=actor)

    assert refused.value.user_message == "outsider is not a member of this workspace."
    assert snapshot() == before


def test_unassigning_clears_the_owner_and_records_it(incident, alice, actor):
    actions.assign_owner(incident, alice, actor=actor)

    actions.assign_owner(incident, None, actor=actor)

    incident.refresh_from_db()
    assert incident.owner is None
    entry = activity_of(incident, ActivityKind.OWNER)[-1]
    assert entry.message == "responder unassigned the incident."
    assert entry.details == {"from": "alice", "to": None}


def test_assigning_the_current_owner_again_writes_nothing(incident, alice, actor):
    actions.assign_owner(incident, alice, actor=actor)
    before = snapshot()

    actions.assign_owner(incident, alice, actor=actor)

    assert snapshot() == before


def test_assigning_shows_the_new_owner_on_the_callers_incident_object(
    workspace, alice, responder, actor
):
    incident = IncidentFactory(workspace=workspace, owner=responder)
    assert incident.owner == responder

    returned = actions.assign_owner(incident, alice, actor=actor)

    assert returned is incident
    assert incident.owner == alice


# --- status ----------------------------------------------------------------


def test_changing_the_status_from_new_to_active_records_it(incident, actor):
    actions.change_status(incident, IncidentStatus.ACTIVE, actor=actor)

    assert incident.status == IncidentStatus.ACTIVE
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACTIVE
    (entry,) = activity_of(incident, ActivityKind.STATUS)
    assert entry.message == "responder changed the status from New to Active."
    assert entry.details == {"from": "New", "to": "Active"}


def test_setting_the_status_it_already_has_writes_nothing(incident, actor):
    before = snapshot()

    actions.change_status(incident, IncidentStatus.NEW, actor=actor)

    assert snapshot() == before


@pytest.mark.parametrize("status", [IncidentStatus.CLOSED, "Resolved", ""])
def test_changing_the_status_to_anything_but_new_or_active_is_refused(status, incident, actor):
    before = snapshot()

    with pytest.raises(InvalidChange):
        actions.change_status(incident, status, actor=actor)

    assert snapshot() == before


def test_changing_the_status_of_a_closed_incident_is_refused(closed, actor):
    before = snapshot()

    with pytest.raises(InvalidChange) as refused:
        actions.change_status(closed, IncidentStatus.ACTIVE, actor=actor)

    assert refused.value.user_message == f"Incident #{closed.number} is closed; reopen it first."
    assert snapshot() == before


# --- closing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("classification", "reason", "label"),
    [
        (Classification.UNDETERMINED, "", "Undetermined"),
        (
            Classification.TRUE_POSITIVE,
            ClassificationReason.SUSPICIOUS_ACTIVITY,
            "True Positive – suspicious activity",
        ),
        (
            Classification.BENIGN_POSITIVE,
            ClassificationReason.SUSPICIOUS_BUT_EXPECTED,
            "Benign Positive – suspicious but expected",
        ),
        (
            Classification.FALSE_POSITIVE,
            ClassificationReason.INCORRECT_ALERT_LOGIC,
            "False Positive – incorrect alert logic",
        ),
        (
            Classification.FALSE_POSITIVE,
            ClassificationReason.INACCURATE_DATA,
            "False Positive – inaccurate data",
        ),
    ],
)
def test_closing_with_a_matching_classification_and_reason_closes_and_records_it(
    classification, reason, label, incident, actor
):
    actions.close_incident(
        incident, classification=classification, reason=reason, comment=" Done. ", actor=actor
    )

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLOSED
    assert incident.classification == classification
    assert incident.classification_reason == reason
    assert incident.classification_comment == "Done."
    assert incident.closed is not None
    (entry,) = activity_of(incident, ActivityKind.CLOSED)
    assert entry.actor == actor.user
    assert entry.message == f"responder closed the incident as {label}."
    assert entry.comment == "Done."
    assert entry.details == {
        "from": "New",
        "classification": classification,
        "classification_reason": reason,
    }


@pytest.mark.parametrize(
    ("classification", "reason"),
    [
        (Classification.TRUE_POSITIVE, ""),
        (Classification.TRUE_POSITIVE, ClassificationReason.INCORRECT_ALERT_LOGIC),
        (Classification.BENIGN_POSITIVE, ClassificationReason.SUSPICIOUS_ACTIVITY),
        (Classification.BENIGN_POSITIVE, ""),
        (Classification.FALSE_POSITIVE, ClassificationReason.SUSPICIOUS_BUT_EXPECTED),
        (Classification.FALSE_POSITIVE, ""),
        (Classification.UNDETERMINED, ClassificationReason.SUSPICIOUS_ACTIVITY),
        (Classification.UNDETERMINED, "Whatever"),
        ("", ""),
        ("Malicious", ""),
    ],
)
def test_closing_with_a_classification_and_reason_that_do_not_match_is_refused(
    classification, reason, incident, actor
):
    before = snapshot()

    with pytest.raises(InvalidChange):
        actions.close_incident(incident, classification=classification, reason=reason, actor=actor)

    assert snapshot() == before


def test_a_refused_reason_names_the_reasons_that_fit(incident, actor):
    with pytest.raises(InvalidChange) as refused:
        actions.close_incident(incident, classification=Classification.FALSE_POSITIVE, actor=actor)

    assert refused.value.user_message == (
        "A False Positive classification needs a reason: Incorrect alert logic, Inaccurate data."
    )


def test_closing_a_closed_incident_is_refused_and_changes_nothing(closed, actor):
    before = snapshot()

    with pytest.raises(InvalidChange) as refused:
        actions.close_incident(closed, classification=Classification.UNDETERMINED, actor=actor)

    assert refused.value.user_message == f"Incident #{closed.number} is already closed."
    assert snapshot() == before


def test_closing_with_a_comment_that_is_too_long_is_refused(incident, actor):
    before = snapshot()

    with pytest.raises(InvalidChange):
        actions.close_incident(
            incident,
            classification=Classification.UNDETERMINED,
            comment="x" * 30_001,
            actor=actor,
        )

    assert snapshot() == before


# --- reopening -------------------------------------------------------------


def test_reopening_clears_the_classification_and_records_what_it_was(closed, actor):
    actions.reopen_incident(closed, actor=actor, comment="New evidence.")

    closed.refresh_from_db()
    assert closed.status == IncidentStatus.ACTIVE
    assert closed.classification == ""
    assert closed.classification_reason == ""
    assert closed.classification_comment == ""
    assert closed.closed is None
    (entry,) = activity_of(closed, ActivityKind.REOPENED)
    assert entry.message == "responder reopened the incident."
    assert entry.comment == "New evidence."
    assert entry.details["previous"] == {
        "classification": "TruePositive",
        "classification_reason": "SuspiciousActivity",
        "classification_comment": "Confirmed with the user.",
    }


def test_reopening_an_open_incident_is_refused_and_changes_nothing(incident, actor):
    before = snapshot()

    with pytest.raises(InvalidChange) as refused:
        actions.reopen_incident(incident, actor=actor)

    assert refused.value.user_message == f"Incident #{incident.number} is not closed."
    assert snapshot() == before


def test_a_reopened_incident_can_be_closed_again(closed, actor):
    actions.reopen_incident(closed, actor=actor)

    actions.close_incident(closed, classification=Classification.UNDETERMINED, actor=actor)

    closed.refresh_from_db()
    assert closed.classification == Classification.UNDETERMINED
    assert len(activity_of(closed, ActivityKind.CLOSED)) == 2


# --- comments --------------------------------------------------------------


def test_commenting_records_the_comment(incident, actor):
    entry = actions.add_comment(incident, "  Checked the sign-in logs.  ", actor=actor)

    assert activity_of(incident, ActivityKind.COMMENT) == [entry]
    assert entry.comment == "Checked the sign-in logs."
    assert entry.message == "responder commented."
    assert entry.actor == actor.user


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_an_empty_comment_is_refused_and_changes_nothing(text, incident, actor):
    before = snapshot()

    with pytest.raises(InvalidChange) as refused:
        actions.add_comment(incident, text, actor=actor)

    assert refused.value.user_message == "A comment cannot be empty."
    assert snapshot() == before


def test_a_comment_that_is_too_long_is_refused(incident, actor):
    before = snapshot()

    with pytest.raises(InvalidChange):
        actions.add_comment(incident, "x" * 30_001, actor=actor)

    assert snapshot() == before


# --- actors ----------------------------------------------------------------


def test_an_actor_reads_as_its_name_and_the_channel_when_it_is_not_the_web_app(responder):
    assert Actor.for_user(responder).label == "responder"
    assert Actor.for_user(responder, via=Via.API).label == "responder (API)"
    assert Actor.for_user(responder, via=Via.ADMIN).label == "responder (admin site)"
    assert Actor.system("Rule 7").label == "Rule 7"


def test_an_api_client_is_named_as_such_in_the_log(incident, responder):
    entry = actions.add_comment(
        incident, "Via a playbook.", actor=Actor.for_user(responder, Via.API)
    )

    assert entry.via == Via.API
    assert entry.message == "responder (API) commented."


# --- the activity log is append-only ---------------------------------------


@pytest.fixture
def entry(incident, actor):
    return actions.add_comment(incident, "First look.", actor=actor)


def test_an_activity_entry_cannot_be_saved_again(entry):
    entry.message = "Rewritten."

    with pytest.raises(TypeError, match="append-only"):
        entry.save()

    assert ActivityEntry.objects.get(pk=entry.pk).message == "responder commented."


def test_a_new_entry_with_an_existing_primary_key_does_not_overwrite_it(entry, incident):
    forged = ActivityEntry(
        pk=entry.pk,
        incident=incident,
        actor_name="x",
        via=Via.UI,
        kind="comment",
        message="Forged.",
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()

    assert ActivityEntry.objects.get(pk=entry.pk).message == "responder commented."


def test_an_activity_entry_cannot_be_deleted(entry):
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()

    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


def test_activity_entries_cannot_be_updated_in_bulk(entry, incident):
    with pytest.raises(TypeError, match="append-only"):
        ActivityEntry.objects.filter(pk=entry.pk).update(message="Rewritten.")
    with pytest.raises(TypeError, match="append-only"):
        incident.activity.update(message="Rewritten.")
    entry.message = "Rewritten."
    # bulk_update runs in a transaction of its own that the refusal breaks.
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        ActivityEntry.objects.bulk_update([entry], ["message"])

    assert ActivityEntry.objects.get(pk=entry.pk).message == "responder commented."


def test_activity_entries_cannot_be_deleted_in_bulk(entry, incident):
    with pytest.raises(TypeError, match="append-only"):
        ActivityEntry.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        incident.activity.all().delete()

    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE incidents_activityentry SET message = 'Rewritten.' WHERE id = %s",
        "DELETE FROM incidents_activityentry WHERE id = %s",
    ],
)
def test_on_postgresql_the_database_itself_refuses_to_edit_the_log(sql, entry):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])

    assert ActivityEntry.objects.get(pk=entry.pk).message == "responder commented."
