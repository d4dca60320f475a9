"""Triage actions on one incident: owner, status, severity, labels, closing, reopening,
comments; and the queue's bulk actions, the same changes on many incidents at once.

Each locks the incident row, re-reads it, changes it and writes its activity entry in
the same transaction. Alert membership is not here: see `incidents.membership`.
"""

import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from incidents import activity, bulk, entity_index
from incidents.activity import Actor
from incidents.errors import InvalidChange
from incidents.models import (
    CLASSIFICATION_REASONS,
    ActivityKind,
    Classification,
    ClassificationReason,
    Incident,
    IncidentStatus,
    Membership,
    Role,
    Severity,
)

MAX_COMMENT_LENGTH = 30_000
MAX_LABEL_LENGTH = 100
MAX_LABELS = 50


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update(no_key=True).get(pk=incident.pk)


def _refresh(incident: Incident, locked: Incident) -> Incident:
    """Copy the locked row's values onto the caller's object, so it sees the change."""
    for f in Incident._meta.concrete_fields:
        # setattr, not __dict__: a changed foreign key must drop its cached object (owner).
        setattr(incident, f.attname, getattr(locked, f.attname))
    return incident


def check_comment(text: str, *, required: bool = False) -> str:
    text = (text or "").strip()
    if required and not text:
        raise InvalidChange("A comment cannot be empty.")
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidChange(f"A comment can be at most {MAX_COMMENT_LENGTH:,} characters long.")
    if "\x00" in text:
        raise InvalidChange("A comment cannot contain NUL characters.")
    return text


def _check_can_own(incident: Incident, owner: AbstractBaseUser) -> None:
    """An owner acts on the incident: a responder or contributor of its workspace."""
    member = Membership.objects.filter(workspace_id=incident.workspace_id, user=owner).first()
    if member is None:
        raise InvalidChange(f"{owner.get_username()} is not a member of this workspace.")
    if not member.allows(Role.RESPONDER):
        raise InvalidChange(
            f"{owner.get_username()} is a reader of this workspace and cannot act on incidents: "
            "choose a responder or a contributor."
        )


def assign_owner(incident: Incident, owner: AbstractBaseUser | None, *, actor: Actor) -> Incident:
    with transaction.atomic():
        locked = _lock(incident)
        if owner is not None:
            _check_can_own(locked, owner)
        if locked.owner_id == (owner.pk if owner else None):
            return _refresh(incident, locked)
        previous = locked.owner.get_username() if locked.owner else None
        locked.owner = owner
        locked.save(update_fields=["owner", "modified"])
        new = owner.get_username() if owner else None
        activity.record(
            locked,
            actor,
            ActivityKind.OWNER,
            f"{actor.label} assigned the incident to {new}."
            if new
            else f"{actor.label} unassigned the incident.",
            details={"from": previous, "to": new},
        )
    return _refresh(incident, locked)


def check_status(status: str) -> None:
    if status not in (IncidentStatus.NEW, IncidentStatus.ACTIVE):
        raise InvalidChange(
            "Status can be set to New or Active here; use close or reopen for Closed."
        )


def change_status(incident: Incident, status: str, *, actor: Actor) -> Incident:
    """Move between New and Active. Closing and reopening have their own actions."""
    check_status(status)
    with transaction.atomic():
        locked = _lock(incident)
        if locked.is_closed:
            raise InvalidChange(f"Incident #{locked.number} is closed; reopen it first.")
        if locked.status == status:
            return _refresh(incident, locked)
        previous = locked.status
        locked.status = status
        locked.save(update_fields=["status", "modified"])
        activity.record(
            locked,
            actor,
            ActivityKind.STATUS,
            f"{actor.label} changed the status from {previous} to {status}.",
            details={"from": previous, "to": status},
        )
    return _refresh(incident, locked)


def change_severity(incident: Incident, severity: str, *, actor: Actor) -> Incident:
    """Set the severity an analyst judges right, whatever its alerts say."""
    if severity not in Severity.values:
        raise InvalidChange(f"Severity must be one of {', '.join(Severity.values)}.")
    with transaction.atomic():
        locked = _lock(incident)
        if locked.severity == severity:
            return _refresh(incident, locked)
        previous = locked.severity
        locked.severity = severity
        locked.save(update_fields=["severity", "modified"])
        activity.record(
            locked,
            actor,
            ActivityKind.SEVERITY,
            f"{actor.label} changed the severity from {previous} to {severity}.",
            details={"from": previous, "to": severity},
        )
    return _refresh(incident, locked)


