"""Property: any stream of rows ingested twice leaves what ingesting it once leaves."""

import json
import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.ingest.readers import RawRow
from incidents.ingest.stream import ingest_stream
from incidents.models import ActivityEntry, Alert, Incident
from tests.ingest.builders import account, host, ip

pytestmark = pytest.mark.django_db

IDS = [str(uuid.UUID(int=n, version=4)) for n in range(1, 7)]
ENTITIES = [
    host(),
    host("WS-BJENKINS-01", "niseko.example.", id_="2"),
    account(),
    account(AadUserId="8e1f0c3a-0000-4000-8000-00000000000a"),
    {"$id": "5", "Name": "bjenkins", "Type": "account"},
    ip(),
    ip("::ffff:203.0.113.7"),
    {"$id": "6", "Widget": "w-1", "Type": "mystery-widget"},
]

rows = st.fixed_dictionaries(
    {
        "SystemAlertId": st.sampled_from(IDS),
        "DisplayName": st.sampled_from(["Brute force", "Mass download", "Suspicious sign-in"]),
        "AlertSeverity": st.sampled_from(["High", "medium", "Low"]),
        "Status": st.sampled_from(["New", "InProgress", "resolved"]),
        "StartTime": st.just("2026-11-30 07:00:00+00:00"),
        "EndTime": st.sampled_from(["2026-11-30 07:05:00Z", "2026-11-30 09:00:00+00:00"]),
        "ProviderName": st.sampled_from(["ASI Scheduled Alerts", "MDATP"]),
        "ExtendedProperties": st.sampled_from([{}, {"IncidentId": "41"}, {"IncidentId": "42"}]),
        "Entities": st.lists(st.sampled_from(ENTITIES), max_size=4).map(json.dumps),
    }
)


def state() -> dict:
    """Everything ingestion writes, in a form that ignores row ids and times of writing."""
    alerts = {
        str(a.system_alert_id): (
            a.status,
            a.end_time,
            json.dumps(a.extended_properties, sort_keys=True),
            sorted(a.entities.values_list("kind", "identifier")),
        )
        for a in Alert.objects.prefetch_related("entities")
    }
    incidents = sorted(
        (
            i.provider_incident_id,
            i.alert_count,
            i.last_activity_time,
            tuple(
                sorted(str(s) for s in i.relations.values_list("alert__system_alert_id", flat=True))
            ),
            ActivityEntry.objects.filter(incident=i).count(),
        )
        for i in Incident.objects.all()
    )
    return {"alerts": alerts, "incidents": incidents}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stream=st.lists(rows, min_size=1, max_size=12), batch_size=st.integers(1, 5))
def test_a_stream_ingested_twice_equals_the_stream_ingested_once(workspace, stream, batch_size):
    raw = [RawRow("test", f"line {n}", row, None) for n, row in enumerate(stream, 1)]
    with transaction.atomic():
        ingest_stream(workspace, raw, batch_size=batch_size)
        once = state()

        ingest_stream(workspace, raw, batch_size=batch_size)

        assert state() == once
        transaction.set_rollback(True)
