"""Why an alert is in an incident, in words: the "why is this here?" of the alert page
and the incident's Alerts tab, read from the relation's reason, details and creator."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from incidents.models import GroupingMethod, RelationReason
from incidents.rules.grouping import describe

DEFAULT_PROVIDER = "Defender XDR"


@dataclass(frozen=True)
class Explanation:
    """One relation's reason: `text`, or rule “`rule_name`” (linked by `rule_url`): `text`."""

    text: str
    rule_name: str = ""
    rule_url: str = ""
    # A merged relation: why it was in the incident it came from.
    earlier: "Explanation | None" = None

    def __str__(self) -> str:
        words = f"Rule “{self.rule_name}”: {self.text}" if self.rule_name else self.text
        return f"{words} · before: {self.earlier}" if self.earlier else words


def explain(reason: str, details: dict, *, who: str = "", system_alert_id: str = "") -> Explanation:
    """The wording of a relation of `reason` with `details`, made by `who` (a user name or
    a system actor's name); `system_alert_id` finds the alert's own entry of a move."""
    details = details if isinstance(details, dict) else {}
    if details.get("merged_from") is not None:
        rest = {k: v for k, v in details.items() if k != "merged_from"}
        earlier = explain(reason, rest, who=who, system_alert_id=system_alert_id)
        return Explanation(f"Merged from #{details['merged_from']}", earlier=earlier)
    rule = details.get("rule")
    if isinstance(rule, dict) and rule.get("name"):
        return Explanation(_matched(details), rule_name=rule["name"], rule_url=_rule_url(rule))
    if details.get("no_rule_matched"):
        return Explanation("No rule matched")
    if details.get("provider_incident_id"):
        provider = details.get("provider_name") or DEFAULT_PROVIDER
        return Explanation(f"{provider} incident {details['provider_incident_id']}")
    comment = details.get("comment") or ""
    by = f" by {who}" if who else ""
    moved = details.get("moved_from")
    sources = moved.get(system_alert_id) if isinstance(moved, dict) else None
    if sources:
        numbers = ", ".join(f"#{n}" for n in sources)
        return Explanation(f"Moved from {numbers}{by}" + (f": {comment}" if comment else ""))
    if reason == RelationReason.INGESTION:
        return Explanation("Created with the incident")
    if reason == RelationReason.RULE:
        return Explanation(f"Correlated{by}")
    verb = "Added through the API" if reason == RelationReason.API else "Added"
    return Explanation(f"{verb}{by}" + (f": {comment}" if comment else ""))


def _matched(details: dict) -> str:
    values = details.get("matched") or []
    if values:
        return describe(values)
    if details.get("method") == GroupingMethod.ANY_ALERT:
        return f"every matching alert within {details.get('window') or 'its window'}"
    return "its conditions hold"


def _rule_url(rule: dict) -> str:
    # The rule pages may not be installed yet; the name alone still explains.
    try:
        return reverse("incidents:rule", kwargs={"rule_id": rule["id"]})
    except NoReverseMatch:
        return ""
