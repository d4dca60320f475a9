"""Each grouping method: what an alert is grouped by, and how that reads.

Exact methods (all matching alerts, the same entities, the selected entities and
details) give an alert a group key: alerts with the same key of the same rule belong
together, and an incident made for a key remembers it (`Incident.group_key`). The
shared-entity method has no key: an alert joins a group that holds one of its strong
entities of the rule's kinds.
"""

import hashlib
import ipaddress
import json
from collections import Counter
from dataclasses import dataclass

from incidents.models import Alert, CorrelationRule, EntityKind, GroupingMethod
from incidents.rules.facts import EntityFact, Excluded

DETAILS = {"name": "alert name", "severity": "severity", "product": "product"}
# More entities of one kind than this in one alert, and none of them joins it to others.
BROAD = 3


@dataclass(frozen=True)
class Grouping:
    """What one alert is grouped by under one rule."""

    key: str
    # The values the group shares, as relations keep them: [{kind, identifier, display}].
    values: tuple[dict, ...]
    # SHARED_ENTITY: the entities that may join it to a group, in the order of `values`.
    ids: tuple[int, ...] = ()

    @property
    def entity_ids(self) -> frozenset[int]:
        return frozenset(self.ids)

    def values_of(self, entity_ids: set[int]) -> list[dict]:
        """The values of the given entities (those shared with a group)."""
        return [v for v, i in zip(self.values, self.ids, strict=True) if i in entity_ids]


def _key(parts: object) -> str:
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _usable(entities: list[EntityFact], excluded: Excluded) -> list[EntityFact]:
    return [e for e in entities if e.id not in excluded]


def grouping(
    rule: CorrelationRule, alert: Alert, entities: list[EntityFact], excluded: Excluded
) -> Grouping | None:
    """How `rule` groups `alert`, or None when its method cannot (no entity to match on)."""
    usable = _usable(entities, excluded)
    if rule.method == GroupingMethod.ANY_ALERT:
        return Grouping(_key([rule.pk]), ())
    if rule.method == GroupingMethod.ALL_ENTITIES:
        if not usable:
            return None
        return Grouping(
            _key([rule.pk, sorted(e.id for e in usable)]), tuple(e.as_detail() for e in usable)
        )
    if rule.method == GroupingMethod.SELECTED:
        return _selected(rule, alert, usable)
    kinds = set(rule.entity_kinds)
    shared = [e for e in usable if _joins(e) and (not kinds or e.kind in kinds)]
    # An alert that names many entities of a kind (a password spray's targeted accounts)
    # says little about each: they do not join it to others.
    per_kind = Counter(e.kind for e in shared)
    shared = [e for e in shared if per_kind[e.kind] <= BROAD]
    if not shared:
        return None
    return Grouping("", tuple(e.as_detail() for e in shared), tuple(e.id for e in shared))


def _joins(entity: EntityFact) -> bool:
    """Whether an entity can join alerts by being shared: a strong identifier, and for an
    IP address a public one (private addresses repeat across networks, NAT and VPNs)."""
    if not entity.strong:
        return False
    if entity.kind == EntityKind.IP:
        try:
            return ipaddress.ip_address(entity.identifier.removeprefix("ip:")).is_global
        except ValueError:
            return False
    return True


def _selected(rule: CorrelationRule, alert: Alert, usable: list[EntityFact]) -> Grouping | None:
    parts: list[object] = [rule.pk]
    values: list[dict] = []
    for kind in rule.entity_kinds:
        of_kind = [e for e in usable if e.kind == kind]
        if not of_kind:
            return None
        parts.append([kind, sorted(e.id for e in of_kind)])
        values.extend(e.as_detail() for e in of_kind)
    detail_values = {
        "name": alert.display_name.casefold(),
        "severity": alert.severity,
        "product": alert.product_name.casefold(),
    }
    for detail in rule.match_details:
        if detail in detail_values:
            parts.append([detail, detail_values[detail]])
            shown = {"name": alert.display_name, "product": alert.product_name}
            values.append(
                {
                    "kind": DETAILS[detail],
                    "identifier": detail_values[detail],
                    "display": shown.get(detail, detail_values[detail]),
                }
            )
    properties = alert.extended_properties if isinstance(alert.extended_properties, dict) else {}
    for name in rule.custom_details:
        if name not in properties:
            return None
        parts.append(["custom", name, properties[name]])
        values.append(
            {"kind": name, "identifier": str(properties[name]), "display": str(properties[name])}
        )
    if len(parts) == 1:
        return None  # Nothing selected: the rule cannot tell groups apart.
    return Grouping(_key(parts), tuple(values))


def describe(values: list[dict] | tuple[dict, ...]) -> str:
    """ "same host mb-winclient, same account bjenkins" for matched values."""
    labels = dict(EntityKind.choices)
    parts = []
    for value in values:
        kind = labels.get(value["kind"], value["kind"])
        kind = kind if kind in ("IP", "URL", "DNS") else kind.lower()
        parts.append(f"same {kind} {value['display']}")
    return ", ".join(parts)
