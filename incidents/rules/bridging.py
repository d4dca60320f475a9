"""Bridging alerts: one alert that joins incidents which belong together.

When a new alert matches two or more incidents under one rule, it joins the oldest, and
the others are merged into it (`membership.merge_incidents`, or `merge_many` for the
merges of a batch that share no incident) when all were made by rules
and no analyst has touched them (no activity entry by a person), none is closed or
provider-managed, and the result fits the cap. Otherwise the oldest's log names the other
candidates and why they stayed apart. Either way the words say which alert and which
values bridged them.
"""

from django.conf import settings

from incidents import activity, membership
from incidents.activity import Actor
from incidents.errors import MembershipError
from incidents.membership.merge import MergeRequest, merge_many
from incidents.models import ActivityEntry, ActivityKind, Incident, Via
from incidents.rules.engine import Group
from incidents.rules.grouping import describe


def rule_actor(group: Group) -> Actor:
    return Actor.system(f"rule “{group.rule.name}”", Via.RULE)


def bridge(groups: list[Group]) -> list[membership.MergeResult]:
    """Merge or note the incidents bridging alerts joined: three queries for the whole
    batch, a merge's queries per round (`_rounds`), and each merge's Undo record and
    closed sources."""
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
    for together in _rounds(todo, incidents):
        requests = []
        for group, target, others in together:
            refusal = _refusal(target, others, touched)
            if refusal is None:
                requests.append(
                    (group, others, MergeRequest(others, target, rule_actor(group), _why(group)))
                )
            else:
                notes.append(_note(group, target, others, refusal))
        results = merge_many([request for _, _, request in requests])
        for (group, others, request), result in zip(requests, results, strict=True):
            if isinstance(result, MembershipError):
                notes.append(_note(group, request.into, others, result.user_message))
            else:
                merged.append(result)
    activity.write(notes)
    return merged


def _rounds(todo: list[Group], incidents: dict[int, Incident]):
    """The groups to merge together, round after round: those whose incidents no earlier
    group still names; the others wait for the next round, which sees what this one merged.
    A merge changes only its own incidents, so this is merging one group after another."""
    pending = todo
    while pending:
        together, later, seen = [], [], set()
        for group in pending:
            target, others = _candidates(group, incidents)
            if not others:
                continue  # Earlier merges took its incidents (they are never given back).
            mine = {target.pk, *(i.pk for i in others)}
            if mine & seen:
                later.append(group)
            else:
                together.append((group, target, others))
            seen |= mine
        if together:
            yield together
        pending = later


def _candidates(group: Group, incidents: dict[int, Incident]) -> tuple[Incident, list[Incident]]:
    """The group's incident and those it would take; none once an earlier merge took it."""
    target = incidents[group.incident.pk]
    if target.merged_into_id:
        return target, []
    # An incident an earlier merge of this batch took is no longer a candidate.
    return target, [incidents[i.pk] for i in group.bridged if not incidents[i.pk].merged_into_id]


def _why(group: Group) -> str:
    alert, values = group.bridge_alert, describe(group.bridge_values)
    return f"Alert “{alert.display_name}” bridged them ({values})."


def _note(group: Group, target: Incident, others: list[Incident], refusal: str):
    alert, values = group.bridge_alert, describe(group.bridge_values)
    numbers = ", ".join(f"#{i.number}" for i in others)
    return activity.entry(
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
