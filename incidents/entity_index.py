"""Which entities each incident has, and whether it is open (`IncidentEntity`); and the
products and tactics of its alerts (`Incident.products`, `Incident.tactics`).

The pages show, for every entity of an incident, in how many *other* open incidents it
appears. Counted from the alerts, that joins every alert the entity was ever seen in (a
host in 60,000 alerts: seconds). These rows say it directly: one per entity and incident,
flagged open, counted through a partial index. They are rebuilt for an incident from its
relations whenever its alerts, an alert's entities or its status change: the membership
module's `recount` (every add, remove, move, merge, undo and ingestion join), new
incidents of ingestion and imports, closing and reopening, and the admin. Rebuilding
reads the incident's own alerts only (at most 150), so it costs the same for a busy
entity as for a rare one.

The products and tactics are kept on the incident for the same reason: the queue filters
by them and shows the products on every row, which from the alerts meant probing each
incident's alerts in turn (at a million alerts, 0.3–0.7 s for a product or a tactic).
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery

from incidents.models import Alert, Entity, Incident, IncidentEntity, IncidentStatus, Relation

# Enough ids per statement for SQLite's bound parameters, and few statements per batch.
CHUNK = 900
OPEN = (IncidentStatus.NEW, IncidentStatus.ACTIVE)
# Other open incidents are counted up to this many, then shown as "100+": a page reads at
# most this many rows for an entity in 60,000 alerts.
COUNTED = 100


def refresh(incident_ids: Iterable[int], *, new: bool = False, summarized: bool = False) -> None:
    """Rebuild the rows of these incidents from their relations and status, and their
    products and tactics. `new`: the incidents were made in this transaction with their
    products and tactics, and have no rows yet; `summarized`: the caller's own UPDATE of
    the incidents set their products and tactics (`summary_sql`).

    The caller holds the incidents' row locks (or made them), so no one else rebuilds them
    at the same time."""
    ids = sorted(set(incident_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if not new:
            IncidentEntity.objects.filter(incident_id__in=chunk).delete()
            if not summarized:
                _summarize(chunk)
        _insert(chunk)


def summary_of(alerts: Iterable[Alert]) -> tuple[list[str], list[str]]:
    """The products and the tactics of these alerts, sorted: a new incident's, set before
    it is saved."""
    alerts = list(alerts)
    products = {a.product_name for a in alerts if a.product_name}
    tactics = {t for a in alerts if isinstance(a.tactics, list) for t in a.tactics}
    return sorted(products), sorted(t for t in tactics if isinstance(t, str))


def _summarize(incident_ids: list[int]) -> None:
    """Set the products and tactics of these incidents from their alerts."""
    if connection.vendor == "postgresql":
        _summarize_postgresql(incident_ids)
        return
    found: dict[int, list[Alert]] = {pk: [] for pk in incident_ids}
    rows = Relation.objects.filter(incident_id__in=incident_ids, alert__isnull=False)
    for incident_id, product, tactics in rows.values_list(
        "incident_id", "alert__product_name", "alert__tactics"
    ):
        found[incident_id].append(Alert(product_name=product, tactics=tactics))
    incidents = []
    for pk, alerts in found.items():
        incident = Incident(pk=pk)
        incident.products, incident.tactics = summary_of(alerts)
        incidents.append(incident)
    Incident.objects.bulk_update(incidents, ["products", "tactics"])


def summary_sql(incident: str) -> str:
    """PostgreSQL's SET clauses of the products and tactics of the incident row called
    `incident`, from its alerts (with the aliases `sr`, `sa` and `t` inside), for a
    statement that updates the incidents anyway (`membership.core.recount`): each row
    is written once."""
    relation, alert = (connection.ops.quote_name(m._meta.db_table) for m in (Relation, Alert))
    alerts_of = f"{relation} sr JOIN {alert} sa ON sa.id = sr.alert_id"
    return f"""
        products = COALESCE((
            SELECT jsonb_agg(DISTINCT sa.product_name ORDER BY sa.product_name)
            FROM {alerts_of} WHERE sr.incident_id = {incident}.id AND sa.product_name <> ''
        ), '[]'::jsonb),
        tactics = COALESCE((
            SELECT jsonb_agg(DISTINCT t.value ORDER BY t.value)
            FROM {alerts_of}
            CROSS JOIN LATERAL jsonb_array_elements(
                CASE WHEN jsonb_typeof(sa.tactics) = 'array' THEN sa.tactics
                ELSE '[]'::jsonb END
            ) AS t
            WHERE sr.incident_id = {incident}.id AND jsonb_typeof(t.value) = 'string'
        ), '[]'::jsonb)
    """


def _summarize_postgresql(incident_ids: list[int]) -> None:
    table = connection.ops.quote_name(Incident._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS i SET {summary_sql('i')} WHERE i.id = ANY(%s)", [incident_ids]
        )


def set_open(incident_ids: Iterable[int], is_open: bool) -> None:
    """An incident was closed or reopened: flag its rows (its entities are unchanged)."""
    IncidentEntity.objects.filter(incident_id__in=list(incident_ids)).update(open=is_open)


def refresh_for_alerts(alert_ids: Iterable[int]) -> None:
    """Rebuild the rows of every incident of these alerts (their entities changed), under
    the incidents' row locks, as the membership module takes them (by id)."""
    incidents = Relation.objects.filter(alert_id__in=list(alert_ids), alert__isnull=False)
    ids = incidents.values_list("incident_id", flat=True).distinct()
    with transaction.atomic():
        locked = Incident.objects.filter(pk__in=ids).order_by("pk").select_for_update(no_key=True)
        refresh(list(locked.values_list("pk", flat=True)))


