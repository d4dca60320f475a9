"""`membership.import_incidents`: the bulk path for brand-new incidents and their alerts."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import membership
from incidents.errors import AlertAlreadyInIncident, DifferentWorkspace, IncidentFull
from incidents.models import ActivityKind, Incident, Relation, RelationReason
from tests.factories import (
    DEFENDER,
    INGESTION,
    AlertFactory,
    IncidentFactory,
    activity_of,
    alert_ids_of,
    snapshot,
)

pytestmark = pytest.mark.django_db


def unsaved(**fields) -> Incident:
    return Incident(title=fields.pop("title", "Imported incident"), **fields)


def test_importing_saves_incidents_with_their_alerts_and_next_numbers(workspace):
    last = IncidentFactory(workspace=workspace)
    a, b, c = AlertFactory.create_batch(3, workspace=workspace)
    first, second = unsaved(title="First"), unsaved(title="Second")

    saved = membership.import_incidents(
        workspace, [(first, [a, b]), (second, [c])], actor=INGESTION
    )

    assert [i.number for i in saved] == [last.number + 1, last.number + 2]
    assert alert_ids_of(first) == {a.pk, b.pk}
    assert alert_ids_of(second) == {c.pk}
    first.refresh_from_db()
    assert first.alert_count == 2
    assert first.workspace == workspace
    assert set(Relation.objects.filter(incident=first).values_list("reason", flat=True)) == {
        RelationReason.INGESTION
    }
    # The counter moved past them: the next incident does not collide.
    assert IncidentFactory(workspace=workspace).number == last.number + 3


def test_importing_sets_activity_times_from_the_alerts(workspace):
    now = timezone.now()
    early = AlertFactory(
        workspace=workspace, time_generated=now, start_time=now - dt.timedelta(hours=5)
    )
    late = AlertFactory(
        workspace=workspace, time_generated=now - dt.timedelta(hours=1), end_time=now
    )
    incident = unsaved()

    membership.import_incidents(workspace, [(incident, [early, late])], actor=INGESTION)

    incident.refresh_from_db()
    assert incident.first_activity_time == now - dt.timedelta(hours=5)
    assert incident.last_activity_time == now


def test_importing_logs_the_creation_and_each_correlated_alert_at_the_alerts_time(workspace):
    alerts = AlertFactory.create_batch(2, workspace=workspace)
    incident = unsaved()

    membership.import_incidents(workspace, [(incident, alerts)], actor=INGESTION)

    entries = activity_of(incident)
    assert [e.kind for e in entries] == [
        ActivityKind.CREATED,
        ActivityKind.ALERT_CORRELATED,
        ActivityKind.ALERT_CORRELATED,
    ]
    assert entries[0].actor_name == "Ingestion"
    assert entries[0].created == incident.created
    assert [e.created for e in entries[1:]] == [a.time_generated for a in alerts]
    assert entries[1].message == (
        f"Alert “{alerts[0].display_name}” was correlated with this incident by Ingestion."
    )


def test_an_alert_can_be_imported_into_several_incidents(workspace):
    alert = AlertFactory(workspace=workspace)
    first, second = unsaved(), unsaved()

    membership.import_incidents(workspace, [(first, [alert]), (second, [alert])], actor=INGESTION)

    assert set(alert.relations.values_list("incident", flat=True)) == {first.pk, second.pk}


def test_defender_alerts_are_imported_into_defender_incidents(workspace):
    alert = AlertFactory(workspace=workspace, provider_name=DEFENDER)
    incident = unsaved(provider_name=DEFENDER)

    membership.import_incidents(workspace, [(incident, [alert])], actor=INGESTION)

    assert alert_ids_of(incident) == {alert.pk}


def test_importing_in_small_batches_saves_everything(workspace):
    pairs = [(unsaved(), AlertFactory.create_batch(3, workspace=workspace)) for _ in range(5)]

    membership.import_incidents(workspace, pairs, actor=INGESTION, batch_size=2)

    assert Incident.objects.filter(workspace=workspace).count() == 5
    assert Relation.objects.count() == 15
    assert sorted(Incident.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5]


def test_importing_nothing_saves_nothing(workspace):
    before = snapshot()

    assert membership.import_incidents(workspace, [], actor=INGESTION) == []

    assert snapshot() == before


# --- refusals save nothing at all ------------------------------------------


def test_importing_an_incident_with_more_alerts_than_the_cap_saves_nothing(workspace, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3
    fine = (unsaved(), AlertFactory.create_batch(3, workspace=workspace))
    too_big = (unsaved(), AlertFactory.create_batch(4, workspace=workspace))
    before = snapshot()

    with pytest.raises(IncidentFull) as refused:
        membership.import_incidents(workspace, [fine, too_big], actor=INGESTION)

    assert refused.value.message.endswith("an incident can contain at most 3 alerts.")
    assert snapshot() == before


def test_importing_the_same_alert_twice_into_one_incident_saves_nothing_and_names_it(
    workspace,
):
    first, twice = AlertFactory.create_batch(2, workspace=workspace)
    incident = unsaved()
    before = snapshot()

    with pytest.raises(AlertAlreadyInIncident) as refused:
        membership.import_incidents(workspace, [(incident, [first, twice, twice])], actor=INGESTION)

    assert refused.value.message == (
        f"Failed to create relation. Alert {twice.system_alert_id} already exists in incident "
        f"{incident.uuid}."
    )
    assert snapshot() == before


def test_importing_an_alert_of_another_workspace_saves_nothing(workspace, other_workspace):
    fine = (unsaved(), AlertFactory.create_batch(2, workspace=workspace))
    foreign = (unsaved(), [AlertFactory(workspace=other_workspace)])
    before = snapshot()

    with pytest.raises(DifferentWorkspace) as refused:
        membership.import_incidents(workspace, [fine, foreign], actor=INGESTION)

    assert refused.value.message == (
        "Failed to create relation. Related resource and incident should belong to the same "
        "workspace."
    )
    assert snapshot() == before


def test_importing_an_incident_that_is_already_saved_is_refused(workspace):
    saved = IncidentFactory(workspace=workspace)
    before = snapshot()

    with pytest.raises(ValueError, match="new incidents only"):
        membership.import_incidents(
            workspace, [(saved, [AlertFactory(workspace=workspace)])], actor=INGESTION
        )

    assert snapshot() == before
