""" "Link alerts to another incident": alerts leave their incidents and join one."""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from incidents import activity
from incidents.actions import check_comment, reopen_locked
from incidents.activity import Actor
from incidents.errors import (
    AlertAlreadyInIncident,
    AlertNotInIncident,
    MembershipError,
    NothingToMove,
    ProviderManagedRemove,
)
from incidents.membership.core import (
    OtherIncident,
    check_can_join,
    check_room,
    close_sole_alert_incidents,
    is_provider_managed,
    lock_alerts,
    lock_incidents,
    memberships_of,
    new_incident,
    numbers,
    recount,
    relate,
    sync,
)
from incidents.membership.undo import record, relation_rows
from incidents.models import (
    ActivityKind,
    Alert,
    ChangeKind,
    Incident,
    IncidentStatus,
    MembershipChange,
    Relation,
    RelationReason,
    Workspace,
)


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
    # Whether the destination was closed and the move reopened it.
    reopened: bool = False
    # What undoes it (`membership.undo_change`).
    change: MembershipChange | None = None


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


@dataclass
class MovePreview:
    """Everything a move to `destination` would do, before Save (no locks, no changes)."""

    destination: Incident
    joining: list[Alert]
    already_there: list[Alert]
    # Open incidents the move would leave without alerts ("Keep" / "Close other incident").
    emptied: list[Incident]
    refusal: MembershipError | None = None


def preview_move_to(
    alerts: Sequence[Alert], *, source: Incident | None, destination: Incident
) -> MovePreview:
    """What `move_alerts(alerts, source=source, destination=destination)` would do now."""
    memberships = memberships_of(a.pk for a in alerts)
    joining = [a for a in alerts if destination.pk not in memberships.get(a.pk, set())]
    preview = MovePreview(
        destination=destination,
        joining=joining,
        already_there=[a for a in alerts if a not in joining],
        emptied=[i for i in preview_move(alerts, source=source) if i.pk != destination.pk],
    )
    leaving = {source.pk} if source is not None else set()
    origins = Incident.objects.in_bulk(
        {i for ids in memberships.values() for i in ids} | leaving - {destination.pk}
    )
    try:
        check_can_join(joining, destination, reason=RelationReason.MANUAL)
        for alert in alerts:
            for pk in leaving or memberships.get(alert.pk, set()):
                if pk != destination.pk and is_provider_managed(alert, origins[pk]):
                    raise ProviderManagedRemove(alert, origins[pk])
        check_room(destination, len(joining))
    except MembershipError as refusal:
        preview.refusal = refusal
    return preview