def links_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """`m2m_changed` of `Alert.entities`: an alert gained or lost entities through the ORM
    (the admin, a script), so its incidents' rows are rebuilt. Ingestion and the demo
    data insert links in bulk, without the signal, and rebuild the rows themselves."""
    if action == "pre_clear" and reverse:
        # entity.alerts.clear(): which alerts lose it, known only before.
        instance._index_alerts = list(instance.alerts.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove") and pk_set:
        refresh_for_alerts(pk_set if reverse else [instance.pk])
    elif action == "post_clear":
        refresh_for_alerts(instance.__dict__.pop("_index_alerts", []) if reverse else [instance.pk])


def _insert(incident_ids: list[int]) -> None:
    quote = connection.ops.quote_name
    table = quote(IncidentEntity._meta.db_table)
    links = quote(Alert.entities.through._meta.db_table)
    relation = quote(Relation._meta.db_table)
    incident = quote(Incident._meta.db_table)
    placeholders = ", ".join(["%s"] * len(incident_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (incident_id, entity_id, open) "
            f"SELECT DISTINCT r.incident_id, l.entity_id, i.status IN (%s, %s) "
            f"FROM {relation} r JOIN {links} l ON l.alert_id = r.alert_id "
            f"JOIN {incident} i ON i.id = r.incident_id "
            # Both sides named: with the incidents only through the join, PostgreSQL read
            # every incident into a hash (85 ms a batch at a million alerts).
            f"WHERE r.incident_id IN ({placeholders}) AND i.id IN ({placeholders})",
            [*OPEN, *incident_ids, *incident_ids],
        )


def other_open_incidents(entity_ids: Iterable[int] | QuerySet, incident_id: int) -> dict[int, int]:
    """For each entity in another open incident, in how many open incidents other than
    `incident_id` it appears, up to `COUNTED + 1` (1 query, read from the partial index):
    past that many, each entity costs the same however many incidents it is in.
    `entity_ids` may be a subquery (`entities_of`): cheaper than hundreds of parameters."""
    involved = (
        IncidentEntity.objects.filter(entity_id=OuterRef("pk"), open=True)
        .exclude(incident_id=incident_id)
        .values("incident_id")[: COUNTED + 1]
    )
    rows = (
        Entity.objects.filter(
            pk__in=entity_ids if isinstance(entity_ids, QuerySet) else list(entity_ids)
        )
        .annotate(n=_CountOf(involved))
        .values_list("pk", "n")
        .order_by()
    )
    return {pk: n for pk, n in rows if n}


def entities_of(incident_id: int) -> QuerySet:
    """The ids of the incident's entities, as a subquery."""
    return IncidentEntity.objects.filter(incident_id=incident_id).values("entity_id")


def open_count_label(count: int) -> str:
    """How a page shows a count from `other_open_incidents`: "100+" past COUNTED."""
    return f"{COUNTED}+" if count > COUNTED else str(count)


class _CountOf(Subquery):
    """How many rows a (sliced) queryset has: a bounded COUNT(*)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()
