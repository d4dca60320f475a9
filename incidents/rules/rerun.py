"""Run the rules again over alerts already in, applied (the dry run is `rules.dryrun`).

Applied, the rules only regroup alerts that are alone in an incident nobody has worked on
(an incident ingestion made for them, with no activity by a person, not closed, not a
provider's): such an alert is linked to the incident its group points at through
`membership.move_alerts`, which closes the emptied incident and can be undone. An
analyst's decision — an alert moved, added, commented on, an incident closed — is never
undone by a rule.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef

from incidents import membership
from incidents.activity import Actor
from incidents.errors import MembershipError
from incidents.models import (
    ActivityEntry,
    Alert,
    CorrelationRule,
    Incident,
    IncidentStatus,
    Relation,
    Via,
    Workspace,
)
from incidents.rules.engine import Group, plan


def _untouched_alone(workspace: Workspace, since: dt.datetime) -> dict[int, Incident]:
    """Alert id → the incident it is alone in, for alerts the rules may still regroup."""
    by_person = ActivityEntry.objects.filter(incident=OuterRef("incident"), actor__isnull=False)
    rows = (
        Relation.objects.filter(
            incident__workspace=workspace,
            alert__time_generated__gte=since,
            incident__alert_count=1,
            incident__merged_into__isnull=True,
        )
        .exclude(incident__status=IncidentStatus.CLOSED)
        .exclude(incident__provider_name__in=list(settings.TRIAGE_SELF_CORRELATING_PROVIDERS))
        .exclude(Exists(by_person))
        .select_related("incident")
    )
    alone: dict[int, Incident] = {}
    for relation in rows:
        alone[relation.alert_id] = relation.incident
    # An alert in several incidents is not alone.
    many = Relation.objects.filter(alert_id__in=list(alone)).values_list("alert_id", flat=True)
    counts: dict[int, int] = {}
    for alert_id in many:
        counts[alert_id] = counts.get(alert_id, 0) + 1
    return {a: i for a, i in alone.items() if counts.get(a) == 1}


@dataclass
class Applied:
    moved: int = 0
    groups: int = 0
    refused: list[str] = field(default_factory=list)


def apply(
    workspace: Workspace, since: dt.datetime, *, rules: Sequence[CorrelationRule] | None = None
) -> Applied:
    """Regroup the period's untouched lone alerts as the rules say (see the module)."""
    alone = _untouched_alone(workspace, since)
    alerts = list(Alert.objects.filter(pk__in=list(alone)))
    found = plan(workspace, alerts, rules=rules)
    result = Applied()
    for group in found.groups:
        if group.rule is None or not group.alerts:
            continue
        target = _target(group, alone)
        moving = [a for a in group.alerts if alone[a.pk].pk != target.pk]
        if not moving:
            continue
        actor = Actor.system(f"rule “{group.rule.name}”", Via.RULE)
        words = group.explain[moving[-1].pk][1]
        try:
            membership.move_alerts(
                moving,
                destination=target,
                actor=actor,
                comment=f"Correlated again by rule “{group.rule.name}”: {words}.",
                emptied_incident="close",
            )
        except MembershipError as error:
            result.refused.append(error.user_message)
            continue
        if group.incident is None:
            # The group's oldest lone incident now stands for the group: later alerts find it.
            Incident.objects.filter(pk=target.pk, correlation_rule__isnull=True).update(
                correlation_rule=group.rule, group_key=group.key
            )
        result.moved += len(moving)
        result.groups += 1
    return result


def _target(group: Group, alone: dict[int, Incident]) -> Incident:
    if group.incident is not None:
        return group.incident
    return min((alone[a.pk] for a in group.alerts), key=lambda i: i.number)
