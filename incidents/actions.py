"""Triage actions on one incident: owner, status, severity, labels, closing, reopening,
comments.

Each locks the incident row, re-reads it, changes it and writes its activity entry in
the same transaction. Alert membership is not here: see `incidents.membership`.
"""

import unicodedata
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from incidents import activity
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
    return Incident.objects.select_for_update().get(pk=incident.pk)


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


def change_status(incident: Incident, status: str, *, actor: Actor) -> Incident:
    """Move between New and Active. Closing and reopening have their own actions."""
    if status not in (IncidentStatus.NEW, IncidentStatus.ACTIVE):
        raise InvalidChange(
            "Status can be set to New or Active here; use close or reopen for Closed."
        )
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


def add_label(incident: Incident, text: str, *, actor: Actor) -> Incident:
    """Add a label; one the incident has already (in any case) changes nothing."""
    label = check_label(text)
    with transaction.atomic():
        locked = _lock(incident)
        labels = list(locked.labels or [])
        if label.casefold() in {str(x).casefold() for x in labels}:
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
