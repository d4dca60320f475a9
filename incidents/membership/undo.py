"""Undo a move, a merge or a remove, while nothing has changed those alerts and incidents.

Each undoable operation records a `MembershipChange` in its own transaction: the relations
it deleted (whole rows), the ones it created, the incidents it closed, created or merged,
and every alert's incidents right after it. `undo_change` runs the inverse through the
same core (locks in the global order, recounts, activity entries) and is refused when a
later change makes it unsafe: an alert that has since joined or left an incident, an
incident reopened or merged since, a limit the undo would pass, or the undo window
(`TRIAGE_UNDO_MINUTES`, 15 by default) gone by. The log stays append-only: the undo writes
its own entries, naming the change and the entries it undoes.

Locks: the change's row first (two undos of one change queue, and the second is refused),
then alerts by id, then incidents by id.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from incidents import activity
from incidents.actions import close_locked, reopen_locked
from incidents.activity import Actor
from incidents.errors import ResourceNotFound, UndoRefused
from incidents.membership.core import lock_incidents, max_alerts, memberships_of, recount
from incidents.models import (
    ActivityEntry,
    ActivityKind,
    Alert,
    ChangeKind,
    Classification,
    Incident,
    MembershipChange,
    Relation,
)

MERGED_LABEL = "Merged"


def window() -> timedelta:
    return timedelta(minutes=settings.TRIAGE_UNDO_MINUTES)


# --- recording -----------------------------------------------------------------


def relation_rows(relations: QuerySet[Relation]) -> list[dict]:
    """The whole rows of alert relations about to be deleted, as a change keeps them."""
    return [
        {
            "incident": row["incident_id"],
            "alert": row["alert_id"],
            "name": row["name"],
            "reason": row["reason"],
            "details": row["details"],
            "created_by": row["created_by_id"],
            "created_by_name": row["created_by_name"],
            "created": row["created"].isoformat(),
        }
        for row in relations.filter(alert__isnull=False).values(
            "incident_id",
            "alert_id",
            "name",
            "reason",
            "details",
            "created_by_id",
            "created_by_name",
            "created",
        )
    ]


def record(
    kind: ChangeKind,
    *,
    uid: uuid.UUID,
    workspace_id: int,
    actor: Actor,
    summary: str,
    removed: list[dict],
    added: Iterable[tuple[int, int]],
    after: dict[int, set[int]],
    closed: Iterable[tuple[Incident, str]] = (),
    created: Incident | None = None,
    merge: dict | None = None,
    reopened: Iterable[tuple[Incident, dict]] = (),
) -> MembershipChange:
    """Remember a change so `undo_change` can invert it. `uid` tags its activity entries.

    `after` is every alert's incidents once the change is done; `closed` the incidents it
    closed, with the status each had before; `reopened` the closed incidents it reopened,
    with the classification each had.
    """
    closed = list(closed)
    reopened = list(reopened)
    data = {
        "removed": removed,
        "added": sorted(added),
        "after": sorted([alert, sorted(incidents)] for alert, incidents in after.items()),
        "closed": [{"incident": i.pk, "status": status} for i, status in closed],
        "created": created.pk if created else None,
    }
    if merge is not None:
        data["merge"] = merge
    if reopened:
        data["reopened"] = [{"incident": i.pk, **previous} for i, previous in reopened]
    touched = {row["incident"] for row in removed} | {i for i, _ in data["added"]}
    touched |= {i.pk for i, _ in closed} | ({created.pk} if created else set())
    touched |= {i.pk for i, _ in reopened}
    if merge is not None:
        touched |= {merge["into"], *merge["sources"]}
    change = MembershipChange.objects.create(
        uuid=uid,
        workspace_id=workspace_id,
        kind=kind,
        actor=actor.user,
        actor_name=actor.name,
        summary=summary[:300],
        data=data,
    )
    through = MembershipChange.incidents.through
    through.objects.bulk_create(
        through(membershipchange_id=change.pk, incident_id=pk) for pk in sorted(touched)
    )
    return change


# --- reading -------------------------------------------------------------------


def undo_refusal(change: MembershipChange) -> str | None:
    """Why `change` cannot be undone now, or None (no locks, no changes)."""
    if change.undone or timezone.now() - change.created > window():
        return _closed_window(change)
    alert_ids = [alert for alert, _ in change.data["after"]]
    alerts = Alert.objects.in_bulk(alert_ids)
    if len(alerts) != len(alert_ids):
        return "An alert of this change no longer exists."
    current = memberships_of(alert_ids)
    ids = _touched(change) | {i for incidents in current.values() for i in incidents}
    return _conflict(change, alerts, current, Incident.objects.in_bulk(ids))


def latest_undoable(incident: Incident) -> MembershipChange | None:
    """The most recent change touching `incident` that can still be undone."""
    recent = incident.membership_changes.filter(
        undone__isnull=True, created__gte=timezone.now() - window()
    ).order_by("-created", "-id")
    # A later change that cannot be undone does not hide an earlier one that still can.
    return next((change for change in recent if undo_refusal(change) is None), None)


def _closed_window(change: MembershipChange) -> str | None:
    if change.undone:
        when = timezone.localtime(change.undone).strftime("%H:%M")
        return f"This change was already undone by {change.undone_by_name} at {when}."
    if timezone.now() - change.created > window():
        minutes = settings.TRIAGE_UNDO_MINUTES
        when = timezone.localtime(change.created).strftime("%H:%M")
        return f"A change can be undone for {minutes} minutes; this one was made at {when}."
    return None


def _touched(change: MembershipChange) -> set[int]:
    data = change.data
    ids = {row["incident"] for row in data["removed"]} | {i for i, _ in data["added"]}
    ids |= {c["incident"] for c in data["closed"]}
    ids |= {r["incident"] for r in data.get("reopened", [])}
    if data["created"]:
        ids.add(data["created"])
    if "merge" in data:
        ids |= {data["merge"]["into"], *data["merge"]["sources"]}
    return ids


def _conflict(
    change: MembershipChange,
    alerts: dict[int, Alert],
    current: dict[int, set[int]],
    incidents: dict[int, Incident],
) -> str | None:
    """What has changed since `change` that its undo would overwrite, in plain words."""
    data = change.data

    def number(pk: int) -> str:
        if pk not in incidents:
            # An incident the alert has left since, which the change itself did not touch.
            found = Incident.objects.filter(pk=pk).values_list("number", flat=True).first()
            return f"#{found}" if found is not None else "an incident since deleted"
        return f"#{incidents[pk].number}"

    merged_by_this = data.get("merge", {}).get("sources", [])
    for pk in sorted(_touched(change)):
        # Its alerts would go back into an incident that now lives on in another one.
        incident = incidents.get(pk)
        if incident is not None and incident.merged_into_id and pk not in merged_by_this:
            later = Incident.objects.get(pk=incident.merged_into_id)
            return f"Incident #{incident.number} has since been merged into #{later.number}."
    for alert_id, after in data["after"]:
        now, then = current.get(alert_id, set()), set(after)
        name = f"“{alerts[alert_id].display_name}”"
        for pk in sorted(now - then):
            return f"Alert {name} has since been added to {number(pk)}."
        for pk in sorted(then - now):
            return f"Alert {name} has since been removed from {number(pk)}."
    for closed in data["closed"]:
        incident = incidents.get(closed["incident"])
        if incident is not None and not incident.is_closed:
            return f"Incident #{incident.number} has since been reopened."
    for reopened in data.get("reopened", []):
        incident = incidents.get(reopened["incident"])
        if incident is not None and incident.is_closed:
            return f"Incident #{incident.number} has since been closed."
    gained: dict[int, int] = defaultdict(int)
    for row in data["removed"]:
        gained[row["incident"]] += 1
    for pk, _ in data["added"]:
        gained[pk] -= 1
    limit = max_alerts()
    for pk, extra in sorted(gained.items()):
        incident = incidents[pk]
        if extra > 0 and incident.alert_count + extra > limit:
            return (
                f"Incident #{incident.number} now has {incident.alert_count} alerts; putting "
                f"{extra} back would pass the limit of {limit} alerts per incident."
            )
    return None


# --- undoing -------------------------------------------------------------------


@dataclass
class UndoResult:
    change: MembershipChange
    # Incident → how many alerts came back to it / left it again.
    restored: dict[Incident, int] = field(default_factory=dict)
    taken_out: dict[Incident, int] = field(default_factory=dict)
    reopened: list[Incident] = field(default_factory=list)
    closed: list[Incident] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = f"Undone: {self.change.summary}."
        if self.reopened:
            text += " Reopened " + ", ".join(f"#{i.number}" for i in self.reopened) + "."
        if self.closed:
            text += " Closed " + ", ".join(f"#{i.number}" for i in self.closed) + "."
        return text


def undo_change(change: MembershipChange, *, actor: Actor) -> UndoResult:
    """Invert `change`, or raise `UndoRefused` saying what changed since. Atomic."""
    with transaction.atomic():
        change = MembershipChange.objects.select_for_update().get(pk=change.pk)
        closed_window = _closed_window(change)
        if closed_window:
            raise UndoRefused(closed_window)
        data = change.data
        alert_ids = [alert for alert, _ in data["after"]]
        try:
            alerts = _lock_alert_ids(alert_ids)
        except ResourceNotFound:
            raise UndoRefused("An alert of this change no longer exists.") from None
        current = memberships_of(alert_ids)
        locked = lock_incidents(
            _touched(change) | {i for incidents in current.values() for i in incidents}
        )
        problem = _conflict(change, alerts, current, locked)
        if problem:
            raise UndoRefused(f"This change cannot be undone: {problem} Nothing was changed.")
        result = _invert(change, alerts, locked, actor)
        change.undone = timezone.now()
        change.undone_by_name = actor.name
        change.save(update_fields=["undone", "undone_by_name"])
    return result


def _lock_alert_ids(ids: Sequence[int]) -> dict[int, Alert]:
    rows = Alert.objects.select_for_update(no_key=True).filter(pk__in=sorted(ids)).order_by("pk")
    locked = {alert.pk: alert for alert in rows}
    if len(locked) != len(set(ids)):
        raise ResourceNotFound(next(i for i in ids if i not in locked))
    return locked


def _invert(
    change: MembershipChange, alerts: dict[int, Alert], locked: dict[int, Incident], actor: Actor
) -> UndoResult:
    data = change.data
    result = UndoResult(change=change)
    details = {"undoes": str(change.uuid)}

    taken_out: dict[int, list[int]] = defaultdict(list)
    for incident_id, alert_id in data["added"]:
        taken_out[incident_id].append(alert_id)
    if taken_out:
        Relation.objects.filter(
            _any(Q(incident_id=i, alert_id__in=ids) for i, ids in taken_out.items())
        ).delete()
    _restore(data["removed"])

    for closed in data["closed"]:
        incident = locked[closed["incident"]]
        reopen_locked(
            incident,
            actor=actor,
            status=closed["status"],
            message=f"{actor.label} reopened the incident, undoing: {change.summary}.",
            details=details,
        )
        result.reopened.append(incident)
    for reopened in data.get("reopened", []):
        incident = locked[reopened["incident"]]
        # Closed again as it was before the change reopened it.
        close_locked(
            incident,
            classification=reopened["classification"] or Classification.UNDETERMINED,
            reason=reopened["classification_reason"],
            comment=reopened["classification_comment"],
            actor=actor,
            details=details,
        )
        result.closed.append(incident)
    if "merge" in data:
        _unmerge(data["merge"], locked)

    touched = [locked[pk] for pk in sorted(_touched(change))]
    recount(touched)
    created = locked.get(data["created"]) if data["created"] else None
    if created is not None and created.alert_count == 0 and not created.is_closed:
        close_locked(
            created,
            classification=Classification.UNDETERMINED,
            reason="",
            comment=f"Emptied by undoing: {change.summary}.",
            actor=actor,
            details=details,
        )
        result.closed.append(created)

    restored: dict[int, int] = defaultdict(int)
    for row in data["removed"]:
        restored[row["incident"]] += 1
    undone_entries: dict[int, list[int]] = defaultdict(list)
    for incident_id, pk in ActivityEntry.objects.filter(
        incident__in=touched, details__change=str(change.uuid)
    ).values_list("incident_id", "pk"):
        undone_entries[incident_id].append(pk)
    when = timezone.localtime(change.created).strftime("%H:%M")
    entries = []
    for incident in touched:
        back, out = restored.get(incident.pk, 0), len(taken_out.get(incident.pk, []))
        message = (
            f"{actor.label} undid a change {change.actor_name} made at {when}: "
            f"{change.summary}."
            + (f" {_alerts(back)} came back to this incident." if back else "")
            + (f" {_alerts(out)} left this incident again." if out else "")
        )
        if back:
            result.restored[incident] = back
        if out:
            result.taken_out[incident] = out
        entries.append(
            activity.entry(
                incident,
                actor,
                ActivityKind.UNDONE,
                message,
                details={
                    "undoes": str(change.uuid),
                    "undone_entries": sorted(undone_entries.get(incident.pk, [])),
                    "kind": change.kind,
                },
            )
        )
    activity.write(entries)
    return result


def _any(conditions: Iterable[Q]) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


def _alerts(count: int) -> str:
    return "1 alert" if count == 1 else f"{count} alerts"


def _restore(rows: list[dict]) -> None:
    """Recreate deleted relations as they were: name (unless taken since), reason, author."""
    if not rows:
        return
    taken = set(
        Relation.objects.filter(
            incident_id__in={r["incident"] for r in rows}, name__in={r["name"] for r in rows}
        ).values_list("incident_id", "name")
    )
    Relation.objects.bulk_create(
        Relation(
            incident_id=row["incident"],
            alert_id=row["alert"],
            name=str(uuid.uuid4()) if (row["incident"], row["name"]) in taken else row["name"],
            reason=row["reason"],
            details=row["details"],
            created_by_id=row["created_by"],
            created_by_name=row["created_by_name"],
            created=datetime.fromisoformat(row["created"]),
        )
        for row in rows
    )


def _unmerge(merge: dict, locked: dict[int, Incident]) -> None:
    """Undo what a merge did to the incidents themselves, where no one has changed it since."""
    for pk in merge["sources"]:
        source = locked[pk]
        source.merged_into = None
        if pk in merge["labelled"] and MERGED_LABEL in source.labels:
            source.labels = [label for label in source.labels if label != MERGED_LABEL]
        source.save(update_fields=["merged_into", "labels", "modified"])
    target = locked[merge["into"]]
    before, after = merge["target_before"], merge["target_after"]
    changed = []
    for name in ("owner_id", "severity", "labels"):
        if getattr(target, name) == after[name] != before[name]:
            setattr(target, name, before[name])
            changed.append(name.removesuffix("_id"))
    if changed:
        target.save(update_fields=[*changed, "modified"])
