"""Every change of alert membership: which alerts (and bookmarks) belong to which incident.

The web views, the API, the admin and automation rules call these functions and never
write a `Relation` themselves, so the rules of DESIGN.md hold at every call:

1. an incident holds at most `TRIAGE_MAX_ALERTS_PER_INCIDENT` alerts;
2. an alert only joins incidents of its own workspace;
3. an alert is related to an incident at most once;
4. every alert keeps at least one incident;
5. alerts of a self-correlating provider (`TRIAGE_SELF_CORRELATING_PROVIDERS`: Defender
   XDR and its products) are neither added to nor removed from that provider's incidents;
6. every incident touched gets its activity entries in the same transaction;
7. each operation is atomic, and locks rows in one global order — alerts by id, then
   incidents by id, then the workspace's number counter — so concurrent requests queue
   instead of deadlocking, and none can pass the cap or strand an alert.

Naming rule for an incident created from alerts (`move_alerts(destination=None)`): the
alerts' distinct display names in order of first appearance (earliest alert first).
One name gives "<name>", or "<name> (N alerts)" when several alerts share it; two give
"<A> and <B>"; more give "<A>, <B> and K more". Titles are cut to 256 characters.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents import activity, bulk
from incidents.actions import check_comment, close_locked
from incidents.activity import Actor
from incidents.errors import (
    AlertAlreadyInIncident,
    AlertNotInIncident,
    BookmarkAlreadyInIncident,
    DifferentWorkspace,
    IncidentFull,
    IncidentNotFound,
    LastIncident,
    MembershipError,
    NothingToMove,
    ProviderManagedAdd,
    ProviderManagedRemove,
    RelationNameTaken,
    RelationTypeConflict,
    ResourceNotFound,
)
from incidents.models import (
    SEVERITY_ORDER,
    ActivityEntry,
    ActivityKind,
    Alert,
    Bookmark,
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
    """The automatic title of an incident made from `alerts` (see the module's docstring)."""
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


# --- results ---------------------------------------------------------------


@dataclass
class AddResult:
    incident: Incident
    added: list[Alert]
    # The other incidents each added alert was already in (it stays there too).
    also_in: dict[int, list[Incident]] = field(default_factory=dict)
    closed: list[Incident] = field(default_factory=list)


@dataclass
class MoveResult:
    destination: Incident
    created: bool
    moved: list[Alert]
    # The moved alerts that were not in the destination before.
    joined: list[Alert] = field(default_factory=list)
    # Incident → the alerts that left it.
    left: dict[Incident, list[Alert]] = field(default_factory=dict)
    closed: list[Incident] = field(default_factory=list)


@dataclass
class AddPreview:
    """What adding alerts to an incident would touch: the seed's "special situations"."""

    incident: Incident
    # Alert id → the other incidents it already belongs to.
    other_incidents: dict[int, list[Incident]]
    # Other incidents whose only alert is being added: "Keep" or "Close other incident".
    sole_alert_incidents: list[Incident]
    already_here: list[Alert]


# --- locking and bookkeeping -----------------------------------------------


def _lock_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    ids = sorted({a.pk for a in alerts})
    locked = list(Alert.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(locked) != len(ids):
        found = {a.pk for a in locked}
        gone = next(a for a in alerts if a.pk not in found)
        raise ResourceNotFound(gone.system_alert_id)
    return locked


def _lock_incidents(ids: Iterable[int]) -> dict[int, Incident]:
    wanted = sorted(set(ids))
    rows = Incident.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
    locked = {incident.pk: incident for incident in rows}
    if len(locked) != len(wanted):
        raise IncidentNotFound()
    return locked


def _memberships(alert_ids: Iterable[int]) -> dict[int, set[int]]:
    """Alert id → the ids of the incidents it belongs to."""
    found: dict[int, set[int]] = defaultdict(set)
    rows = Relation.objects.filter(alert_id__in=list(alert_ids)).values_list(
        "alert_id", "incident_id"
    )
    for alert_id, incident_id in rows:
        found[alert_id].add(incident_id)
    return found


def _recount(incidents: Iterable[Incident]) -> None:
    """Recompute alert counts and activity times of locked incidents from their relations.

    One UPDATE whatever the number of incidents (the database aggregates each one's
    relations), then one read to show the objects the values written.
    """
    by_id = {i.pk: i for i in incidents}
    if not by_id:
        return
    related = Relation.objects.filter(incident=OuterRef("pk"), alert__isnull=False).order_by()

    def per_incident(aggregate):
        return Subquery(related.values("incident").annotate(v=aggregate).values("v"))

    now = timezone.now()
    rows = Incident.objects.filter(pk__in=list(by_id))
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
    for pk, count, first, last in rows.values_list(
        "pk", "alert_count", "first_activity_time", "last_activity_time"
    ):
        incident = by_id[pk]
        incident.alert_count, incident.modified = count, now
        incident.first_activity_time, incident.last_activity_time = first, last


def _check_can_join(alerts: Sequence[Alert], incident: Incident, *, reason: str) -> None:
    for alert in alerts:
        if alert.workspace_id != incident.workspace_id:
            raise DifferentWorkspace(alert, incident)
    if reason != RelationReason.INGESTION:
        for alert in alerts:
            if is_provider_managed(alert, incident):
                raise ProviderManagedAdd(alert, incident)


def _check_room(incident: Incident, adding: int) -> None:
    limit = max_alerts()
    if adding and incident.alert_count + adding > limit:
        raise IncidentFull(incident, adding, limit)


def _relate(
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


def _numbers(incidents: Iterable[Incident]) -> str:
    return ", ".join(f"#{i.number}" for i in sorted(incidents, key=lambda i: i.number))


def _close_sole_alert_incidents(
    incidents: Iterable[Incident], destination: Incident, *, actor: Actor
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
        )
        closed.append(incident)
    return closed


# --- reading ---------------------------------------------------------------


def preview_add(incident: Incident, alerts: Sequence[Alert]) -> AddPreview:
    """Which special situation adding `alerts` to `incident` is (no locks, no changes)."""
    memberships = _memberships(a.pk for a in alerts)
    other_ids = {i for ids in memberships.values() for i in ids} - {incident.pk}
    others = Incident.objects.in_bulk(other_ids)
    adding = {a.pk for a in alerts if incident.pk not in memberships.get(a.pk, set())}
    sole = [
        others[i]
        for i in sorted(other_ids)
        if others[i].alert_count == 1
        and any(i in memberships.get(a, set()) for a in adding)
        and not others[i].is_closed
    ]
    return AddPreview(
        incident=incident,
        other_incidents={
            a.pk: sorted(
                (others[i] for i in memberships.get(a.pk, set()) if i in others),
                key=lambda i: i.number,
            )
            for a in alerts
        },
        sole_alert_incidents=sole,
        already_here=[a for a in alerts if a.pk not in adding],
    )


def preview_remove(incident: Incident, alert: Alert) -> MembershipError | None:
    """The refusal `remove_alert` would give now, or None (no locks, no changes)."""
    return _remove_refusal(alert, incident, _memberships([alert.pk])[alert.pk])


def _remove_refusal(
    alert: Alert, incident: Incident, memberships: set[int]
) -> MembershipError | None:
    if incident.pk not in memberships:
        return AlertNotInIncident(alert, incident)
    if is_provider_managed(alert, incident):
        return ProviderManagedRemove(alert, incident)
    if memberships == {incident.pk}:
        return LastIncident(alert, incident)
    return None


def preview_move(alerts: Sequence[Alert], *, source: Incident | None) -> list[Incident]:
    """Open incidents that moving `alerts` (out of `source`, or out of all) would leave empty:
    the ones the "Keep" / "Close other incident" choice of `move_alerts` is about."""
    rows = Relation.objects.filter(alert__in=alerts, incident__alert_count__lte=len(alerts))
    if source is not None:
        rows = rows.filter(incident=source)
    leaving: dict[int, set[int]] = defaultdict(set)
    for incident_id, alert_id in rows.values_list("incident_id", "alert_id"):
        leaving[incident_id].add(alert_id)
    candidates = Incident.objects.filter(pk__in=leaving).exclude(status=IncidentStatus.CLOSED)
    return [i for i in candidates.order_by("number") if i.alert_count == len(leaving[i.pk])]


# --- changing --------------------------------------------------------------


def add_alerts(
    incident: Incident,
    alerts: Sequence[Alert],
    *,
    actor: Actor,
    comment: str = "",
    other_incident: OtherIncident = "keep",
    reason: str = RelationReason.MANUAL,
    details: dict | None = None,
    relation_names: Sequence[str] | None = None,
) -> AddResult:
    """Add alerts to an incident; they stay in any other incident they belong to.

    When an added alert is the only alert of another incident, `other_incident` says
    whether that incident is kept as it is or closed as Undetermined. `relation_names`
    name the new relations (the API's relationName); by default each gets a new uuid.
    """
    if not alerts:
        raise NothingToMove("Select at least one alert.")
    if relation_names is not None and len(relation_names) != len(alerts):
        raise ValueError("Give one relation name per alert.")
    comment = check_comment(comment)
    with transaction.atomic():
        locked_alerts = _lock_alerts(alerts)
        memberships = _memberships(a.pk for a in locked_alerts)
        other_ids = {i for ids in memberships.values() for i in ids} - {incident.pk}
        locked = _lock_incidents({incident.pk} | other_ids)
        destination = locked[incident.pk]

        _check_can_join(locked_alerts, destination, reason=reason)
        for alert in locked_alerts:
            if destination.pk in memberships.get(alert.pk, set()):
                raise AlertAlreadyInIncident(alert, destination)
        _check_room(destination, len(locked_alerts))

        _relate(
            destination,
            locked_alerts,
            actor=actor,
            reason=reason,
            details={**(details or {}), **({"comment": comment} if comment else {})},
            names=relation_names,
        )
        also_in = {
            a.pk: sorted((locked[i] for i in memberships.get(a.pk, set())), key=lambda i: i.number)
            for a in locked_alerts
        }
        kind = (
            ActivityKind.ALERT_CORRELATED
            if reason in (RelationReason.RULE, RelationReason.INGESTION)
            else ActivityKind.ALERT_ADDED
        )
        entries = []
        for alert in locked_alerts:
            message = (
                f"Alert “{alert.display_name}” was correlated with this incident by {actor.label}."
            )
            if also_in[alert.pk]:
                message += f" It also belongs to {_numbers(also_in[alert.pk])}."
            entries.append(
                activity.entry(
                    destination,
                    actor,
                    kind,
                    message,
                    comment=comment,
                    details={
                        "alert": str(alert.system_alert_id),
                        "alert_name": alert.display_name,
                        "also_in": [i.number for i in also_in[alert.pk]],
                        **(details or {}),
                    },
                )
            )
        activity.write(entries)
        _recount([destination])

        closed = []
        if other_incident == "close":
            # One alert, and it is one of ours: this incident held only that alert.
            sole = [locked[i] for i in other_ids if locked[i].alert_count == 1]
            closed = _close_sole_alert_incidents(sole, destination, actor=actor)
    _sync(incident, destination)
    return AddResult(incident=incident, added=locked_alerts, also_in=also_in, closed=closed)


def remove_alert(incident: Incident, alert: Alert, *, actor: Actor, comment: str = "") -> None:
    """Take an alert out of an incident; refused when it is the alert's last incident."""
    comment = check_comment(comment)
    with transaction.atomic():
        (locked_alert,) = _lock_alerts([alert])
        memberships = _memberships([locked_alert.pk])[locked_alert.pk]
        locked = _lock_incidents([incident.pk])[incident.pk]
        refusal = _remove_refusal(locked_alert, locked, memberships)
        if refusal is not None:
            raise refusal
        Relation.objects.filter(incident=locked, alert=locked_alert).delete()
        others = list(Incident.objects.filter(pk__in=memberships - {locked.pk}))
        activity.record(
            locked,
            actor,
            ActivityKind.ALERT_REMOVED,
            f"Alert “{locked_alert.display_name}” was removed from this incident by "
            f"{actor.label}. It stays in {_numbers(others)}.",
            comment=comment,
            details={
                "alert": str(locked_alert.system_alert_id),
                "alert_name": locked_alert.display_name,
                "remains_in": sorted(i.number for i in others),
            },
        )
        _recount([locked])
    _sync(incident, locked)


def move_alerts(
    alerts: Sequence[Alert],
    *,
    destination: Incident | None,
    source: Incident | None = None,
    actor: Actor,
    comment: str = "",
    emptied_incident: OtherIncident = "keep",
    workspace: Workspace | None = None,
) -> MoveResult:
    """Link alerts to another incident ("Link alerts to another incident").

    The alerts leave `source` (the incident they were selected in), or every incident
    they belong to when `source` is None, and join `destination`, or a new incident
    named after them when `destination` is None. A source left without alerts is kept
    or closed as Undetermined, as `emptied_incident` says.
    """
    if not alerts:
        raise NothingToMove("Select at least one alert.")
    comment = check_comment(comment)
    with transaction.atomic():
        locked_alerts = _lock_alerts(alerts)
        memberships = _memberships(a.pk for a in locked_alerts)
        wanted = {i for ids in memberships.values() for i in ids}
        if destination is not None:
            wanted.add(destination.pk)
        if source is not None:
            wanted.add(source.pk)
        locked = _lock_incidents(wanted)

        leaving: dict[int, list[int]] = {}  # alert id → incident ids it leaves
        for alert in locked_alerts:
            current = memberships.get(alert.pk, set())
            if source is not None:
                if source.pk not in current:
                    raise AlertNotInIncident(alert, locked[source.pk])
                leaving[alert.pk] = [source.pk]
            else:
                leaving[alert.pk] = sorted(current)
            if destination is not None:
                leaving[alert.pk] = [i for i in leaving[alert.pk] if i != destination.pk]

        created = destination is None
        if created:
            target_workspace = workspace or locked_alerts[0].workspace
            target = _new_incident(target_workspace, locked_alerts, actor=actor)
        else:
            target = locked[destination.pk]

        joining = [a for a in locked_alerts if target.pk not in memberships.get(a.pk, set())]
        if not joining and not any(leaving.values()):
            raise AlertAlreadyInIncident(locked_alerts[0], target)
        _check_can_join(joining, target, reason=RelationReason.MANUAL)
        for alert in locked_alerts:
            for incident_id in leaving[alert.pk]:
                if is_provider_managed(alert, locked[incident_id]):
                    raise ProviderManagedRemove(alert, locked[incident_id])
        _check_room(target, len(joining))

        sources = {i for ids in leaving.values() for i in ids}
        if sources:
            # One query: an alert is in one of these sources only if it leaves it.
            Relation.objects.filter(alert__in=locked_alerts, incident_id__in=sources).delete()
        _relate(
            target,
            joining,
            actor=actor,
            reason=RelationReason.MANUAL,
            details={
                "moved_from": {
                    str(a.system_alert_id): [locked[i].number for i in leaving[a.pk]]
                    for a in joining
                },
                "comment": comment,
            },
        )
        left = _moved_activity(locked_alerts, joining, leaving, locked, target, actor, comment)
        _recount([target, *(locked[i] for i in sources)])

        closed = []
        if emptied_incident == "close":
            emptied = [locked[i] for i in sources if locked[i].alert_count == 0]
            closed = _close_sole_alert_incidents(emptied, target, actor=actor)
    if destination is not None:
        _sync(destination, target)
    if source is not None:
        _sync(source, locked[source.pk])
    return MoveResult(
        destination=target,
        created=created,
        moved=locked_alerts,
        joined=joining,
        left=left,
        closed=closed,
    )


def _moved_activity(
    alerts: Sequence[Alert],
    joining: Sequence[Alert],
    leaving: dict[int, list[int]],
    locked: dict[int, Incident],
    target: Incident,
    actor: Actor,
    comment: str,
) -> dict[Incident, list[Alert]]:
    entries = []
    left: dict[Incident, list[Alert]] = defaultdict(list)
    for alert in alerts:
        origins = [locked[i] for i in leaving[alert.pk]]
        alert_details = {"alert": str(alert.system_alert_id), "alert_name": alert.display_name}
        if alert in joining:
            message = (
                f"Alert “{alert.display_name}” was correlated with this incident by {actor.label}"
            )
            message += f", moved from {_numbers(origins)}." if origins else "."
            entries.append(
                activity.entry(
                    target,
                    actor,
                    ActivityKind.ALERT_MOVED_IN,
                    message,
                    comment=comment,
                    details={**alert_details, "from": [i.number for i in origins]},
                )
            )
        for origin in origins:
            left[origin].append(alert)
            entries.append(
                activity.entry(
                    origin,
                    actor,
                    ActivityKind.ALERT_MOVED_OUT,
                    f"Alert “{alert.display_name}” was unlinked from this incident and linked "
                    f"to #{target.number} by {actor.label}.",
                    comment=comment,
                    details={**alert_details, "to": target.number},
                )
            )
    activity.write(entries)
    return dict(left)


def _new_incident(workspace: Workspace, alerts: Sequence[Alert], *, actor: Actor) -> Incident:
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
        details={"alerts": [str(a.system_alert_id) for a in alerts]},
    )
    return incident


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
        locked_alerts = _lock_alerts(alerts) if alerts else []
        (number,) = allocate_incident_numbers(workspace)
        if "title" not in fields:
            fields["title"] = incident_title_for(locked_alerts) if alerts else "Untitled incident"
        if "severity" not in fields and locked_alerts:
            fields["severity"] = highest_severity(locked_alerts)
        incident = Incident.objects.create(workspace=workspace, number=number, **fields)
        _check_can_join(locked_alerts, incident, reason=reason)
        _check_room(incident, len(locked_alerts))
        activity.record(
            incident,
            actor,
            ActivityKind.CREATED,
            f"{actor.label} created the incident.",
            details={"alerts": [str(a.system_alert_id) for a in locked_alerts]},
        )
        if locked_alerts:
            _relate(incident, locked_alerts, actor=actor, reason=reason)
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
            _recount([incident])
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
        _check_can_join(alerts, incident, reason=RelationReason.INGESTION)
    with transaction.atomic():
        numbers = allocate_incident_numbers(workspace, len(batch)) if batch else range(0)
        for number, (incident, alerts) in zip(numbers, batch, strict=True):
            incident.number = number
            incident.alert_count = len(alerts)
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


@dataclass
class Correlated:
    """Where `correlate_new_alerts` put the alerts."""

    # Alert id → its incident.
    incidents: dict[int, Incident] = field(default_factory=dict)
    created: list[Incident] = field(default_factory=list)
    # Alerts that joined an incident that existed before.
    joined_existing: int = 0


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
        locked = _lock_incidents(existing) if existing else {}
        room = {pk: limit - incident.alert_count for pk, incident in locked.items()}
        joins: list[tuple[Incident, list[Alert], Placement]] = []
        # (new incident, its alerts, why, the incident it continues)
        opens: list[tuple[Incident, list[Alert], Placement, Incident | None]] = []
        for placement in placements:
            alerts, previous = list(placement.alerts), None
            fields = dict(placement.new_fields)
            if placement.incident is not None:
                previous = target = locked[placement.incident.pk]
                _check_can_join(alerts, target, reason=reason)
                fit = max(room[target.pk], 0)
                if fit and alerts:
                    joins.append((target, alerts[:fit], placement))
                    room[target.pk] -= len(alerts[:fit])
                alerts = alerts[fit:]
                fields = {
                    f: getattr(target, f)
                    for f in ("title", "severity", "provider_name", "provider_incident_id")
                }
            while alerts:
                chunk, alerts = alerts[:limit], alerts[limit:]
                incident = Incident(
                    workspace=workspace,
                    **{
                        "title": incident_title_for(chunk),
                        "severity": highest_severity(chunk),
                        **fields,
                    },
                )
                _check_can_join(chunk, incident, reason=reason)
                opens.append((incident, chunk, placement, previous))
                previous = incident

        numbers = allocate_incident_numbers(workspace, len(opens)) if opens else range(0)
        for number, (incident, chunk, _, _) in zip(numbers, opens, strict=True):
            incident.number = number
            incident.alert_count = len(chunk)
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

        relations, entries = [], []
        for incident, _, _, previous in opens:
            entries.append(_created_entry(incident, previous, actor=actor, limit=limit))
            if previous is not None:
                entries.append(
                    activity.entry(
                        previous,
                        actor,
                        ActivityKind.CONTINUED,
                        f"Incident #{incident.number} continues this incident, which holds the "
                        f"maximum of {limit} alerts: new alerts that belong here go there.",
                        details={"continued_by": incident.number},
                    )
                )
        for incident, alerts, placement in joins + [(i, a, p) for i, a, p, _ in opens]:
            for alert in alerts:
                relations.append(
                    Relation(
                        incident_id=incident.pk,
                        alert_id=alert.pk,
                        # Derived, so the same alert in the same incident is named alike.
                        name=str(uuid.uuid5(incident.uuid, str(alert.system_alert_id))),
                        reason=reason,
                        created_by_id=actor.user.pk if actor.user else None,
                        created_by_name="" if actor.user else actor.name,
                        details=placement.details,
                    )
                )
                message = (
                    f"Alert “{alert.display_name}” was correlated with this incident by "
                    f"{actor.label}."
                )
                entries.append(
                    activity.entry(
                        incident,
                        actor,
                        ActivityKind.ALERT_CORRELATED,
                        f"{message} {placement.because}" if placement.because else message,
                        details={
                            "alert": str(alert.system_alert_id),
                            "alert_name": alert.display_name,
                            **placement.details,
                        },
                    )
                )
                result.incidents[alert.pk] = incident
        bulk.insert(relations)
        bulk.insert(entries)
        if joins:
            _recount({incident.pk: incident for incident, _, _ in joins}.values())
    result.created = [incident for incident, _, _, _ in opens]
    result.joined_existing = sum(len(alerts) for _, alerts, _ in joins)
    return result


def _created_entry(
    incident: Incident, previous: Incident | None, *, actor: Actor, limit: int
) -> ActivityEntry:
    if previous is None:
        return activity.entry(
            incident, actor, ActivityKind.CREATED, f"{actor.label} created the incident."
        )
    return activity.entry(
        incident,
        actor,
        ActivityKind.CREATED,
        f"{actor.label} created the incident to continue #{previous.number}, which holds the "
        f"maximum of {limit} alerts.",
        details={"continues": previous.number},
    )


def refresh_activity_times(incident_ids: Iterable[int]) -> None:
    """Recompute the activity times of incidents whose alerts changed (a re-sent alert)."""
    with transaction.atomic():
        locked = _lock_incidents(incident_ids)
        if locked:
            _recount(locked.values())


# --- the API's named relations ---------------------------------------------


def put_relation(
    incident: Incident, name: str, resource: Alert | Bookmark, *, actor: Actor
) -> tuple[Relation, bool]:
    """Create relation `name` to `resource`, or find it as it is: (relation, created)."""
    with transaction.atomic():
        others: set[int] = set()
        if isinstance(resource, Alert):
            (alert,) = _lock_alerts([resource])
            # `add_alerts` locks the alert's incidents too: take them all now, in id order.
            others = _memberships([alert.pk])[alert.pk]
        target = _lock_incidents({incident.pk} | others)[incident.pk]
        existing = (
            Relation.objects.filter(incident=target, name=name)
            .select_related("alert", "bookmark")
            .first()
        )
        if existing is not None:
            if isinstance(resource, Alert) and existing.alert_id == resource.pk:
                return existing, False
            if isinstance(resource, Bookmark) and existing.bookmark_id == resource.pk:
                return existing, False
            if type(existing.resource) is not type(resource):
                raise RelationTypeConflict(name, target)
            raise RelationNameTaken(name, target, existing.resource)
        if isinstance(resource, Bookmark):
            return _put_bookmark(target, name, resource, actor=actor), True
        add_alerts(
            target, [resource], actor=actor, reason=RelationReason.API, relation_names=[name]
        )
        _sync(incident, target)
        return Relation.objects.get(incident=target, name=name), True


def _put_bookmark(incident: Incident, name: str, bookmark: Bookmark, *, actor: Actor) -> Relation:
    if bookmark.workspace_id != incident.workspace_id:
        raise DifferentWorkspace(bookmark, incident)
    if Relation.objects.filter(incident=incident, bookmark=bookmark).exists():
        raise BookmarkAlreadyInIncident(bookmark, incident)
    relation = Relation.objects.create(
        incident=incident,
        bookmark=bookmark,
        name=name,
        reason=RelationReason.API,
        created_by=actor.user,
        created_by_name="" if actor.user else actor.name,
    )
    activity.record(
        incident,
        actor,
        ActivityKind.BOOKMARK_ADDED,
        f"Bookmark “{bookmark.display_name}” was added to this incident by {actor.label}.",
        details={"bookmark": str(bookmark.bookmark_id)},
    )
    return relation


def delete_relation(incident: Incident, name: str, *, actor: Actor) -> bool:
    """Delete the relation `name`; False when there was none. Alerts follow `remove_alert`."""
    relation = (
        Relation.objects.filter(incident=incident, name=name)
        .select_related("alert", "bookmark")
        .first()
    )
    if relation is None:
        return False
    if relation.alert is not None:
        try:
            remove_alert(incident, relation.alert, actor=actor)
        except AlertNotInIncident:
            return False  # Deleted by a concurrent request.
        return True
    with transaction.atomic():
        _lock_incidents([incident.pk])
        deleted, _ = Relation.objects.filter(pk=relation.pk).delete()
        if not deleted:
            return False
        activity.record(
            incident,
            actor,
            ActivityKind.BOOKMARK_REMOVED,
            f"Bookmark “{relation.bookmark.display_name}” was removed from this incident by "
            f"{actor.label}.",
            details={"bookmark": str(relation.bookmark.bookmark_id)},
        )
    return True


def _sync(incident: Incident, locked: Incident) -> None:
    """Show the caller's incident object the values written under the lock."""
    for f in (
        "alert_count",
        "first_activity_time",
        "last_activity_time",
        "status",
        "classification",
        "classification_reason",
        "classification_comment",
        "closed",
    ):
        setattr(incident, f, getattr(locked, f))
