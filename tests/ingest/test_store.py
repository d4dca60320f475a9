"""`ingest.store`: new alerts get an incident, alerts seen before are updated, never doubled."""

import datetime as dt
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import membership
from incidents.errors import ProviderManagedAdd, ProviderManagedRemove
from incidents.ingest.store import ingest_batch, prepare
from incidents.ingest.stream import INGESTION
from incidents.models import (
    ActivityKind,
    Alert,
    AlertStatus,
    Entity,
    EntityIdentifier,
    Incident,
    Relation,
    RelationReason,
)
from tests.factories import activity_of, alert_in, incident_with_alerts
from tests.ingest.builders import account, defender_row, host, ip, row

pytestmark = pytest.mark.django_db


def ingest(workspace, *rows, actor=INGESTION):
    return ingest_batch(workspace, [prepare(r) for r in rows], actor=actor)


def incidents_of(system_alert_id) -> list[Incident]:
    return list(Incident.objects.filter(relations__alert__system_alert_id=system_alert_id))


def test_a_new_alert_gets_a_new_incident_named_after_it(workspace):
    data = row(DisplayName="Mass download by bjenkins", AlertSeverity="High")

    result = ingest(workspace, data)

    (incident,) = incidents_of(data["SystemAlertId"])
    assert incident.title == "Mass download by bjenkins"
    assert incident.severity == "High"
    assert incident.alert_count == 1
    assert incident.description == "A PowerShell command line with an encoded payload ran."
    assert [(r.status, r.incidents) for r in result.rows] == [("created", [incident.number])]
    assert result.incidents_created == 1
    relation = Relation.objects.get(incident=incident)
    assert relation.reason == RelationReason.INGESTION
    assert relation.created_by_name == "Ingestion"


def test_the_new_incident_says_the_alert_was_correlated_with_it(workspace):
    data = row(DisplayName="Mass download by bjenkins")

    ingest(workspace, data)

    (incident,) = incidents_of(data["SystemAlertId"])
    created, correlated = activity_of(incident)
    assert created.kind == ActivityKind.CREATED
    assert correlated.kind == ActivityKind.ALERT_CORRELATED
    # Every automatic relation says why: here, that no rule could group it.
    assert correlated.message == (
        "Alert “Mass download by bjenkins” was correlated with this incident by Ingestion. "
        "No correlation rule is enabled in this workspace."
    )
    assert correlated.details["alert"] == data["SystemAlertId"]
    assert correlated.details["no_rule_matched"] is True


def test_every_column_is_kept_on_the_alert(workspace):
    data = row(ConfidenceScore=0.93, ResourceId="/subscriptions/x/resourceGroups/y")

    ingest(workspace, data)

    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    assert alert.tactics == ["Execution", "DefenseEvasion"]
    assert alert.techniques == ["T1059", "T1027"]
    assert alert.remediation_steps == ["Isolate the host.", "Reset the account's password."]
    assert alert.extended_properties == {"Query": "x"}
    assert alert.source_fields["ConfidenceScore"] == 0.93
    assert alert.source_fields["CompromisedEntity"] == "ws-bjenkins-01.niseko.example"
    assert alert.source_fields["AlertLink"] == "https://portal.example/alerts/1"
    assert alert.source_fields["ResourceId"] == "/subscriptions/x/resourceGroups/y"
    assert alert.provider_alert_id == data["VendorOriginalId"]


def test_json_values_are_kept_as_given_however_they_are_written_out(workspace):
    # orjson refuses integers past 64 bits, so they take the standard library's way.
    properties = {"Huge": 2**70, "Name": "Øresund 東京 🛡", "Nested": {"List": [1, 2.5, None]}}
    data = row(ExtendedProperties=properties, ConfidenceScore=-(2**65))

    ingest(workspace, data)

    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    assert alert.extended_properties == properties
    assert alert.source_fields["ConfidenceScore"] == -(2**65)


def test_the_alerts_entities_are_linked(workspace):
    data = row()

    ingest(workspace, data)

    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    kinds = sorted(alert.entities.values_list("kind", flat=True))
    assert kinds == ["account", "host", "ip"]
    account_entity = alert.entities.get(kind="account")
    assert account_entity.display_name == "bjenkins@niseko.example"
    assert set(account_entity.identifiers.values_list("key", flat=True)) == {
        "upn:bjenkins@niseko.example"
    }