def move_alerts(
    alerts: Sequence[Alert],
    *,
    destination: Incident | None,
    source: Incident | None = None,
    actor: Actor,
    comment: str = "",
    emptied_incident: OtherIncident | Mapping[int, OtherIncident] = "keep",
    workspace: Workspace | None = None,
    reopen_destination: bool = False,
) -> MoveResult:
    """Link alerts to another incident ("Link alerts to another incident").

    The alerts leave `source` (the incident they were selected in), or every incident
    they belong to when `source` is None, and join `destination`, or a new incident
    named after them when `destination` is None. A source left without alerts is kept
    or closed as Undetermined, as `emptied_incident` says: one choice for all, or one per
    incident id (an emptied incident it does not name is kept). A closed destination is
    reopened first when `reopen_destination` is set, and kept closed otherwise.
    """
    if not alerts:
        raise NothingToMove("Select at least one alert.")
    comment = check_comment(comment)
    with transaction.atomic():
        locked_alerts = lock_alerts(alerts)
        memberships = memberships_of(a.pk for a in locked_alerts)
        wanted = {i for ids in memberships.values() for i in ids}
        if destination is not None:
            wanted.add(destination.pk)
        if source is not None:
            wanted.add(source.pk)
        locked = lock_incidents(wanted)

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

        uid = uuid.uuid4()
        tag = {"change": str(uid)}
        created = destination is None
        if created:
            target_workspace = workspace or locked_alerts[0].workspace
            target = new_incident(target_workspace, locked_alerts, actor=actor, details=tag)
        else:
            target = locked[destination.pk]

        joining = [a for a in locked_alerts if target.pk not in memberships.get(a.pk, set())]
        if not joining and not any(leaving.values()):
            raise AlertAlreadyInIncident(locked_alerts[0], target)
        check_can_join(joining, target, reason=RelationReason.MANUAL)
        for alert in locked_alerts:
            for incident_id in leaving[alert.pk]:
                if is_provider_managed(alert, locked[incident_id]):
                    raise ProviderManagedRemove(alert, locked[incident_id])
        check_room(target, len(joining))

        reopened = []
        if reopen_destination and target.is_closed:
            reopened.append((target, _classification(target)))
            reopen_locked(
                target,
                actor=actor,
                comment=comment,
                message=f"{actor.label} reopened the incident to link alerts to it.",
                details=tag,
            )

        sources = {i for ids in leaving.values() for i in ids}
        removed = []
        if sources:
            # One query: an alert is in one of these sources only if it leaves it.
            leaving_rows = Relation.objects.filter(alert__in=locked_alerts, incident_id__in=sources)
            removed = relation_rows(leaving_rows)
            leaving_rows.delete()
        relate(
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
        left = _moved_activity(
            locked_alerts, joining, leaving, locked, target, actor, comment, tag=tag
        )
        recount([target, *(locked[i] for i in sources)])

        closed = []
        emptied = [
            locked[i]
            for i in sources
            if locked[i].alert_count == 0 and _choice(emptied_incident, i) == "close"
        ]
        if emptied:
            was = {i.pk: i.status for i in emptied}
            closed = close_sole_alert_incidents(emptied, target, actor=actor, details=tag)
        change = record(
            ChangeKind.MOVE,
            uid=uid,
            workspace_id=target.workspace_id,
            actor=actor,
            summary=_summary(locked_alerts, target, created),
            removed=removed,
            added=[(target.pk, a.pk) for a in joining],
            after={
                a.pk: (memberships.get(a.pk, set()) - set(leaving[a.pk])) | {target.pk}
                for a in locked_alerts
            },
            closed=[(i, was[i.pk]) for i in closed],
            created=target if created else None,
            reopened=reopened,
        )
    if destination is not None:
        sync(destination, target)
    if source is not None:
        sync(source, locked[source.pk])
    return MoveResult(
        destination=target,
        created=created,
        moved=locked_alerts,
        joined=joining,
        left=left,
        closed=closed,
        reopened=bool(reopened),
        change=change,
    )


def _classification(incident: Incident) -> dict:
    return {
        "classification": incident.classification,
        "classification_reason": incident.classification_reason,
        "classification_comment": incident.classification_comment,
    }


def _choice(emptied_incident: OtherIncident | Mapping[int, OtherIncident], pk: int) -> str:
    if isinstance(emptied_incident, str):
        return emptied_incident
    return emptied_incident.get(pk, "keep")


def _moved_activity(
    alerts: Sequence[Alert],
    joining: Sequence[Alert],
    leaving: dict[int, list[int]],
    locked: dict[int, Incident],
    target: Incident,
    actor: Actor,
    comment: str,
    *,
    tag: dict,
) -> dict[Incident, list[Alert]]:
    """One entry per incident and direction: the destination's names the alerts that
    moved in, each source's those that left it; a batch's details list every alert."""
    left: dict[Incident, list[Alert]] = defaultdict(list)
    for alert in alerts:
        for incident_id in leaving[alert.pk]:
            left[locked[incident_id]].append(alert)
    entries = []
    if joining:
        came_from = {a.pk: [locked[i] for i in leaving[a.pk]] for a in joining}
        origins = {i for found in came_from.values() for i in found}
        where = f" from {numbers(origins)}" if origins else ""
        if len(joining) == 1:
            (alert,) = joining
            message = (
                f"Alert “{alert.display_name}” was correlated with this incident by {actor.label}"
                f"{f', moved{where}' if origins else ''}."
            )
            details = {"alert": str(alert.system_alert_id), "alert_name": alert.display_name}
        else:
            message = (
                f"{len(joining)} alerts moved in{where} by {actor.label}: "
                f"{activity.alert_names(joining)}."
            )
            numbers_from = {pk: sorted(i.number for i in found) for pk, found in came_from.items()}
            details = {"alert_list": activity.alert_list(joining, **{"from": numbers_from})}
        entries.append(
            activity.entry(
                target,
                actor,
                ActivityKind.ALERT_MOVED_IN,
                message,
                comment=comment,
                details={**details, "from": sorted(i.number for i in origins), **tag},
            )
        )
    for origin in sorted(left, key=lambda i: i.number):
        gone = left[origin]
        if len(gone) == 1:
            (alert,) = gone
            message = (
                f"Alert “{alert.display_name}” was unlinked from this incident and linked "
                f"to #{target.number} by {actor.label}."
            )
            details = {"alert": str(alert.system_alert_id), "alert_name": alert.display_name}
        else:
            message = (
                f"{len(gone)} alerts moved out to #{target.number} by {actor.label}: "
                f"{activity.alert_names(gone)}."
            )
            details = {"alert_list": activity.alert_list(gone)}
        entries.append(
            activity.entry(
                origin,
                actor,
                ActivityKind.ALERT_MOVED_OUT,
                message,
                comment=comment,
                details={**details, "to": target.number, **tag},
            )
        )
    activity.write(entries)
    return dict(left)


def _summary(alerts: Sequence[Alert], target: Incident, created: bool) -> str:
    what = f"Alert “{alerts[0].display_name}”" if len(alerts) == 1 else f"{len(alerts)} alerts"
    return f"{what} linked to {'new incident ' if created else ''}#{target.number}"
