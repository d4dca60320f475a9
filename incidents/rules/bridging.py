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
    """Merge or note the incidents bridging alerts joined: three queries for the whole
    batch, plus each merge's own."""
    todo = [g for g in groups if g.bridged and g.incident is not None and g.bridge_alert]
    if not todo:
        return []
    ids = {g.incident.pk for g in todo} | {i.pk for g in todo for i in g.bridged}
    incidents = Incident.objects.in_bulk(ids)
    touched = set(
        ActivityEntry.objects.filter(incident_id__in=ids, actor__isnull=False).values_list(
            "incident_id", flat=True
        )
    )
    merged, notes = [], []
    for group in todo:
        target = incidents[group.incident.pk]
        # An incident an earlier merge of this batch took is no longer a candidate.
        others = [incidents[i.pk] for i in group.bridged if not incidents[i.pk].merged_into_id]
        if not others or target.merged_into_id:
            continue
        alert, values = group.bridge_alert, describe(group.bridge_values)
        why = f"Alert “{alert.display_name}” bridged them ({values})."
        refusal = _refusal(target, others, touched)
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
        notes.append(
            activity.entry(
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
        )
    activity.write(notes)
    return merged


def _refusal(target: Incident, others: list[Incident], touched: set[int]) -> str | None:
    incidents = [target, *others]
    if any(i.correlation_rule_id is None for i in incidents):
        return "one of them was not made by a rule."
    if any(i.is_closed for i in incidents):
        return "one of them is closed."
    if any(i.provider_name in settings.TRIAGE_SELF_CORRELATING_PROVIDERS for i in incidents):
        return "one of them belongs to a provider that correlates its own alerts."
    if any(i.pk in touched for i in incidents):
        return "an analyst has worked on one of them."
    return None