def check_label(text: str) -> str:
    label = " ".join((text or "").split())
    if not label:
        raise InvalidChange("A label cannot be empty.")
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidChange(f"A label can be at most {MAX_LABEL_LENGTH} characters long.")
    if any(unicodedata.category(c) == "Cc" for c in label):
        raise InvalidChange("A label cannot contain control characters.")
    return label


def _has_label(incident: Incident, label: str) -> bool:
    return label.casefold() in {str(x).casefold() for x in incident.labels or []}


def add_label(incident: Incident, text: str, *, actor: Actor) -> Incident:
    """Add a label; one the incident has already (in any case) changes nothing."""
    label = check_label(text)
    with transaction.atomic():
        locked = _lock(incident)
        labels = list(locked.labels or [])
        if _has_label(locked, label):
            return _refresh(incident, locked)
        if len(labels) >= MAX_LABELS:
            raise InvalidChange(f"An incident can have at most {MAX_LABELS} labels.")
        locked.labels = [*labels, label]
        locked.save(update_fields=["labels", "modified"])
        activity.record(
            locked,
            actor,
            ActivityKind.LABELS,
            f"{actor.label} added the label {label}.",
            details={"added": label},
        )
    return _refresh(incident, locked)


def remove_label(incident: Incident, label: str, *, actor: Actor) -> Incident:
    """Remove a label; one the incident no longer has changes nothing."""
    with transaction.atomic():
        locked = _lock(incident)
        labels = list(locked.labels or [])
        if label not in labels:
            return _refresh(incident, locked)
        locked.labels = [x for x in labels if x != label]
        locked.save(update_fields=["labels", "modified"])
        activity.record(
            locked,
            actor,
            ActivityKind.LABELS,
            f"{actor.label} removed the label {label}.",
            details={"removed": label},
        )
    return _refresh(incident, locked)


def check_classification(classification: str, reason: str) -> tuple[str, str]:
    if classification not in Classification.values:
        raise InvalidChange("Choose a classification to close the incident.")
    allowed = CLASSIFICATION_REASONS[Classification(classification)]
    if not allowed:
        if reason:
            raise InvalidChange(
                f"An {Classification(classification).label} classification takes no reason."
            )
        return classification, ""
    if reason not in allowed:
        choices = ", ".join(ClassificationReason(r).label for r in allowed)
        raise InvalidChange(
            f"A {Classification(classification).label} classification needs a reason: {choices}."
        )
    return classification, reason


def close_locked(
    locked: Incident,
    *,
    classification: str,
    reason: str,
    comment: str,
    actor: Actor,
    details: dict | None = None,
) -> None:
    """Close an incident whose row the caller has locked (shared with the membership module)."""
    previous = locked.status
    locked.status = IncidentStatus.CLOSED
    locked.classification = classification
    locked.classification_reason = reason
    locked.classification_comment = comment
    locked.closed = timezone.now()
    locked.save(
        update_fields=[
            "status",
            "classification",
            "classification_reason",
            "classification_comment",
            "closed",
            "modified",
        ]
    )
    entity_index.set_open([locked.pk], False)
    label = Classification(classification).label
    if reason:
        label += f" – {ClassificationReason(reason).label.lower()}"
    activity.record(
        locked,
        actor,
        ActivityKind.CLOSED,
        f"{actor.label} closed the incident as {label}.",
        comment=comment,
        details={
            "from": previous,
            "classification": classification,
            "classification_reason": reason,
            **(details or {}),
        },
    )


def close_incident(
    incident: Incident,
    *,
    classification: str,
    reason: str = "",
    comment: str = "",
    actor: Actor,
) -> Incident:
    classification, reason = check_classification(classification, reason)
    comment = check_comment(comment)
    with transaction.atomic():
        locked = _lock(incident)
        if locked.is_closed:
            raise InvalidChange(f"Incident #{locked.number} is already closed.")
        close_locked(
            locked, classification=classification, reason=reason, comment=comment, actor=actor
        )
    return _refresh(incident, locked)


