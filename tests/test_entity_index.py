"""`entity_index`: each incident's entities, flagged open, kept in step with every change
that touches them, so pages count an entity's other open incidents without its alerts."""

import json

import pytest

from incidents import actions, entity_index
from incidents.activity import Actor
from incidents.ingest.store import ingest_batch, prepare
from incidents.ingest.stream import INGESTION
from incidents.models import Alert, EntityKind, Incident, IncidentEntity, IncidentStatus
from tests.factories import EntityFactory, IncidentFactory, UserFactory, alert_in
from tests.ingest.builders import host, ip, row

pytestmark = pytest.mark.django_db


def rows() -> set[tuple[int, int, bool]]:
    return set(IncidentEntity.objects.values_list("incident_id", "entity_id", "open"))


@pytest.fixture
def actor():
    return Actor.for_user(UserFactory())


def test_adding_an_entity_to_an_alert_either_way_lists_it_for_the_alerts_incidents(workspace):
    incident = IncidentFactory(workspace=workspace)
    alert = alert_in(incident)
    server, user = (
        EntityFactory(workspace=workspace),
        EntityFactory(workspace=workspace, kind=EntityKind.ACCOUNT),
    )

    alert.entities.add(server)
    user.alerts.add(alert)
    assert rows() == {(incident.pk, server.pk, True), (incident.pk, user.pk, True)}

    alert.entities.remove(server)
    user.alerts.clear()
    assert rows() == set()


def test_closing_and_reopening_flag_the_rows_and_counts_follow(workspace, actor):
    server = EntityFactory(workspace=workspace)
    here, there, closed = (IncidentFactory(workspace=workspace) for _ in range(3))
    for incident in (here, there, closed):
        alert_in(incident).entities.add(server)
    actions.close_incident(closed, classification="Undetermined", actor=actor)
    assert entity_index.other_open_incidents([server.pk], here.pk) == {server.pk: 1}

    actions.bulk_close([there], classification="Undetermined", actor=actor)
    assert entity_index.other_open_incidents([server.pk], here.pk) == {}

    actions.reopen_incident(closed, actor=actor)
    assert entity_index.other_open_incidents([server.pk], here.pk) == {server.pk: 1}
    assert (closed.pk, server.pk, True) in rows()


def test_ingestion_lists_new_incidents_entities_and_an_alert_resent_with_a_new_one(workspace):
    data = row(entities=[host()])
    ingest_batch(workspace, [prepare(data)], actor=INGESTION)
    incident = Incident.objects.get(workspace=workspace)
    assert {kind for _, kind in IncidentEntity.objects.values_list("incident", "entity__kind")} == {
        "host"
    }

    resent = {**data, "Entities": json.dumps([host(), ip("198.51.100.9")])}
    ingest_batch(workspace, [prepare(resent)], actor=INGESTION)

    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    assert rows() == {(incident.pk, e.pk, True) for e in alert.entities.all()}
    assert incident.status == IncidentStatus.NEW


def test_other_open_incidents_are_counted_up_to_a_bound(workspace, monkeypatch):
    monkeypatch.setattr(entity_index, "COUNTED", 2)
    busy, quiet = EntityFactory(workspace=workspace), EntityFactory(workspace=workspace)
    here = IncidentFactory(workspace=workspace)
    alert_in(here).entities.add(busy, quiet)
    others = [IncidentFactory(workspace=workspace) for _ in range(5)]
    for other in others:
        alert_in(other).entities.add(busy)
    alert_in(others[0]).entities.add(quiet)

    counts = entity_index.other_open_incidents([busy.pk, quiet.pk], here.pk)

    # Five other open incidents: read up to three, shown as "2+".
    assert counts == {busy.pk: 3, quiet.pk: 1}
    assert [entity_index.open_count_label(counts[e.pk]) for e in (busy, quiet)] == ["2+", "1"]
