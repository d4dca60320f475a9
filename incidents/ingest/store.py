"""Upsert a batch of checked rows: alerts, entities and their links, then place new alerts.

`SystemAlertId` is the key. A new alert is saved and gets its first incident through
`placement`; an alert seen before is updated with what may change (status, end time,
extended properties, new entities) and stays where it is, so a row ingested twice changes
nothing the second time. A batch is one transaction and a constant number of queries.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from incidents import alert_days, bulk, entity_index
from incidents.activity import Actor
from incidents.ingest.entities import EntityError, EntityRecord, parse_entities
from incidents.ingest.placement import place_new_alerts
from incidents.ingest.rows import AlertRow, RowError, parse_row
from incidents.membership import Correlated, refresh_activity_times
from incidents.models import Alert, Entity, EntityIdentifier, Incident, Relation, Workspace

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
ATTEMPTS = 3
# pg_advisory_xact_lock's first key: "ingest" batches of one workspace run one at a time.
INGEST_LOCK_CLASS = 0x74726167
IDENTIFIER_LENGTH = Entity._meta.get_field("identifier").max_length
DISPLAY_LENGTH = Entity._meta.get_field("display_name").max_length


@dataclass(slots=True)
class Prepared:
    """A row that passed every check, with its entities resolved."""

    row: AlertRow
    entities: list[EntityRecord]


def prepare(data: dict) -> Prepared:
    """Check one raw row; `RowError` says why it is refused."""
    row = parse_row(data)
    try:
        entities = parse_entities(row.entities)
    except EntityError as error:
        raise RowError(str(error)) from None
    return Prepared(row, entities)


@dataclass(slots=True)
class RowResult:
    system_alert_id: uuid.UUID
    status: str
    # The numbers of the incidents the alert is in, and how it got there.
    incidents: list[int] = field(default_factory=list)
    how: str = ""


@dataclass
class BatchResult:
    rows: list[RowResult]
    # Rows refused by what only the database knows (an id of another workspace), by index.
    rejected: dict[int, str] = field(default_factory=dict)
    incidents_created: int = 0
    correlated_existing: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


@dataclass(slots=True)
class _Seen:
    """One alert of the batch and what the batch does to it."""

    alert: Alert
    new: bool
    provider_incident_id: str
    entities: list[EntityRecord] = field(default_factory=list)
    end_time_moved: bool = False


def ingest_batch(workspace: Workspace, batch: Sequence[Prepared], *, actor: Actor) -> BatchResult:
    """Store `batch` in one transaction; each row's result is in the rows' order.

    A batch that lost a race (a deadlock, or an alert id another workspace took meanwhile)
    changed nothing, and is tried again from the start.
    """
    attempt = 1
    while True:
        try:
            return _ingest_once(workspace, batch, actor=actor)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS:
                raise
            attempt += 1


def _ingest_once(workspace: Workspace, batch: Sequence[Prepared], *, actor: Actor) -> BatchResult:
    now = timezone.now()
    with transaction.atomic():
        _lock_ingestion(workspace)
        ids = {p.row.system_alert_id for p in batch}
        known = {a.system_alert_id: a for a in bulk.matching(Alert.objects, "system_alert_id", ids)}
        seen: dict[uuid.UUID, _Seen] = {}
        statuses: list[str | None] = []
        rejected: dict[int, str] = {}
        for index, prepared in enumerate(batch):
            row = prepared.row
            state = seen.get(row.system_alert_id)
            if state is None:
                alert = known.get(row.system_alert_id)
                if alert is not None and alert.workspace_id != workspace.pk:
                    rejected[index] = (
                        f"SystemAlertId {row.system_alert_id} already belongs to an alert of "
                        "another workspace."
                    )
                    statuses.append(None)
                    continue
                if alert is None:
                    state = _Seen(_new_alert(workspace, row, now), True, row.provider_incident_id)
                    statuses.append(CREATED)
                else:
                    state = _Seen(alert, False, "")
                    statuses.append(UPDATED if _update(state, row, now) else UNCHANGED)
                seen[row.system_alert_id] = state
            else:
                statuses.append(UPDATED if _update(state, row, now) else UNCHANGED)
            state.entities.extend(prepared.entities)

        new = [s for s in seen.values() if s.new]
        bulk.insert([s.alert for s in new])
        alert_days.add(alerts=[(workspace.pk, s.alert.time_generated) for s in new])
        changed = [s.alert for s in seen.values() if not s.new and s.alert.updated == now]
        linked = _link_entities(workspace, list(seen.values()))
        # An alert seen before that gained an entity was updated too.
        for index, prepared in enumerate(batch):
            if statuses[index] == UNCHANGED and prepared.row.system_alert_id in linked:
                statuses[index] = UPDATED
        relinked = []
        for state in seen.values():
            if not state.new and state.alert.system_alert_id in linked:
                state.alert.updated = now
                relinked.append(state.alert.pk)
                if state.alert not in changed:
                    changed.append(state.alert)
        if relinked:
            # Their incidents gained entities.
            entity_index.refresh_for_alerts(relinked)
        if changed:
            bulk.update(
                sorted(changed, key=lambda a: a.pk),
                [
                    "status",
                    "end_time",
                    "extended_properties",
                    "source_fields",
                    "updated",
                    "row_generated",
                ],
            )
        moved = [s.alert.pk for s in seen.values() if s.end_time_moved]
        if moved:
            refresh_activity_times(
                set(
                    Relation.objects.filter(alert_id__in=moved).values_list(
                        "incident_id", flat=True
                    )
                )
            )
        correlated = place_new_alerts(
            workspace, [(s.alert, s.provider_incident_id) for s in new], actor=actor
        )
        results = _results(batch, statuses, seen, correlated)
    return BatchResult(
        rows=results,
        rejected=rejected,
        incidents_created=len(correlated.created),
        correlated_existing=correlated.joined_existing,
    )


def _lock_ingestion(workspace: Workspace) -> None:
    """Batches of one workspace run one at a time, so two processes ingesting overlapping
    files cannot both create an alert, an entity or a provider's incident. Analysts never
    take this lock, so it comes before the membership module's order (alerts, incidents,
    number counter). SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [INGEST_LOCK_CLASS, workspace.pk]
            )


