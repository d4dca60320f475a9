"""The API's named relations (Sentinel's Incident Relations)."""

from django.db import transaction

from incidents import activity
from incidents.activity import Actor
from incidents.errors import (
    AlertNotInIncident,
    BookmarkAlreadyInIncident,
    DifferentWorkspace,
    RelationNameTaken,
    RelationTypeConflict,
)
from incidents.membership.add import add_alerts
from incidents.membership.core import (
    lock_alerts,
    lock_incidents,
    memberships_of,
    sync,
)
from incidents.membership.remove import remove_alert
from incidents.models import (
    ActivityKind,
    Alert,
    Bookmark,
    Incident,
    Relation,
    RelationReason,
)


def put_relation(
    incident: Incident, name: str, resource: Alert | Bookmark, *, actor: Actor
) -> tuple[Relation, bool]:
    """Create relation `name` to `resource`, or find it as it is: (relation, created)."""
    with transaction.atomic():
        others: set[int] = set()
        if isinstance(resource, Alert):
            (alert,) = lock_alerts([resource])
            # `add_alerts` locks the alert's incidents too: take them all now, in id order.
            others = memberships_of([alert.pk])[alert.pk]
        target = lock_incidents({incident.pk} | others)[incident.pk]
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
        sync(incident, target)
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
        lock_incidents([incident.pk])
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
