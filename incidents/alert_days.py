"""Alerts per day (UTC): of each workspace, and of each entity (`AlertDay`).

The rules' automatic guard asks, for every batch of new alerts and every entity panel,
"is this value in more than 5 % of the workspace's alerts of the last 7 days?". Counted
from the alerts, that reads a week of alerts (at a million alerts, a quarter of a second
for the total and more for a busy host). These rows answer it from about eight rows per
value. They are kept as alerts and links arrive: ingestion and the demo data add their
batches here; alerts and links made through the ORM (the admin, the tests) are counted by
signals (`connect`). Days are whole UTC days, so "the last 7 days" is the 7 days before
today and today.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.db.models.signals import m2m_changed, post_save, pre_delete

from incidents.models import Alert, AlertDay, Workspace

CHUNK = 500


def day_of(when: dt.datetime) -> dt.date:
    return when.astimezone(dt.UTC).date()


def add(
    alerts: Iterable[tuple[int, dt.datetime]] = (),
    links: Iterable[tuple[int, int, dt.datetime]] = (),
    sign: int = 1,
) -> None:
    """Count new alerts, as (workspace id, time generated), and new links of an alert to an
    entity, as (entity id, workspace id, the alert's time generated); `sign=-1` uncounts."""
    days: Counter[tuple[int, int | None, dt.date]] = Counter()
    for workspace_id, when in alerts:
        days[workspace_id, None, day_of(when)] += sign
    for entity_id, workspace_id, when in links:
        days[workspace_id, entity_id, day_of(when)] += sign
    workspace_rows = sorted((k, n) for k, n in days.items() if k[1] is None and n)
    entity_rows = sorted((k, n) for k, n in days.items() if k[1] is not None and n)
    _upsert(workspace_rows, "(workspace_id, day) WHERE entity_id IS NULL")
    _upsert(entity_rows, "(entity_id, day) WHERE entity_id IS NOT NULL")


def _upsert(rows: list, target: str) -> None:
    table = connection.ops.quote_name(AlertDay._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, entity_id, day, alerts) VALUES {values} "
                f"ON CONFLICT {target} DO UPDATE SET alerts = {table}.alerts + excluded.alerts",
                [
                    v
                    for (workspace_id, entity_id, day), n in chunk
                    for v in (workspace_id, entity_id, day, n)
                ],
            )


def _span(now: dt.datetime, days: int) -> tuple[dt.date, dt.date]:
    """The `days` days before `now`'s day, and that day."""
    return day_of(now - dt.timedelta(days=days)), day_of(now)


def total(workspace: Workspace, now: dt.datetime, days: int) -> int:
    """The workspace's alerts of the `days` days before `now`'s day and of that day."""
    rows = AlertDay.objects.filter(
        workspace=workspace, entity__isnull=True, day__range=_span(now, days)
    )
    return rows.aggregate(n=Sum("alerts"))["n"] or 0


def entities_above(
    entity_ids: Iterable[int], now: dt.datetime, days: int, above: float
) -> dict[int, int]:
    """The entities among `entity_ids` in more than `above` alerts of those days, with
    how many."""
    ids = list(entity_ids)
    if not ids:
        return {}
    rows = (
        AlertDay.objects.filter(entity_id__in=ids, day__range=_span(now, days))
        .values("entity_id")
        .annotate(n=Sum("alerts"))
        .filter(n__gt=above)
        .values_list("entity_id", "n")
    )
    return dict(rows)


def rebuild(workspace: Workspace) -> None:
    """Count a workspace's alerts and links afresh (after a bulk load, or to repair)."""
    AlertDay.objects.filter(workspace=workspace).delete()
    alerts = Alert.objects.filter(workspace=workspace).annotate(
        day=TruncDate("time_generated", tzinfo=dt.UTC)
    )
    per_day = alerts.values("day").annotate(n=Count("id")).order_by()
    through = Alert.entities.through.objects.filter(alert__workspace=workspace).annotate(
        day=TruncDate("alert__time_generated", tzinfo=dt.UTC)
    )
    per_entity = through.values("entity_id", "day").annotate(n=Count("id")).order_by()
    AlertDay.objects.bulk_create(
        [AlertDay(workspace=workspace, day=r["day"], alerts=r["n"]) for r in per_day]
        + [
            AlertDay(workspace=workspace, entity_id=r["entity_id"], day=r["day"], alerts=r["n"])
            for r in per_entity.iterator(chunk_size=10_000)
        ],
        batch_size=5_000,
    )


# --- alerts and links made through the ORM -------------------------------------------


def _alert_saved(sender, instance: Alert, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        add(alerts=[(instance.workspace_id, instance.time_generated)])


def _alert_deleted(sender, instance: Alert, **kwargs) -> None:
    entity_ids = instance.entities.values_list("pk", flat=True)
    when, workspace_id = instance.time_generated, instance.workspace_id
    add(
        alerts=[(workspace_id, when)],
        links=[(e, workspace_id, when) for e in entity_ids],
        sign=-1,
    )


def _links_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    sign = {"post_add": 1, "post_remove": -1, "pre_clear": -1}.get(action)
    if sign is None or (action != "pre_clear" and not pk_set):
        return
    if action == "pre_clear":
        # Before the links go: which they are is known only now.
        pk_set = set(
            instance.alerts.values_list("pk", flat=True)
            if reverse
            else instance.entities.values_list("pk", flat=True)
        )
    if reverse:  # entity.alerts.add(alert, …)
        rows = Alert.objects.filter(pk__in=pk_set).values_list("workspace_id", "time_generated")
        links = [(instance.pk, workspace_id, when) for workspace_id, when in rows]
    else:  # alert.entities.add(entity, …)
        links = [(e, instance.workspace_id, instance.time_generated) for e in pk_set]
    add(links=links, sign=sign)


def connect() -> None:
    post_save.connect(_alert_saved, sender=Alert, dispatch_uid="alert_days.saved")
    pre_delete.connect(_alert_deleted, sender=Alert, dispatch_uid="alert_days.deleted")
    m2m_changed.connect(
        _links_changed, sender=Alert.entities.through, dispatch_uid="alert_days.links"
    )
