"""A rule's conditions: all must hold, and an empty one holds for every alert."""

from incidents.models import SEVERITY_ORDER, Alert, CorrelationRule
from incidents.rules.facts import EntityFact


def _folded(values: list[str]) -> set[str]:
    return {str(v).casefold() for v in values if str(v).strip()}


def holds(rule: CorrelationRule, alert: Alert, entities: list[EntityFact]) -> bool:
    name = alert.display_name.casefold()
    if rule.name_contains and rule.name_contains.casefold() not in name:
        return False
    if rule.name_equals and rule.name_equals.casefold() != name:
        return False
    if rule.product_names and alert.product_name.casefold() not in _folded(rule.product_names):
        return False
    if rule.provider_names and alert.provider_name.casefold() not in _folded(rule.provider_names):
        return False
    if rule.min_severity and SEVERITY_ORDER.index(alert.severity) > SEVERITY_ORDER.index(
        rule.min_severity
    ):
        return False
    tactics = alert.tactics if isinstance(alert.tactics, list) else []
    if rule.tactics and not _folded(rule.tactics) & _folded(tactics):
        return False
    if rule.alert_types and alert.alert_type.casefold() not in _folded(rule.alert_types):
        return False
    kinds = {e.kind for e in entities}
    return all(kind in kinds for kind in rule.entity_kinds_present)
