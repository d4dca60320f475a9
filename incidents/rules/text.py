"""How a rule's settings read on its pages and in its change log."""

import datetime as dt
from typing import Any

from incidents.models import CorrelationRule, EntityKind, GroupingMethod, RuleChange, Severity
from incidents.rules.engine import window_text
from incidents.rules.grouping import DETAILS

# The settings a rule's form edits, in the order the change log lists them.
FIELD_LABELS = {
    "name": "Name",
    "description": "Description",
    "enabled": "Enabled",
    "name_contains": "Alert name contains",
    "name_equals": "Alert name equals",
    "product_names": "Product names",
    "provider_names": "Provider names",
    "min_severity": "Severity at least",
    "tactics": "Tactics include",
    "alert_types": "Alert types",
    "entity_kinds_present": "Entity kinds present",
    "method": "Grouping method",
    "entity_kinds": "Entity kinds to match",
    "match_details": "Alert details to match",
    "custom_details": "Custom details to match",
    "window": "Window",
    "reopen_closed": "Re-open closed matching incidents",
    "position": "Position",
}
KIND_LABELS = dict(EntityKind.choices)
METHOD_LABELS = dict(GroupingMethod.choices)
METHOD_SHORT = {
    GroupingMethod.ANY_ALERT: "All matching alerts",
    GroupingMethod.ALL_ENTITIES: "All entities match",
    GroupingMethod.SELECTED: "Selected entities and details",
    GroupingMethod.SHARED_ENTITY: "Shared strong entity",
}


def logged(field: str, value: Any) -> Any:
    """A setting as the change log keeps it (JSON, readable as it was)."""
    if isinstance(value, dt.timedelta):
        return window_text(value)
    if field == "method":
        return METHOD_LABELS.get(value, value)
    if field in ("entity_kinds", "entity_kinds_present"):
        return [KIND_LABELS.get(v, v) for v in value]
    if field == "match_details":
        return [DETAILS.get(v, v) for v in value]
    return value


def shown(value: Any) -> str:
    """A logged value in words: lists joined, booleans as on/off, nothing as "—"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if value is None or value == "":
        return "—"
    return str(value)


def change_lines(change: RuleChange) -> list[tuple[str, str, str]]:
    """A change log entry's lines: (setting, before, after) in words."""
    return [
        (FIELD_LABELS.get(field, field), shown(before), shown(after))
        for field, (before, after) in change.changes.items()
    ]


def conditions(rule: CorrelationRule) -> list[str]:
    """The rule's conditions in words; empty when it holds for every alert."""
    parts = []
    if rule.name_contains:
        parts.append(f"name contains “{rule.name_contains}”")
    if rule.name_equals:
        parts.append(f"name is “{rule.name_equals}”")
    if rule.product_names:
        parts.append("product: " + " or ".join(rule.product_names))
    if rule.provider_names:
        parts.append("provider: " + " or ".join(rule.provider_names))
    if rule.min_severity:
        lowest = rule.min_severity == Severity.INFORMATIONAL
        parts.append(f"severity {rule.min_severity}{'' if lowest else ' or higher'}")
    if rule.tactics:
        parts.append("tactics include " + " or ".join(rule.tactics))
    if rule.alert_types:
        parts.append("alert type: " + " or ".join(rule.alert_types))
    if rule.entity_kinds_present:
        kinds = ", ".join(KIND_LABELS.get(k, k) for k in rule.entity_kinds_present)
        parts.append(f"has an entity of each kind: {kinds}")
    return parts


def grouping(rule: CorrelationRule) -> str:
    """What the rule's method groups alerts by, in words."""
    kinds = ", ".join(KIND_LABELS.get(k, k) for k in rule.entity_kinds)
    if rule.method == GroupingMethod.SHARED_ENTITY:
        return f"share a strong entity ({kinds or 'any kind'})"
    if rule.method == GroupingMethod.SELECTED:
        parts = [f"entities ({kinds})"] if kinds else []
        parts += [DETAILS.get(d, d) for d in rule.match_details]
        parts += [f"custom detail {c}" for c in rule.custom_details]
        return "match on " + ", ".join(parts)
    if rule.method == GroupingMethod.ALL_ENTITIES:
        return "have exactly the same entities"
    return "match the conditions"
