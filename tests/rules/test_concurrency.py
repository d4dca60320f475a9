"""Two processes ingesting alerts of one rule group at once, on a real PostgreSQL server."""

import datetime as dt
import json

import pytest
from django.db import connection

from incidents.models import CorrelationRule, GroupingMethod, Incident, Relation
from tests.ingest.builders import account, host, row
from tests.ingest.test_concurrency import start_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("method", [GroupingMethod.SHARED_ENTITY, GroupingMethod.ALL_ENTITIES])
def test_racing_ingestions_of_one_group_make_one_incident_and_never_pass_the_cap(
    workspace, tmp_path, settings, method
):
    # Every alert is on one host: the "too common" guard is switched off for it.
    workspace.common_entity_share = 1.0
    workspace.save()
    CorrelationRule.objects.create(
        workspace=workspace,
        name="Same host (24 h)",
        method=method,
        entity_kinds=["host"],
        window=dt.timedelta(hours=24),
    )
    start = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    rows = []
    for n in range(200):
        when = (start + dt.timedelta(seconds=n)).isoformat()
        rows.append(
            row(TimeGenerated=when, StartTime=when, entities=[host("mb-winclient"), account()])
        )
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in rows[::2]))
    second.write_text("".join(json.dumps(r) + "\n" for r in rows[1::2]))
    connection.close()

    processes = [start_ingest(first), start_ingest(second)]
    outcomes = [p.communicate(timeout=300) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outcomes
    assert Relation.objects.count() == 200
    incidents = list(Incident.objects.order_by("number"))
    # 200 alerts of one group: one incident at the cap (150), continued by one more.
    assert [i.alert_count for i in incidents] == [150, 50]
    assert incidents[1].continues == incidents[0]
    for incident in incidents:
        assert incident.alert_count == incident.relations.count()
