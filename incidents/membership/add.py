"""Adding alerts to an incident (they stay in their other incidents)."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction

from incidents import activity
from incidents.actions import check_comment
from incidents.activity import Actor
from incidents.errors import (
    AlertAlreadyInIncident,
    NothingToMove,
)
from incidents.membership.core import (
    OtherIncident,
    check_can_join,
    check_room,
    close_sole_alert_incidents,
    lock_alerts,
    lock_incidents,
    memberships_of,
    numbers,
    recount,
    relate,
    sync,
)
from incidents.models import (
    ActivityKind,
    Alert,
    Incident,
    RelationReason,
)


@dataclass
class AddResult:
    incident: Incident
    added: list[Alert]
    # The other incidents each added alert was already in (it stays there too).
    also_in: dict[int, list[Incident]] = field(default_factory=dict)
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


def preview_add(incident: Incident, alerts: Sequence[Alert]) -> AddPreview:
    """Which special situation adding `alerts` to `incident` is (no locks, no changes)."""
    memberships = memberships_of(a.pk for a in alerts)
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
        locked_alerts = lock_alerts(alerts)
        memberships = memberships_of(a.pk for a in locked_alerts)
        other_ids = {i for ids in memberships.values() for i in ids} - {incident.pk}
        locked = lock_incidents({incident.pk} | other_ids)
        destination = locked[incident.pk]

        check_can_join(locked_alerts, destination, reason=reason)
        for alert in locked_alerts:
            if destination.pk in memberships.get(alert.pk, set()):
                raise AlertAlreadyInIncident(alert, destination)
        check_room(destination, len(locked_alerts))

        relate(
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
        activity.record(
            destination,
            actor,
            kind,
            _added_message(locked_alerts, also_in, actor),
            comment=comment,
            details={**_added_details(locked_alerts, also_in), **(details or {})},
        )
        recount([destination])

        closed = []
        if other_incident == "close":
            # One alert, and it is one of ours: this incident held only that alert.
            sole = [locked[i] for i in other_ids if locked[i].alert_count == 1]
            closed = close_sole_alert_incidents(sole, destination, actor=actor)
    sync(incident, destination)
    return AddResult(incident=incident, added=locked_alerts, also_in=also_in, closed=closed)


def _added_message(
    alerts: Sequence[Alert], also_in: dict[int, list[Incident]], actor: Actor
) -> str:
    """One sentence for one alert, and one for a batch, naming its first alerts."""
    if len(alerts) == 1:
        (alert,) = alerts
        message = (
            f"Alert “{alert.display_name}” was correlated with this incident by {actor.label}."
        )
        if also_in[alert.pk]:
            message += f" It also belongs to {numbers(also_in[alert.pk])}."
        return message
    message = (
        f"{len(alerts)} alerts were correlated with this incident by {actor.label}: "
        f"{activity.alert_names(alerts)}."
    )
    elsewhere = [a for a in alerts if also_in[a.pk]]
    if elsewhere:
        others = {i for a in elsewhere for i in also_in[a.pk]}
        verb = "belongs" if len(elsewhere) == 1 else "belong"
        message += f" {len(elsewhere)} of them also {verb} to {numbers(others)}."
    return message


def _added_details(alerts: Sequence[Alert], also_in: dict[int, list[Incident]]) -> dict:
    numbers_of = {a.pk: [i.number for i in also_in[a.pk]] for a in alerts}
    if len(alerts) == 1:
        (alert,) = alerts
        return {
            "alert": str(alert.system_alert_id),
            "alert_name": alert.display_name,
            "also_in": numbers_of[alert.pk],
        }
    return {"alert_list": activity.alert_list(alerts, also_in=numbers_of)}