def stored() -> dict:
    """Every row ingestion writes, to show that a second pass wrote nothing."""
    return {
        "alerts": list(Alert.objects.values()),
        "incidents": list(Incident.objects.values("pk", "alert_count", "last_activity_time")),
        "relations": Relation.objects.count(),
        "entities": Entity.objects.count(),
        "identifiers": EntityIdentifier.objects.count(),
        "links": Alert.entities.through.objects.count(),
        "activity": [list(activity_of(i)) for i in Incident.objects.all()],
    }


def test_ingesting_the_same_row_again_changes_nothing(workspace):
    data = row()
    ingest(workspace, data)
    before = stored()

    result = ingest(workspace, data)

    assert [r.status for r in result.rows] == ["unchanged"]
    assert result.incidents_created == 0
    assert stored() == before


def test_a_resent_alert_updates_status_end_time_and_extended_properties(workspace):
    data = row()
    ingest(workspace, data)
    resent = {
        **data,
        "Status": "Resolved",
        "EndTime": "2026-11-30 09:30:00+00:00",
        "ExtendedProperties": json.dumps({"Remediated": "true"}),
    }

    result = ingest(workspace, resent)

    assert [r.status for r in result.rows] == ["updated"]
    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    assert alert.status == AlertStatus.RESOLVED
    assert alert.end_time == dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)
    assert alert.extended_properties == {"Query": "x", "Remediated": "true"}
    assert alert.updated is not None
    (incident,) = incidents_of(data["SystemAlertId"])
    # The incident's last activity follows its alert.
    assert incident.last_activity_time == dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)


def test_a_resent_alert_with_a_new_entity_gains_it(workspace):
    data = row(entities=[host()])
    ingest(workspace, data)

    result = ingest(workspace, {**data, "Entities": json.dumps([host(), ip("198.51.100.9")])})

    assert [r.status for r in result.rows] == ["updated"]
    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    assert sorted(alert.entities.values_list("kind", flat=True)) == ["host", "ip"]


def test_a_resent_alert_stays_where_an_analyst_moved_it(workspace, actor):
    data = row()
    ingest(workspace, data)
    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    target = incident_with_alerts(1, workspace=workspace)
    membership.move_alerts([alert], destination=target, actor=actor)

    result = ingest(workspace, {**data, "Status": "InProgress"})

    assert incidents_of(data["SystemAlertId"]) == [target]
    assert result.rows[0].incidents == [target.number]


def test_the_same_alert_twice_in_one_batch_is_one_alert(workspace):
    data = row()

    result = ingest(workspace, data, {**data, "Status": "InProgress"})

    assert [r.status for r in result.rows] == ["created", "updated"]
    assert Alert.objects.get().status == AlertStatus.IN_PROGRESS
    assert Incident.objects.count() == 1


def test_an_alert_id_of_another_workspace_is_refused(workspace, other_workspace):
    data = row()
    ingest(other_workspace, data)

    result = ingest(workspace, data)

    assert result.rows == []
    assert "already belongs to an alert of another workspace" in result.rejected[0]
    assert Alert.objects.get().workspace == other_workspace


def test_one_entity_seen_in_several_alerts_is_one_entity(workspace):
    first = row(entities=[account(AadUserId="5f3b2c1d-0000-4000-8000-000000000001")])
    second = row(entities=[account()])
    third = row(
        entities=[
            {"$id": "1", "AadUserId": "5F3B2C1D-0000-4000-8000-000000000001", "Type": "account"}
        ]
    )

    ingest(workspace, first)
    ingest(workspace, second, third)

    (entity,) = Entity.objects.filter(kind="account")
    assert entity.alerts.count() == 3


def test_a_bare_name_never_merges_with_a_known_account(workspace):
    strong = row(entities=[account()])
    weak = row(entities=[{"$id": "1", "Name": "bjenkins", "Type": "account"}])

    ingest(workspace, strong, weak)

    assert Entity.objects.filter(kind="account").count() == 2
    assert set(EntityIdentifier.objects.values_list("key", "strong")) >= {
        ("upn:bjenkins@niseko.example", True),
        ("name:bjenkins", False),
    }


def test_an_entity_made_in_the_admin_site_with_the_same_identifier_is_reused(workspace):
    made = Entity.objects.create(workspace=workspace, kind="ip", identifier="ip:203.0.113.7")

    ingest(workspace, row(entities=[ip()]))

    assert list(Entity.objects.filter(kind="ip")) == [made]
    assert made.identifiers.get().key == "ip:203.0.113.7"


# --- provider incidents ------------------------------------------------------


