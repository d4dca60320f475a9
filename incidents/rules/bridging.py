"""Bridging alerts: one alert that joins incidents which belong together.

When a new alert matches two or more incidents under one rule, it joins the oldest, and
the others are merged into it (`membership.merge_incidents`) when all were made by rules
and no analyst has touched them (no activity entry by a person), none is closed or
provider-managed, and the result fits the cap. Otherwise the oldest's log names the other
candidates and why they stayed apart. Either way the words say which alert and which
values bridged them.
"""

from django.conf import settings

from incidents import activity, membership
from incidents.activity import Actor
from incidents.errors import MembershipError
from incidents.models import ActivityEntry, ActivityKind, Incident, Via
from incidents.rules.engine import Group
from incidents.rules.grouping import describe


def rule_actor(group: Group) -> Actor:
    return Actor.system(f"rule “{group.rule.name}”", Via.RULE)


def bridge(groups: list[Group]) -> list[membership.MergeResult]:
    merged = []
    for group in groups:
        if not group.bridged or group.incident is None or group.bridge_alert is None:
            continue
        target = Incident.objects.get(pk=group.incident.pk)
        others = list(Incident.objects.filter(pk__in=[i.pk for i in group.bridged]))
        alert, values = group.bridge_alert, describe(group.bridge_values)
        why = f"Alert “{alert.display_name}” bridged them ({values})."
        refusal = _refusal(target, others)
        if refusal is None:
            try:
                merged.append(
                    membership.merge_incidents(
                        others, into=target, actor=rule_actor(group), reason=why
                    )
                )
                continue
            except MembershipError as error:
                refusal = error.user_message
        numbers = ", ".join(f"#{i.number}" for i in others)
        activity.record(
            target,
            rule_actor(group),
            ActivityKind.ALERT_CORRELATED,
            f"Alert “{alert.display_name}” also matches {numbers} under rule "
            f"“{group.rule.name}” ({values}); they were not merged: {refusal}",
            details={
                "alert": str(alert.system_alert_id),
                "also_matches": [i.number for i in others],
                "rule": {"id": group.rule.pk, "name": group.rule.name},
                "matched": group.bridge_values,
            },
        )
    return merged


def _refusal(target: Incident, others: list[Incident]) -> str | None:
    incidents = [target, *others]
    if any(i.correlation_rule_id is None for i in incidents):
        return "one of them was not made by a rule."
    if any(i.is_closed for i in incidents):
        return "one of them is closed."
    if any(i.provider_name in settings.TRIAGE_SELF_CORRELATING_PROVIDERS for i in incidents):
        return "one of them belongs to a provider that correlates its own alerts."
    touched = ActivityEntry.objects.filter(incident__in=incidents, actor__isnull=False)
    if touched.exists():
        return "an analyst has worked on one of them."
    return None
