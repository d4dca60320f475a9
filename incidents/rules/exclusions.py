"""Values an analyst marks "too common to correlate on", and whether a value is excluded.

The exclusion row itself says who excluded the value, when and why; nothing else is
recorded. Allowing the value again deletes the row.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from incidents.models import CorrelationExclusion, Entity, Workspace
from incidents.rules import facts


@dataclass(frozen=True)
class CorrelationStatus:
    """Why `entity` never joins alerts by itself: an analyst's exclusion, or the guard."""

    exclusion: CorrelationExclusion | None
    # The automatic guard's reason ("in 38 of the workspace's 500 alerts…"), else "".
    too_common: str

    @property
    def excluded(self) -> bool:
        return self.exclusion is not None or bool(self.too_common)


def correlation_status(
    workspace: Workspace, entity: Entity, now: dt.datetime | None = None
) -> CorrelationStatus:
    exclusion = (
        CorrelationExclusion.objects.filter(workspace=workspace, entity=entity)
        .select_related("created_by")
        .first()
    )
    if exclusion is not None:
        return CorrelationStatus(exclusion, "")
    found = facts.excluded(workspace, {entity.pk}, now or timezone.now(), analysts=False)
    reason = found.reasons.get(entity.pk, "")
    return CorrelationStatus(None, reason.removeprefix("too common: "))


def exclude_entity(
    workspace: Workspace, entity: Entity, *, acting_user: AbstractBaseUser, reason: str = ""
) -> tuple[CorrelationExclusion, bool]:
    """Exclude `entity` from correlation; a second exclusion keeps the first (and its
    author). Returns the exclusion and whether it is new."""
    return CorrelationExclusion.objects.get_or_create(
        workspace=workspace,
        entity=entity,
        defaults={"reason": reason.strip(), "created_by": acting_user},
    )


def allow_entity(workspace: Workspace, entity: Entity) -> bool:
    """Let `entity` correlate again; whether it was excluded."""
    deleted, _ = CorrelationExclusion.objects.filter(workspace=workspace, entity=entity).delete()
    return bool(deleted)