def _new_alert(workspace: Workspace, row: AlertRow, now: dt.datetime) -> Alert:
    alert = bulk.build(
        Alert,
        {
            "workspace_id": workspace.pk,
            "system_alert_id": row.system_alert_id,
            "display_name": row.display_name,
            "alert_type": row.alert_type,
            "severity": row.severity,
            "status": row.status,
            "product_name": row.product_name,
            "provider_name": row.provider_name,
            "vendor_name": row.vendor_name,
            "provider_alert_id": row.provider_alert_id,
            "start_time": row.start_time,
            "end_time": row.end_time,
            "time_generated": row.time_generated or row.start_time or row.end_time or now,
            "tactics": row.tactics,
            "techniques": row.techniques,
            "description": row.description,
            "remediation_steps": row.remediation_steps,
            "extended_properties": row.extended_properties,
            "source_fields": row.source_fields,
            "created": now,
            "row_generated": row.time_generated,
        },
    )
    Alert.workspace.field.set_cached_value(alert, workspace)
    return alert


def _update(state: _Seen, row: AlertRow, now: dt.datetime) -> bool:
    """Apply what a re-sent row may change; True when something did. A row older than one
    already applied (files read out of order) changes nothing but the entities."""
    alert, changed = state.alert, False
    newest = alert.row_generated
    if row.time_generated and newest and row.time_generated < newest:
        return False
    if row.time_generated:
        alert.row_generated = row.time_generated
    if row.status != alert.status:
        alert.status, changed = row.status, True
    if row.end_time and (alert.end_time is None or row.end_time > alert.end_time):
        alert.end_time, changed = row.end_time, True
        state.end_time_moved = not state.new
    for name in ("extended_properties", "source_fields"):
        old, new = getattr(alert, name), getattr(row, name)
        if any(old.get(key) != value for key, value in new.items()):
            setattr(alert, name, {**old, **new})
            changed = True
    if changed and not state.new:
        alert.updated = now
    return changed


def _link_entities(workspace: Workspace, states: list[_Seen]) -> set[uuid.UUID]:
    """Find or create each entity of the batch and link it to its alerts; return the ids of
    alerts seen before that gained an entity."""
    groups = _EntityGroups()
    per_alert: list[tuple[_Seen, list[int]]] = []
    for state in states:
        per_alert.append((state, [groups.add(record) for record in state.entities]))
    if not groups.records:
        return set()
    entity_of = groups.resolve(workspace)

    Link = Alert.entities.through
    old = [s.alert.pk for s in states if not s.new]
    existing = set(
        Link.objects.filter(alert_id__in=old).values_list("alert_id", "entity_id") if old else ()
    )
    links: list[tuple[int, int]] = []
    counted: list[tuple[int, int, dt.datetime]] = []
    gained = set()
    for state, group_ids in per_alert:
        for entity_id in dict.fromkeys(entity_of[groups.find(g)] for g in group_ids):
            if (state.alert.pk, entity_id) in existing:
                continue
            existing.add((state.alert.pk, entity_id))
            links.append((state.alert.pk, entity_id))
            counted.append((entity_id, workspace.pk, state.alert.time_generated))
            if not state.new:
                gained.add(state.alert.system_alert_id)
    bulk.insert_pairs(Link, ("alert", "entity"), links)
    alert_days.add(links=counted)
    return gained


