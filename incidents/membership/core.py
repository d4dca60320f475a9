"""What every membership change shares: locking in the global order, the rule checks,
relating, recounting, closing an emptied incident."""

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents import activity, entity_index
from incidents.actions import close_locked
from incidents.activity import Actor
from incidents.errors import (
    DifferentWorkspace,
    IncidentFull,
    IncidentNotFound,
    ProviderManagedAdd,
    ResourceNotFound,
)
from incidents.models import (
    SEVERITY_ORDER,
    ActivityKind,
    Alert,
    Classification,
    Incident,
    IncidentStatus,
    Relation,
    RelationReason,
    Workspace,
)
from incidents.numbering import allocate_incident_numbers

OtherIncident = Literal["keep", "close"]

CLOSED_BY_MOVE_COMMENT = "Alert was added to another incident"
TITLE_LENGTH = Incident._meta.get_field("title").max_length


def max_alerts() -> int:
    return settings.TRIAGE_MAX_ALERTS_PER_INCIDENT


def is_provider_managed(alert: Alert, incident: Incident) -> bool:
    """True when the incident's provider correlates the alert's provider or product itself."""
    sources = settings.TRIAGE_SELF_CORRELATING_PROVIDERS.get(incident.provider_name)
    if sources is None:
        return False
    names = {alert.provider_name.casefold(), alert.product_name.casefold()}
    return any(source.casefold() in names for source in (incident.provider_name, *sources))


def incident_title_for(alerts: Sequence[Alert]) -> str:
    """The automatic title of an incident made from `alerts` (see `incidents.membership`)."""
    ordered = sorted(alerts, key=lambda a: (a.start_time or a.time_generated, a.pk or 0))
    names = list(dict.fromkeys(a.display_name.strip() or "Untitled alert" for a in ordered))
    if len(names) == 1:
        title = names[0] if len(ordered) == 1 else f"{names[0]} ({len(ordered)} alerts)"
    elif len(names) == 2:
        title = f"{names[0]} and {names[1]}"
    else:
        title = f"{names[0]}, {names[1]} and {len(names) - 2} more"
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    return title


def highest_severity(alerts: Iterable[Alert]) -> str:
    return min((a.severity for a in alerts), key=SEVERITY_ORDER.index)


def lock_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    ids = sorted({a.pk for a in alerts})
    locked = list(Alert.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk"))
    if len(locked) != len(ids):
        found = {a.pk for a in locked}
        gone = next(a for a in alerts if a.pk not in found)
        raise ResourceNotFound(gone.system_alert_id)
    return locked


def lock_incidents(ids: Iterable[int]) -> dict[int, Incident]:
    wanted = sorted(set(ids))
    # FOR NO KEY UPDATE, as PostgreSQL's own UPDATE takes: changes still wait for each
    # other, but not the foreign-key checks run at COMMIT. An incident updated twice in
    # one transaction has its keys (`merged_into`, `continues`) checked again there, and
    # under FOR UPDATE that check waited for whoever held the referenced incident, while
    # that one waited for ours: a deadlock.
    rows = Incident.objects.select_for_update(no_key=True).filter(pk__in=wanted).order_by("pk")
    locked = {incident.pk: incident for incident in rows}
    if len(locked) != len(wanted):
        raise IncidentNotFound()
    return locked


def memberships_of(alert_ids: Iterable[int]) -> dict[int, set[int]]:
    """Alert id → the ids of the incidents it belongs to."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = Relation.objects.filter(alert_id__in=list(alert_ids)).values_list(
        "alert_id", "incident_id"
    )
    for alert_id, incident_id in rows:
        found[alert_id].add(incident_id)
    return found


def recount(incidents: Iterable[Incident]) -> None:
    """Recompute alert counts and activity times of locked incidents from their relations,
    and the incidents' entities (`entity_index`).

    One UPDATE whatever the number of incidents (the database aggregates each one's
    relations) that on PostgreSQL also returns the values written, for the objects.
    """
    by_id = {i.pk: i for i in incidents}
    if not by_id:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        rows = _recount_postgresql(list(by_id), now)
        entity_index.refresh(by_id, summarized=True)
    else:
        rows = _recount(list(by_id), now)
        entity_index.refresh(by_id)
    for pk, count, first, last in rows:
        incident = by_id[pk]
        incident.alert_count, incident.modified = count, now
        incident.first_activity_time, incident.last_activity_time = first, last


def _recount(ids: list[int], now: dt.datetime) -> Iterable[tuple]:
    related = Relation.objects.filter(incident=OuterRef("pk"), alert__isnull=False).order_by()

    def per_incident(aggregate):
        return Subquery(related.values("incident").annotate(v=aggregate).values("v"))

    rows = Incident.objects.filter(pk__in=ids)
    rows.update(
        alert_count=Coalesce(per_incident(Count("id")), 0),
        # An emptied incident keeps the activity times it had.
        first_activity_time=Coalesce(
            per_incident(Min(Coalesce("alert__start_time", "alert__time_generated"))),
            F("first_activity_time"),
        ),
        last_activity_time=Coalesce(
            per_incident(Max(Coalesce("alert__end_time", "alert__time_generated"))),
            F("last_activity_time"),
        ),
        modified=now,
    )
    return rows.values_list("pk", "alert_count", "first_activity_time", "last_activity_time")


def _recount_postgresql(ids: list[int], now: dt.datetime) -> list[tuple]:
    """`_recount` in one statement that reads each incident's relations once (not once per
    value) and returns what it wrote; it sets the products and tactics too
    (`entity_index.summary_sql`), so each incident is written once."""
    incident, relation, alert = (
        connection.ops.quote_name(m._meta.db_table) for m in (Incident, Relation, Alert)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {incident} AS i
            SET alert_count = a.n,
                first_activity_time = COALESCE(a.first, i.first_activity_time),
                last_activity_time = COALESCE(a.last, i.last_activity_time),
                modified = %s,
                {entity_index.summary_sql("i")}
            FROM (
                SELECT x.id, COUNT(al.id) AS n,
                    MIN(COALESCE(al.start_time, al.time_generated)) AS first,
                    MAX(COALESCE(al.end_time, al.time_generated)) AS last
                FROM unnest(%s::bigint[]) AS x(id)
                LEFT JOIN {relation} AS r ON r.incident_id = x.id
                LEFT JOIN {alert} AS al ON al.id = r.alert_id
                GROUP BY x.id
            ) AS a
            WHERE i.id = a.id
            RETURNING i.id, i.alert_count, i.first_activity_time, i.last_activity_time
            """,
            [now, ids],
        )
        return cursor.fetchall()