def reopen_locked(
    locked: Incident,
    *,
    actor: Actor,
    comment: str = "",
    status: str = IncidentStatus.ACTIVE,
    message: str = "",
    details: dict | None = None,
) -> None:
    """Reopen an incident whose row the caller has locked (shared with the membership module)."""
    previous = {
        "classification": locked.classification,
        "classification_reason": locked.classification_reason,
        "classification_comment": locked.classification_comment,
    }
    locked.status = status
    locked.classification = ""
    locked.classification_reason = ""
    locked.classification_comment = ""
    locked.closed = None
    locked.save(
        update_fields=[
            "status",
            "classification",
            "classification_reason",
            "classification_comment",
            "closed",
            "modified",
        ]
    )
    entity_index.set_open([locked.pk], True)
    activity.record(
        locked,
        actor,
        ActivityKind.REOPENED,
        message or f"{actor.label} reopened the incident.",
        comment=comment,
        details={"previous": previous, **(details or {})},
    )


def reopen_incident(incident: Incident, *, actor: Actor, comment: str = "") -> Incident:
    comment = check_comment(comment)
    with transaction.atomic():
        locked = _lock(incident)
        if not locked.is_closed:
            raise InvalidChange(f"Incident #{locked.number} is not closed.")
        reopen_locked(locked, actor=actor, comment=comment)
    return _refresh(incident, locked)


def add_comment(incident: Incident, text: str, *, actor: Actor, comment_id: str = ""):
    """Comment on the incident. `comment_id` names the comment (the API's commentId)."""
    text = check_comment(text, required=True)
    with transaction.atomic():
        locked = _lock(incident)
        locked.save(update_fields=["modified"])
        return activity.record(
            locked,
            actor,
            ActivityKind.COMMENT,
            f"{actor.label} commented.",
            comment=text,
            details={"comment_id": comment_id or str(uuid.uuid4())},
        )


# --- the same change on many incidents (the queue's bulk actions) -----------------------
#
# Each plans the change on every selected incident (the dialog previews the same plan),
# locks all their rows, plans again on the locked rows and refuses the whole selection if
# any incident cannot take the change. Then one UPDATE and one insert of activity entries,
# however many incidents are selected: an entry for each incident changed.


@dataclass(frozen=True)
class BulkChange:
    """What a bulk action does to one incident: `before` becomes `after` (equal: nothing)."""

    incident: Incident
    before: str
    after: str

    @property
    def changes(self) -> bool:
        return self.before != self.after


def _numbers(incidents: Sequence[Incident]) -> str:
    return ", ".join(f"#{i.number}" for i in incidents)


def _refuse_any(incidents: Sequence[Incident], why: str) -> None:
    if incidents:
        raise InvalidChange(f"{_numbers(incidents)} {why} Nothing was changed.")


def _owner_name(incident: Incident) -> str:
    return incident.owner.get_username() if incident.owner_id else "Unassigned"


def plan_owner(incidents: Sequence[Incident], owner: AbstractBaseUser | None) -> list[BulkChange]:
    after = owner.get_username() if owner else "Unassigned"
    return [BulkChange(i, _owner_name(i), after) for i in incidents]


def plan_status(incidents: Sequence[Incident], status: str) -> list[BulkChange]:
    check_status(status)
    closed = [i for i in incidents if i.is_closed]
    _refuse_any(closed, "closed: reopen them first, or leave them out of the selection.")
    return [BulkChange(i, i.status, status) for i in incidents]


def closed_as(classification: str, reason: str) -> str:
    """ "True Positive – suspicious activity": a classification as the activity log says it."""
    label = Classification(classification).label
    return f"{label} – {ClassificationReason(reason).label.lower()}" if reason else label


def plan_close(incidents: Sequence[Incident], classification: str, reason: str) -> list[BulkChange]:
    classification, reason = check_classification(classification, reason)
    closed = [i for i in incidents if i.is_closed]
    _refuse_any(closed, "already closed: leave them out of the selection.")
    after = f"Closed as {closed_as(classification, reason)}"
    return [BulkChange(i, i.status, after) for i in incidents]


def plan_label(incidents: Sequence[Incident], text: str) -> list[BulkChange]:
    label = check_label(text)
    plan = []
    for incident in incidents:
        labels = list(incident.labels or [])
        after = labels if _has_label(incident, label) else [*labels, label]
        plan.append(BulkChange(incident, ", ".join(labels), ", ".join(after)))
    full = [c.incident for c in plan if c.changes and len(c.incident.labels or []) >= MAX_LABELS]
    _refuse_any(full, f"already have {MAX_LABELS} labels, the most an incident can have.")
    return plan