def test_defender_alerts_join_their_defender_incident(workspace):
    first, second = defender_row(384), defender_row(384)

    result = ingest(workspace, first, second)

    (incident,) = Incident.objects.all()
    assert incident.provider_name == "Microsoft Defender XDR"
    assert incident.provider_incident_id == "384"
    assert incident.alert_count == 2
    assert {r.incidents[0] for r in result.rows} == {incident.number}
    assert [r.details for r in Relation.objects.all()] == [{"provider_incident_id": "384"}] * 2
    correlated = activity_of(incident, ActivityKind.ALERT_CORRELATED)
    assert correlated[0].message.endswith(
        "by Ingestion. It belongs to Microsoft Defender XDR incident 384."
    )


def test_a_later_defender_alert_joins_the_incident_made_before(workspace):
    ingest(workspace, defender_row(384))

    result = ingest(workspace, defender_row(384), defender_row(385))

    assert Incident.objects.count() == 2
    assert result.correlated_existing == 1
    assert result.incidents_created == 1
    assert Incident.objects.get(provider_incident_id="384").alert_count == 2


def test_a_defender_incident_is_managed_by_defender(workspace, actor):
    data = defender_row(384)
    ingest(workspace, data, defender_row(384))
    (incident,) = Incident.objects.all()
    alert = Alert.objects.get(system_alert_id=data["SystemAlertId"])
    other = incident_with_alerts(1, workspace=workspace)
    membership.add_alerts(other, [alert], actor=actor)

    with pytest.raises(ProviderManagedRemove):
        membership.remove_alert(incident, alert, actor=actor)
    with pytest.raises(ProviderManagedAdd):
        membership.add_alerts(incident, [alert_in(other, provider_name="MDATP")], actor=actor)


def test_a_full_defender_incident_is_continued_by_a_new_one(workspace, settings):
    settings.TRIAGE_MAX_ALERTS_PER_INCIDENT = 3
    ingest(workspace, *[defender_row(384) for _ in range(2)])

    result = ingest(workspace, *[defender_row(384) for _ in range(3)])

    first, second = Incident.objects.order_by("number")
    assert (first.alert_count, second.alert_count) == (3, 2)
    assert second.continues == first
    assert second.provider_incident_id == "384"
    assert result.correlated_existing == 1
    assert activity_of(first, ActivityKind.CONTINUED)[0].message == (
        f"Incident #{second.number} continues this incident, which holds the maximum of 3 "
        "alerts: new alerts that belong here go there."
    )
    assert activity_of(second, ActivityKind.CREATED)[0].message == (
        f"Ingestion created the incident to continue #{first.number}, which holds the "
        "maximum of 3 alerts."
    )
    # The next alert goes to the newest part.
    ingest(workspace, defender_row(384))
    second.refresh_from_db()
    assert second.alert_count == 3


# --- the rules of DESIGN.md, and cost -------------------------------------------


def test_every_new_alert_ends_in_exactly_one_incident_with_its_entry(workspace):
    rows = [row() for _ in range(5)] + [defender_row(7) for _ in range(4)]

    ingest(workspace, *rows)

    for data in rows:
        (incident,) = incidents_of(data["SystemAlertId"])
        entries = [
            e
            for e in activity_of(incident, ActivityKind.ALERT_CORRELATED)
            if e.details["alert"] == data["SystemAlertId"]
        ]
        assert len(entries) == 1
    for incident in Incident.objects.all():
        assert incident.alert_count == Relation.objects.filter(incident=incident).count()


def queries_for(workspace, rows) -> int:
    with CaptureQueriesContext(connection) as queries:
        ingest(workspace, *rows)
    return len(queries)


def test_a_batch_costs_the_same_queries_whatever_its_size(workspace):
    def mixed(n):
        return [
            row(entities=[host(f"ws-{uuid.uuid4().hex[:6]}"), account(), ip()]) for _ in range(n)
        ] + [defender_row(n) for _ in range(n)]

    small = queries_for(workspace, mixed(3))
    large = queries_for(workspace, mixed(60))

    assert small == large
    # Re-sent rows too.
    resent = mixed(3)
    ingest(workspace, *resent)
    again = [{**r, "Status": "Resolved", "EndTime": "2026-12-01 00:00:00+00:00"} for r in resent]
    many = mixed(40)
    ingest(workspace, *many)
    again_many = [{**r, "Status": "Resolved", "EndTime": "2026-12-01 00:00:00+00:00"} for r in many]
    assert queries_for(workspace, again) == queries_for(workspace, again_many)
