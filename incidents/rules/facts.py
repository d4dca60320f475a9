"""What the rules know about new alerts' entities, and which values never group.

A value never joins alerts by itself when an analyst excluded it ("too common to
correlate on") or when the automatic guard finds it in more than the workspace's
`common_entity_share` of its alerts of the last `GUARD_DAYS` days, and in more than
`COMMON_MINIMUM` of them (so in a young workspace an attack's host is not "common").
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from incidents import alert_days
from incidents.models import Alert, CorrelationExclusion, EntityIdentifier, Workspace

GUARD_DAYS = 7
COMMON_MINIMUM = 20


@dataclass(frozen=True)
class EntityFact:
    id: int
    kind: str
    identifier: str
    display: str
    # Known by one of Sentinel's strong identifiers (a UPN, an FQDN, a hash…).
    strong: bool

    @property
    def label(self) -> str:
        return self.display or self.identifier

    def as_detail(self) -> dict:
        return {"kind": self.kind, "identifier": self.identifier, "display": self.label}


@dataclass(frozen=True)
class Excluded:
    # Entity id → why: "excluded by alice: domain controller" or "in 38% of alerts".
    reasons: dict[int, str]

    def __contains__(self, entity_id: int) -> bool:
        return entity_id in self.reasons


def entity_facts(alerts: Sequence[Alert]) -> dict[int, list[EntityFact]]:
    """Alert id → its entities, in two queries whatever the number of alerts."""
    through = Alert.entities.through
    rows = through.objects.filter(alert_id__in=[a.pk for a in alerts]).values_list(
        "alert_id",
        "entity_id",
        "entity__kind",
        "entity__identifier",
        "entity__display_name",
    )
    rows = list(rows)
    strong = set(
        EntityIdentifier.objects.filter(
            entity_id__in={r[1] for r in rows}, strong=True
        ).values_list("entity_id", flat=True)
    )
    found: dict[int, list[EntityFact]] = defaultdict(list)
    for alert_id, entity_id, kind, identifier, display in rows:
        found[alert_id].append(
            EntityFact(entity_id, kind, identifier, display, entity_id in strong)
        )
    for facts in found.values():
        facts.sort(key=lambda f: (f.kind, f.identifier))
    return found


def excluded(
    workspace: Workspace, entity_ids: set[int], now: dt.datetime, *, analysts: bool = True
) -> Excluded:
    """The entities among `entity_ids` that must not join alerts by themselves.

    `analysts=False` leaves out the analysts' exclusions (a caller that read them itself).
    The week's counts come from the alerts per day (`alert_days`): whole UTC days, the
    `GUARD_DAYS` before `now`'s day and that day; two queries however many values and
    alerts there are.
    """
    reasons: dict[int, str] = {}
    if not entity_ids:
        return Excluded(reasons)
    if analysts:
        for entity_id, reason, who in CorrelationExclusion.objects.filter(
            workspace=workspace, entity_id__in=entity_ids
        ).values_list("entity_id", "reason", "created_by__username"):
            reasons[entity_id] = f"excluded by {who or 'an administrator'}" + (
                f": {reason}" if reason else ""
            )
    total = alert_days.total(workspace, now, GUARD_DAYS)
    limit = max(total * workspace.common_entity_share, COMMON_MINIMUM)
    counts = alert_days.entities_above(entity_ids - set(reasons), now, GUARD_DAYS, limit)
    for entity_id, n in counts.items():
        reasons[entity_id] = (
            f"too common: in {n:,} of the workspace's {total:,} alerts of the last "
            f"{GUARD_DAYS} days (more than {workspace.common_entity_share:.0%})"
        )
    return Excluded(reasons)
