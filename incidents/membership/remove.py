"""Taking an alert out of one incident."""

import uuid
from dataclasses import dataclass

from django.db import transaction

from incidents import activity
from incidents.actions import check_comment
from incidents.activity import Actor
from incidents.errors import (
    AlertNotInIncident,
    LastIncident,
    MembershipError,
    ProviderManagedRemove,
)
from incidents.membership.core import (
    is_provider_managed,
    lock_alerts,
    lock_incidents,
    memberships_of,
    numbers,
    recount,
    sync,
)
from incidents.membership.undo import record, relation_rows
from incidents.models import (
    ActivityKind,
    Alert,
    ChangeKind,
    Incident,
    MembershipChange,
    Relation,
)


def preview_remove(incident: Incident, alert: Alert) -> MembershipError | None:
    """The refusal `remove_alert` would give now, or None (no locks, no changes)."""
    return remove_refusal(alert, incident, memberships_of([alert.pk])[alert.pk])


def remove_refusal(
    alert: Alert, incident: Incident, memberships: set[int]
) -> MembershipError | None:
    if incident.pk not in memberships:
        return AlertNotInIncident(alert, incident)
    if is_provider_managed(alert, incident):
        return ProviderManagedRemove(alert, incident)
    if memberships == {incident.pk}:
        return LastIncident(alert, incident)
    return None


@dataclass
class RemoveResult:
    incident: Incident
    alert: Alert
    # The incidents the alert stays in.
    remains_in: list[Incident]
    # What undoes it (`membership.undo_change`).
    change: MembershipChange


def remove_alert(
    incident: Incident, alert: Alert, *, actor: Actor, comment: str = ""
) -> RemoveResult:
    """Take an alert out of an incident; refused when it is the alert's last incident."""
    comment = check_comment(comment)
    with transaction.atomic():
        (locked_alert,) = lock_alerts([alert])
        memberships = memberships_of([locked_alert.pk])[locked_alert.pk]
        locked = lock_incidents([incident.pk])[incident.pk]
        refusal = remove_refusal(locked_alert, locked, memberships)
        if refusal is not None:
            raise refusal
        uid = uuid.uuid4()
        relation = Relation.objects.filter(incident=locked, alert=locked_alert)
        removed = relation_rows(relation)
        relation.delete()
        others = list(Incident.objects.filter(pk__in=memberships - {locked.pk}))
        activity.record(
            locked,
            actor,
            ActivityKind.ALERT_REMOVED,
            f"Alert “{locked_alert.display_name}” was removed from this incident by "
            f"{actor.label}. It stays in {numbers(others)}.",
            comment=comment,
            details={
                "alert": str(locked_alert.system_alert_id),
                "alert_name": locked_alert.display_name,
                "remains_in": sorted(i.number for i in others),
                "change": str(uid),
            },
        )
        recount([locked])
        change = record(
            ChangeKind.REMOVE,
            uid=uid,
            workspace_id=locked.workspace_id,
            actor=actor,
            summary=f"Alert “{locked_alert.display_name}” removed from #{locked.number}",
            removed=removed,
            added=[],
            after={locked_alert.pk: memberships - {locked.pk}},
        )
    sync(incident, locked)
    return RemoveResult(incident=incident, alert=locked_alert, remains_in=others, change=change)
