"""`alert_days`: alerts per UTC day, of the workspace and of each entity, kept as alerts
and links arrive, whichever way they come, and what the "too common" guard reads."""

import datetime as dt

import pytest

from incidents import alert_days
from incidents.ingest.store import ingest_batch, prepare
from incidents.ingest.stream import INGESTION
from incidents.models import AlertDay, Entity, EntityKind
from incidents.rules import facts
from tests.factories import AlertFactory, EntityFactory
from tests.ingest.builders import host, row

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def counted() -> set[tuple]:
    rows = AlertDay.objects.exclude(alerts=0)
    return set(rows.values_list("entity_id", "day", "alerts"))


def test_ingestion_counts_its_alerts_and_their_entities_by_day(workspace):
    rows = [
        row(TimeGenerated="2026-12-01 23:59:00+00:00", entities=[host("ws-1")]),
        row(TimeGenerated="2026-12-02 00:01:00+00:00", entities=[host("ws-1"), host("ws-2")]),
    ]
    ingest_batch(workspace, [prepare(r) for r in rows], actor=INGESTION)

    ws1, ws2 = Entity.objects.filter(kind="host").order_by("identifier")
    first, second = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    assert counted() == {
        (None, first, 1),
        (None, second, 1),
        (ws1.pk, first, 1),
        (ws1.pk, second, 1),
        (ws2.pk, second, 1),
    }
    before = counted()
    alert_days.rebuild(workspace)
    assert counted() == before


def test_alerts_and_links_made_through_the_orm_are_counted_both_ways(workspace):
    server = EntityFactory(workspace=workspace)
    user = EntityFactory(workspace=workspace, kind=EntityKind.ACCOUNT)
    alert = AlertFactory(workspace=workspace, time_generated=NOW)
    alert.entities.add(server)
    user.alerts.add(alert)
    day = NOW.date()
    assert counted() == {(None, day, 1), (server.pk, day, 1), (user.pk, day, 1)}

    alert.entities.remove(server)
    user.alerts.clear()
    assert counted() == {(None, day, 1)}

    alert.entities.add(server)
    alert.delete()
    assert counted() == set()


def test_the_guard_counts_the_seven_days_before_today_and_today(workspace):
    workspace.common_entity_share = 0.5
    scanner = EntityFactory(workspace=workspace)
    # 30 alerts on the scanner eight days ago and 30 others today: over the week the
    # scanner is in none of the 30.
    for days, with_scanner in ((8, True), (0, False)):
        for _ in range(30):
            alert = AlertFactory(workspace=workspace, time_generated=NOW - dt.timedelta(days=days))
            if with_scanner:
                alert.entities.add(scanner)
    assert scanner.pk not in facts.excluded(workspace, {scanner.pk}, NOW)

    # Seven days ago counts: now in 30 of 60.
    for _ in range(31):
        AlertFactory(workspace=workspace, time_generated=NOW - dt.timedelta(days=7)).entities.add(
            scanner
        )
    found = facts.excluded(workspace, {scanner.pk}, NOW)
    assert found.reasons[scanner.pk] == (
        "too common: in 31 of the workspace's 61 alerts of the last 7 days (more than 50%)"
    )
