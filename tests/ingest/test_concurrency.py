"""Two `ingest_alerts` processes on overlapping files at once, on a real PostgreSQL server."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from incidents.models import ActivityEntry, ActivityKind, Alert, Entity, Incident, Relation
from tests.ingest.builders import account, defender_row, host, ip, row

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def start_ingest(path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "ingest_alerts",
            "--workspace",
            "soc",
            "--batch-size",
            "7",
            str(path),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_on_overlapping_files_store_each_alert_once(workspace, tmp_path):
    shared_entities = [host(), account(), ip()]
    rows = []
    for n in range(120):
        if n % 3 == 0:
            rows.append(defender_row(1000 + n % 4, Entities=json.dumps(shared_entities)))
        else:
            rows.append(row(entities=[host(f"srv-{n % 9}"), account(), ip(f"10.0.0.{n % 5}")]))
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    # Both hold the middle third; the second reads it in the other order.
    first.write_text("".join(json.dumps(r) + "\n" for r in rows[:80]))
    second.write_text("".join(json.dumps(r) + "\n" for r in reversed(rows[40:])))
    connection.close()

    processes = [start_ingest(first), start_ingest(second)]
    outcomes = [p.communicate(timeout=300) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outcomes
    assert Alert.objects.count() == 120
    assert Relation.objects.count() == 120
    # Each Defender incident once, holding each of its alerts once.
    per_id = dict(
        Incident.objects.exclude(provider_incident_id="")
        .values_list("provider_incident_id")
        .annotate(n=Count("id"))
    )
    assert per_id == {"1000": 1, "1001": 1, "1002": 1, "1003": 1}
    # Every entity once.
    assert Entity.objects.filter(kind="account").count() == 1
    assert Entity.objects.filter(kind="host").count() == 7
    for incident in Incident.objects.all():
        assert incident.alert_count == incident.relations.count()
    correlated = ActivityEntry.objects.filter(kind=ActivityKind.ALERT_CORRELATED)
    assert correlated.count() == 120
    assert correlated.values("details__alert").distinct().count() == 120
