"""New incidents for new alerts: by hand, from imports, from ingestion and the rules."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from incidents import activity, bulk, entity_index
from incidents.actions import reopen_locked
from incidents.activity import Actor
from incidents.errors import (
    AlertAlreadyInIncident,
    IncidentFull,
)
from incidents.membership.core import (
    check_can_join,
    check_room,
    highest_severity,
    incident_title_for,
    lock_alerts,
    lock_incidents,
    max_alerts,
    recount,
    relate,
)
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    Incident,
    Relation,
    RelationReason,
    Workspace,
)
from incidents.numbering import allocate_incident_numbers


def create_incident(
    workspace: Workspace,
    alerts: Sequence[Alert] = (),
    *,
    actor: Actor,
    reason: str = RelationReason.INGESTION,
    **fields,
) -> Incident:
    """A new incident holding `alerts` (which also stay in any incident they are in).

    Ingestion and automation use it to give each new alert its first incident; analysts
    use it to open an incident by hand. `fields` are the incident's own (title, …); a
    missing title is made from the alerts' names.
    """
    with transaction.atomic():
        locked_alerts = lock_alerts(alerts) if alerts else []
        (number,) = allocate_incident_numbers(workspace)
        if "title" not in fields:
            fields["title"] = incident_title_for(locked_alerts) if alerts else "Untitled incident"
        if "severity" not in fields and locked_alerts:
            fields["severity"] = highest_severity(locked_alerts)
        incident = Incident.objects.create(workspace=workspace, number=number, **fields)
        check_can_join(locked_alerts, incident, reason=reason)
        check_room(incident, len(locked_alerts))
        activity.record(
            incident,
            actor,
            ActivityKind.CREATED,
            f"{actor.label} created the incident.",
            details={"alerts": [str(a.system_alert_id) for a in locked_alerts]},
        )
        if locked_alerts:
            relate(incident, locked_alerts, actor=actor, reason=reason)
            activity.write(
                activity.entry(
                    incident,
                    actor,
                    ActivityKind.ALERT_CORRELATED,
                    f"Alert “{alert.display_name}” was correlated with this incident by "
                    f"{actor.label}.",
                    details={"alert": str(alert.system_alert_id), "alert_name": alert.display_name},
                )
                for alert in locked_alerts
            )
            recount([incident])
    return incident


def import_incidents(
    workspace: Workspace,
    batch: Sequence[tuple[Incident, Sequence[Alert]]],
    *,
    actor: Actor,
    batch_size: int = 2000,
) -> list[Incident]:
    """The bulk path for brand-new data (demo data, imports): save incidents with their alerts.

    `batch` pairs unsaved incidents with saved alerts of `workspace`; an alert may appear
    in several pairs. The rules are checked for the whole batch before anything is
    written, so nothing is saved when one fails. Each incident gets its number, counts
    and activity times, and each relation its "correlated" activity entry, timed at the
    alert's generation time.
    """
    limit = max_alerts()
    for incident, alerts in batch:
        if incident.pk is not None:
            raise ValueError("import_incidents saves new incidents only.")
        if len(alerts) > limit:
            raise IncidentFull(incident, len(alerts), limit)
        seen: set[int] = set()
        for alert in alerts:
            if alert.pk in seen:
                raise AlertAlreadyInIncident(alert, incident)
            seen.add(alert.pk)
        incident.workspace = workspace
        check_can_join(alerts, incident, reason=RelationReason.INGESTION)
    with transaction.atomic():
        numbers = allocate_incident_numbers(workspace, len(batch)) if batch else range(0)
        for number, (incident, alerts) in zip(numbers, batch, strict=True):
            incident.number = number
            incident.alert_count = len(alerts)
            incident.products, incident.tactics = entity_index.summary_of(alerts)
            if alerts:
                incident.first_activity_time = min(a.start_time or a.time_generated for a in alerts)
                incident.last_activity_time = max(a.end_time or a.time_generated for a in alerts)
        incidents = Incident.objects.bulk_create([i for i, _ in batch], batch_size=batch_size)
        Relation.objects.bulk_create(
            (
                Relation(
                    incident=incident,
                    alert=alert,
                    # Derived, so the same import names its relations the same way.
                    name=str(uuid.uuid5(incident.uuid, str(alert.system_alert_id))),
                    reason=RelationReason.INGESTION,
                    created_by=actor.user,
                    created_by_name="" if actor.user else actor.name,
                    created=alert.time_generated,
                )
                for incident, alerts in batch
                for alert in alerts
            ),
            batch_size=batch_size,
        )
        entity_index.refresh([incident.pk for incident in incidents], new=True)
        entries = []
        for incident, alerts in batch:
            created = activity.entry(
                incident, actor, ActivityKind.CREATED, f"{actor.label} created the incident."
            )
            created.created = incident.created
            entries.append(created)
            for alert in alerts:
                correlated = activity.entry(
                    incident,
                    actor,
                    ActivityKind.ALERT_CORRELATED,
                    f"Alert “{alert.display_name}” was correlated with this incident by "
                    f"{actor.label}.",
                    details={"alert": str(alert.system_alert_id), "alert_name": alert.display_name},
                )
                correlated.created = alert.time_generated
                entries.append(correlated)
        ActivityEntry.objects.bulk_create(entries, batch_size=batch_size)
    return incidents


@dataclass
class Placement:
    """Where new alerts go: into `incident`, or into a new incident made of `new_fields`."""

    alerts: list[Alert]
    incident: Incident | None = None
    # The new incident's own fields (title, provider_name, …); a missing title or severity
    # comes from the alerts.
    new_fields: dict = field(default_factory=dict)
    # Why, kept on each relation and activity entry: {"provider_incident_id": "384"}, a rule…
    details: dict = field(default_factory=dict)
    # The same in words, ending the activity entry: "Microsoft Defender XDR incident 384."
    because: str = ""
    # Who correlated, when not the actor: "rule “Same host (24 h)”".
    by: str = ""
    # Per alert (by id), its own (details, because): what a rule matched for that alert.
    explain: dict[int, tuple[dict, str]] = field(default_factory=dict)
    # Reopen `incident` when it is closed (a rule that re-opens closed matches).
    reopen: bool = False


@dataclass
class Correlated:
    """Where `correlate_new_alerts` put the alerts."""

    # Alert id → its incident.
    incidents: dict[int, Incident] = field(default_factory=dict)
    created: list[Incident] = field(default_factory=list)
    # Alerts that joined an incident that existed before.
    joined_existing: int = 0
    # Closed incidents reopened for the alerts that joined them.
    reopened: list[Incident] = field(default_factory=list)


def correlate_new_alerts(
    workspace: Workspace,
    placements: Sequence[Placement],
    *,
    actor: Actor,
    reason: str = RelationReason.INGESTION,
) -> Correlated:
    """Give new alerts their first incident, in bulk: the path of ingestion and the rules.

    The alerts are new in the caller's transaction, so no one else can hold them: only the
    existing destinations are locked (by id), then the number counter. A destination
    without room for all its alerts is continued: the rest go into a new incident with its
    title, severity and provider, which `continues` it, and both logs say so (Sentinel
    does this silently). A constant number of queries, whatever the number of alerts.
    """
    result = Correlated()
    if not placements:
        return result
    limit = max_alerts()
    with transaction.atomic():
        existing = {p.incident.pk for p in placements if p.incident is not None}
        locked = lock_incidents(existing) if existing else {}
        room = {pk: limit - incident.alert_count for pk, incident in locked.items()}
        joins: list[tuple[Incident, list[Alert], Placement]] = []
        # (new incident, its alerts, why, the incident it continues)
        opens: list[tuple[Incident, list[Alert], Placement, Incident | None]] = []
        for placement in placements:
            alerts, previous = list(placement.alerts), None
            fields = dict(placement.new_fields)
            if placement.incident is not None:
                previous = target = locked[placement.incident.pk]
                check_can_join(alerts, target, reason=reason)
                fit = max(room[target.pk], 0)
                if fit and alerts:
                    joins.append((target, alerts[:fit], placement))
                    room[target.pk] -= len(alerts[:fit])
                alerts = alerts[fit:]
                fields = {f: getattr(target, f) for f in CONTINUED_FIELDS}
            while alerts:
                chunk, alerts = alerts[:limit], alerts[limit:]
                incident = bulk.build(
                    Incident,
                    {
                        "workspace_id": workspace.pk,
                        "title": incident_title_for(chunk),
                        "severity": highest_severity(chunk),
                        **fields,
                    },
                )
                Incident.workspace.field.set_cached_value(incident, workspace)
                check_can_join(chunk, incident, reason=reason)
                opens.append((incident, chunk, placement, previous))
                previous = incident

        numbers = allocate_incident_numbers(workspace, len(opens)) if opens else range(0)
        for number, (incident, chunk, _, _) in zip(numbers, opens, strict=True):
            incident.number = number
            incident.alert_count = len(chunk)
            incident.products, incident.tactics = entity_index.summary_of(chunk)
            incident.first_activity_time = min(a.start_time or a.time_generated for a in chunk)
            incident.last_activity_time = max(a.end_time or a.time_generated for a in chunk)
        bulk.insert([incident for incident, _, _, _ in opens])
        continued = []
        for incident, _, _, previous in opens:
            if previous is not None:
                incident.continues = previous
                continued.append(incident)
        if continued:
            Incident.objects.bulk_update(continued, ["continues"])

        # Rows of values, not model objects: thousands a batch, and nobody needs them back.
        now = timezone.now()
        relations, entries = [], []
        created_by = actor.user.pk if actor.user else None
        created_by_name = "" if actor.user else actor.name
        for incident, _, _, previous in opens:
            entries.append(_created_entry(incident, previous, actor=actor, limit=limit))
            if previous is not None:
                entries.append(
                    activity.entry_row(
                        previous,
                        actor,
                        ActivityKind.CONTINUED,
                        f"Incident #{incident.number} continues this incident, which holds the "
                        f"maximum of {limit} alerts: new alerts that belong here go there.",
                        details={"continued_by": incident.number},
                        created=now,
                    )
                )
        reopened = _reopen(placements, locked, actor)
        for incident, alerts, placement in joins + [(i, a, p) for i, a, p, _ in opens]:
            for alert in alerts:
                system_alert_id = str(alert.system_alert_id)
                details, because = placement.explain.get(
                    alert.pk, (placement.details, placement.because)
                )
                relations.append(
                    (
                        incident.pk,
                        alert.pk,
                        # Derived, so the same alert in the same incident is named alike.
                        str(uuid.uuid5(incident.uuid, system_alert_id)),
                        reason,
                        created_by,
                        created_by_name,
                        details,
                        now,
                    )
                )
                message = (
                    f"Alert “{alert.display_name}” was correlated with this incident by "
                    f"{placement.by or actor.label}"
                )
                if placement.by and because:
                    message += f": {because}."
                elif because:
                    message += f". {because}"
                else:
                    message += "."
                entries.append(
                    activity.entry_row(
                        incident,
                        actor,
                        ActivityKind.ALERT_CORRELATED,
                        message,
                        details={
                            "alert": system_alert_id,
                            "alert_name": alert.display_name,
                            **details,
                        },
                        created=now,
                    )
                )
                result.incidents[alert.pk] = incident
        bulk.insert_rows(Relation, _RELATION_COLUMNS, relations)
        entity_index.refresh([incident.pk for incident, _, _, _ in opens], new=True)
        activity.write_rows(entries)
        if joins:
            recount({incident.pk: incident for incident, _, _ in joins}.values())
    result.created = [incident for incident, _, _, _ in opens]
    result.reopened = reopened
    result.joined_existing = sum(len(alerts) for _, alerts, _ in joins)
    return result


# What a continuing incident takes from the full one it continues.
CONTINUED_FIELDS = (
    "title",
    "severity",
    "provider_name",
    "provider_incident_id",
    "correlation_rule_id",
    "group_key",
)


def _reopen(
    placements: Sequence[Placement], locked: dict[int, Incident], actor: Actor
) -> list[Incident]:
    """Reopen the closed incidents that placements asked to (a rule's "re-open closed")."""
    reopened = []
    for placement in placements:
        incident = locked.get(placement.incident.pk) if placement.incident else None
        if placement.reopen and incident is not None and incident.is_closed:
            reopen_locked(
                incident,
                actor=actor,
                message=f"{placement.by or actor.label} reopened the incident: a new alert "
                "matches it.",
            )
            reopened.append(incident)
    return reopened


# The values of each relation `correlate_new_alerts` writes, in order.
_RELATION_COLUMNS = (
    "incident",
    "alert",
    "name",
    "reason",
    "created_by",
    "created_by_name",
    "details",
    "created",
)


def _created_entry(
    incident: Incident, previous: Incident | None, *, actor: Actor, limit: int
) -> tuple:
    """The new incident's "created" entry, as a row of `activity.entry_row`."""
    if previous is None:
        return activity.entry_row(
            incident,
            actor,
            ActivityKind.CREATED,
            f"{actor.label} created the incident.",
            created=incident.created,
        )
    return activity.entry_row(
        incident,
        actor,
        ActivityKind.CREATED,
        f"{actor.label} created the incident to continue #{previous.number}, which holds the "
        f"maximum of {limit} alerts.",
        details={"continues": previous.number},
        created=incident.created,
    )


def refresh_activity_times(incident_ids: Iterable[int]) -> None:
    """Recompute the activity times of incidents whose alerts changed (a re-sent alert)."""
    with transaction.atomic():
        locked = lock_incidents(incident_ids)
        if locked:
            recount(locked.values())