class _EntityGroups:
    """The batch's entity records, merged where their keys meet (a union-find on keys)."""

    def __init__(self):
        self.records: list[EntityRecord] = []
        self.parent: list[int] = []
        self.by_key: dict[tuple[str, str], int] = {}

    def find(self, group: int) -> int:
        while self.parent[group] != group:
            self.parent[group] = self.parent[self.parent[group]]
            group = self.parent[group]
        return group

    def add(self, record: EntityRecord) -> int:
        group = len(self.records)
        self.records.append(record)
        self.parent.append(group)
        for key in record.keys:
            other = self.by_key.setdefault((record.kind, key), group)
            if other != group:
                root = self.find(other)
                if root != group:
                    self.parent[group] = root
                    group = root
        return len(self.records) - 1

    def roots(self) -> dict[int, list[EntityRecord]]:
        members: dict[int, list[EntityRecord]] = {}
        for index, record in enumerate(self.records):
            members.setdefault(self.find(index), []).append(record)
        return members

    def resolve(self, workspace: Workspace) -> dict[int, int]:
        """Group root → entity id: the entity that already holds one of its keys (the first
        one found in key order), else a new entity. Keys new to the workspace join it."""
        roots = self.roots()
        keys_of = {root: _ordered_keys(records) for root, records in roots.items()}
        all_keys = {key for keys in keys_of.values() for _, key in keys}
        owner = {
            (kind, key): entity_id
            for kind, key, entity_id in bulk.matching(
                EntityIdentifier.objects.filter(workspace=workspace), "key", all_keys
            ).values_list("kind", "key", "entity_id")
        }
        entity_of: dict[int, int] = {}
        unknown: dict[int, Entity] = {}
        for root, keys in keys_of.items():
            match = next((owner[k] for k in keys if k in owner), None)
            if match is not None:
                entity_of[root] = match
            else:
                unknown[root] = _new_entity(workspace, roots[root])
        if unknown:
            # An entity made elsewhere (the admin site) under the same identifier is that one.
            adopted = {
                (kind, identifier): pk
                for kind, identifier, pk in bulk.matching(
                    Entity.objects.filter(workspace=workspace),
                    "identifier",
                    {e.identifier for e in unknown.values()},
                ).values_list("kind", "identifier", "pk")
            }
            fresh = []
            for entity in unknown.values():
                pk = adopted.get((entity.kind, entity.identifier))
                if pk is None:
                    fresh.append(entity)
                else:
                    entity.pk = pk
            bulk.insert(fresh)
            entity_of.update((root, entity.pk) for root, entity in unknown.items())
        identifiers = []
        for root, keys in keys_of.items():
            strong = roots[root][0].strong
            for kind, key in keys:
                if (kind, key) not in owner:
                    owner[(kind, key)] = entity_of[root]
                    identifiers.append((workspace.pk, entity_of[root], kind, key, strong))
        bulk.insert_rows(
            EntityIdentifier, ("workspace", "entity", "kind", "key", "strong"), identifiers
        )
        return entity_of


def _ordered_keys(records: list[EntityRecord]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r.kind, key) for r in records for key in r.keys))


def _new_entity(workspace: Workspace, records: list[EntityRecord]) -> Entity:
    first = records[0]
    properties: dict = {}
    for record in records:
        properties.update(record.properties)
    display_name = next((r.display_name for r in records if r.display_name), "")
    return bulk.build(
        Entity,
        {
            "workspace_id": workspace.pk,
            "kind": first.kind,
            "identifier": first.identifier[:IDENTIFIER_LENGTH],
            "display_name": display_name[:DISPLAY_LENGTH],
            "properties": properties,
        },
    )


def _results(
    batch: Sequence[Prepared],
    statuses: list[str | None],
    seen: dict[uuid.UUID, _Seen],
    correlated: Correlated,
) -> list[RowResult]:
    created = {incident.pk for incident in correlated.created}
    old = [s.alert.pk for s in seen.values() if not s.new]
    numbers: dict[int, list[int]] = {}
    if old:
        for alert_id, number in (
            Relation.objects.filter(alert_id__in=old)
            .order_by("incident__number")
            .values_list("alert_id", "incident__number")
        ):
            numbers.setdefault(alert_id, []).append(number)
    results = []
    for prepared, status in zip(batch, statuses, strict=True):
        if status is None:
            continue
        state = seen[prepared.row.system_alert_id]
        if state.new:
            incident = correlated.incidents[state.alert.pk]
            how = _how(incident, incident.pk in created)
            results.append(RowResult(state.alert.system_alert_id, status, [incident.number], how))
        else:
            results.append(
                RowResult(
                    state.alert.system_alert_id,
                    status,
                    numbers.get(state.alert.pk, []),
                    "already placed; its incidents are left as they are",
                )
            )
    return results


def _how(incident: Incident, created: bool) -> str:
    where = "a new incident" if created else f"incident #{incident.number}"
    if incident.provider_incident_id:
        return (
            f"correlated into {where}: {incident.provider_name} incident "
            f"{incident.provider_incident_id}"
        )
    return f"correlated into {where}"