def check_can_join(alerts: Sequence[Alert], incident: Incident, *, reason: str) -> None:
    for alert in alerts:
        if alert.workspace_id != incident.workspace_id:
            raise DifferentWorkspace(alert, incident)
    if reason != RelationReason.INGESTION:
        for alert in alerts:
            if is_provider_managed(alert, incident):
                raise ProviderManagedAdd(alert, incident)


def check_room(incident: Incident, adding: int) -> None:
    limit = max_alerts()
    if adding and incident.alert_count + adding > limit:
        raise IncidentFull(incident, adding, limit)


def relate(
    incident: Incident,
    alerts: Sequence[Alert],
    *,
    actor: Actor,
    reason: str,
    details: dict | None = None,
    names: Sequence[str] | None = None,
) -> list[Relation]:
    return Relation.objects.bulk_create(
        Relation(
            incident=incident,
            alert=alert,
            name=names[i] if names else str(uuid.uuid4()),
            reason=reason,
            created_by=actor.user,
            created_by_name="" if actor.user else actor.name,
            details=details or {},
        )
        for i, alert in enumerate(alerts)
    )


def numbers(incidents: Iterable[Incident]) -> str:
    return ", ".join(f"#{i.number}" for i in sorted(incidents, key=lambda i: i.number))


def close_sole_alert_incidents(
    incidents: Iterable[Incident],
    destination: Incident,
    *,
    actor: Actor,
    details: dict | None = None,
) -> list[Incident]:
    closed = []
    for incident in sorted(incidents, key=lambda i: i.pk):
        if incident.is_closed:
            continue
        close_locked(
            incident,
            classification=Classification.UNDETERMINED,
            reason="",
            comment=f"{CLOSED_BY_MOVE_COMMENT} #{destination.number}.",
            actor=actor,
            details=details,
        )
        closed.append(incident)
    return closed


def new_incident(
    workspace: Workspace, alerts: Sequence[Alert], *, actor: Actor, details: dict | None = None
) -> Incident:
    (number,) = allocate_incident_numbers(workspace)
    incident = Incident.objects.create(
        workspace=workspace,
        number=number,
        title=incident_title_for(alerts),
        severity=highest_severity(alerts),
        status=IncidentStatus.NEW,
    )
    activity.record(
        incident,
        actor,
        ActivityKind.CREATED,
        f"{actor.label} created the incident from {len(alerts)} "
        f"alert{'s' if len(alerts) != 1 else ''}.",
        details={"alerts": [str(a.system_alert_id) for a in alerts], **(details or {})},
    )
    return incident


def sync(incident: Incident, locked: Incident) -> None:
    """Show the caller's incident object the values written under the lock."""
    for f in Incident._meta.concrete_fields:
        # setattr, not __dict__: a changed foreign key must drop its cached object (owner).
        setattr(incident, f.attname, getattr(locked, f.attname))