def _lock_all(incidents: Sequence[Incident]) -> list[Incident]:
    """The incidents' rows, locked in one fixed order (by id): two bulk changes of
    overlapping selections wait for each other instead of deadlocking."""
    rows = Incident.objects.select_for_update(of=("self",), no_key=True).select_related("owner")
    locked = list(rows.filter(pk__in=[i.pk for i in incidents]).order_by("pk"))
    if len(locked) != len({i.pk for i in incidents}):
        raise InvalidChange(
            "Some of the selected incidents no longer exist. Reload the list and select them "
            "again; nothing was changed."
        )
    return locked


def _update(plan: Sequence[BulkChange], **values) -> None:
    """Set the same `values` on every incident the plan changes, in one UPDATE."""
    changed = [c.incident.pk for c in plan]
    Incident.objects.filter(pk__in=changed).update(**values, modified=timezone.now())


def bulk_assign_owner(
    incidents: Sequence[Incident], owner: AbstractBaseUser | None, *, actor: Actor
) -> list[BulkChange]:
    with transaction.atomic():
        locked = _lock_all(incidents)
        if owner is not None and locked:
            _check_can_own(locked[0], owner)
        plan = [c for c in plan_owner(locked, owner) if c.changes]
        _update(plan, owner=owner)
        new = owner.get_username() if owner else None
        message = (
            f"{actor.label} assigned the incident to {new}."
            if new
            else f"{actor.label} unassigned the incident."
        )
        entries = [
            activity.entry(
                c.incident,
                actor,
                ActivityKind.OWNER,
                message,
                details={
                    "from": c.incident.owner.get_username() if c.incident.owner_id else None,
                    "to": new,
                    "bulk": True,
                },
            )
            for c in plan
        ]
        activity.write(entries)
    return plan


def bulk_change_status(
    incidents: Sequence[Incident], status: str, *, actor: Actor
) -> list[BulkChange]:
    """Move between New and Active; refused for the whole selection if any is closed."""
    with transaction.atomic():
        plan = [c for c in plan_status(_lock_all(incidents), status) if c.changes]
        _update(plan, status=status)
        entries = [
            activity.entry(
                c.incident,
                actor,
                ActivityKind.STATUS,
                f"{actor.label} changed the status from {c.before} to {status}.",
                details={"from": c.before, "to": status, "bulk": True},
            )
            for c in plan
        ]
        activity.write(entries)
    return plan


def bulk_close(
    incidents: Sequence[Incident],
    *,
    classification: str,
    reason: str = "",
    comment: str = "",
    actor: Actor,
) -> list[BulkChange]:
    """Close every selected incident with one classification; refused for the whole
    selection if any is closed already."""
    classification, reason = check_classification(classification, reason)
    comment = check_comment(comment)
    with transaction.atomic():
        plan = plan_close(_lock_all(incidents), classification, reason)
        _update(
            plan,
            status=IncidentStatus.CLOSED,
            classification=classification,
            classification_reason=reason,
            classification_comment=comment,
            closed=timezone.now(),
        )
        entity_index.set_open([c.incident.pk for c in plan], False)
        entries = [
            activity.entry(
                c.incident,
                actor,
                ActivityKind.CLOSED,
                f"{actor.label} closed the incident as {closed_as(classification, reason)}.",
                comment=comment,
                details={
                    "from": c.before,
                    "classification": classification,
                    "classification_reason": reason,
                    "bulk": True,
                },
            )
            for c in plan
        ]
        activity.write(entries)
    return plan


def bulk_add_label(incidents: Sequence[Incident], text: str, *, actor: Actor) -> list[BulkChange]:
    """Add one label to every selected incident that has not got it (in any case)."""
    label = check_label(text)
    with transaction.atomic():
        plan = [c for c in plan_label(_lock_all(incidents), label) if c.changes]
        now = timezone.now()
        for change in plan:
            change.incident.labels = [*(change.incident.labels or []), label]
            change.incident.modified = now
        # Each incident keeps its own labels: one UPDATE of many values.
        bulk.update([c.incident for c in plan], ["labels", "modified"])
        entries = [
            activity.entry(
                c.incident,
                actor,
                ActivityKind.LABELS,
                f"{actor.label} added the label {label}.",
                details={"added": label, "bulk": True},
            )
            for c in plan
        ]
        activity.write(entries)
    return plan
