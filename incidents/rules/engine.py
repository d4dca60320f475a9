"""Run the rules over new alerts: which incident (existing, or new) each one joins, and why.

`plan` reads and decides, changing nothing, so the dry run and ingestion share it;
`placements` turns a plan into the membership module's `Placement`s. A constant number of
queries per batch: the rules, the alerts' entities, the excluded values, the candidate
incidents of the exact groups and of the shared entities — never one per candidate.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from incidents.membership import Placement
from incidents.models import (
    Alert,
    CorrelationRule,
    GroupingMethod,
    Incident,
    Relation,
    Workspace,
)
from incidents.rules.conditions import holds
from incidents.rules.facts import Excluded, entity_facts, excluded
from incidents.rules.grouping import Grouping, describe, grouping


def alert_time(alert: Alert) -> dt.datetime:
    return alert.start_time or alert.time_generated


def window_text(window: dt.timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 2 * 24 * 60:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


@dataclass
class Group:
    """Alerts that go to one incident: an existing one, or one made for them."""

    rule: CorrelationRule | None
    key: str = ""
    incident: Incident | None = None
    alerts: list[Alert] = field(default_factory=list)
    first: dt.datetime | None = None
    entity_ids: set[int] = field(default_factory=set)
    # Alert id → (details, words) of its relation.
    explain: dict[int, tuple[dict, str]] = field(default_factory=dict)
    # Other incidents the alerts bridged to this one (SHARED_ENTITY), for `bridging`.
    bridged: list[Incident] = field(default_factory=list)
    bridge_values: list[dict] = field(default_factory=list)
    bridge_alert: Alert | None = None

    @property
    def reopen(self) -> bool:
        return bool(self.incident and self.incident.is_closed)

    def within(self, rule: CorrelationRule, when: dt.datetime) -> bool:
        return self.first is not None and abs(when - self.first) <= rule.window


@dataclass
class Plan:
    groups: list[Group]
    rules: list[CorrelationRule]
    # The values that never group, and why (the dry run shows them).
    excluded: Excluded

    def matched(self, rule: CorrelationRule) -> int:
        return sum(len(g.alerts) for g in self.groups if g.rule and g.rule.pk == rule.pk)


def enabled_rules(workspace: Workspace) -> list[CorrelationRule]:
    return list(CorrelationRule.objects.filter(workspace=workspace, enabled=True))


def plan(
    workspace: Workspace,
    alerts: Sequence[Alert],
    *,
    rules: Sequence[CorrelationRule] | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """Decide where each of `alerts` (new, in no incident yet) goes. Changes nothing."""
    rules = list(rules) if rules is not None else enabled_rules(workspace)
    alerts = sorted(alerts, key=lambda a: (alert_time(a), a.pk))
    if not rules:
        return Plan(
            groups=[_alone(alert, rules) for alert in alerts], rules=[], excluded=Excluded({})
        )
    facts = entity_facts(alerts) if alerts else {}
    entity_ids = {f.id for found in facts.values() for f in found}
    # The guard looks at the week before these alerts (now, unless they are historical).
    reference = now or min(timezone.now(), max(alert_time(a) for a in alerts))
    guard = excluded(workspace, entity_ids, reference)
    groupings: dict[tuple[int, int], Grouping | None] = {}
    for alert in alerts:
        for rule in rules:
            entities = facts.get(alert.pk, [])
            if holds(rule, alert, entities):
                groupings[rule.pk, alert.pk] = grouping(rule, alert, entities, guard)
    finder = _Candidates(workspace, rules, alerts, groupings)
    groups: list[Group] = []
    open_by_key: dict[tuple[int, str], Group] = {}
    by_entity: dict[int, dict[int, Group]] = defaultdict(dict)  # rule → entity → group
    by_incident: dict[int, dict[int, Group]] = defaultdict(dict)  # rule → incident → group
    for alert in alerts:
        group = None
        for rule in rules:
            found = groupings.get((rule.pk, alert.pk))
            if found is None:
                continue
            when = alert_time(alert)
            if rule.method == GroupingMethod.SHARED_ENTITY:
                group = _shared(
                    rule,
                    alert,
                    found,
                    when,
                    finder,
                    by_entity[rule.pk],
                    by_incident[rule.pk],
                    groups,
                )
            else:
                group = _exact(rule, alert, found, when, finder, open_by_key, groups)
            break
        if group is None:
            groups.append(_alone(alert, rules))
    return Plan(groups=groups, rules=rules, excluded=guard)


def _alone(alert: Alert, rules: list[CorrelationRule]) -> Group:
    """An alert no rule takes: an incident of its own, saying so."""
    group = Group(rule=None, alerts=[alert], first=alert_time(alert))
    if rules:
        tried = ", ".join(f"“{r.name}”" for r in rules)
        words = f"No correlation rule matched (rules tried: {tried})."
    else:
        words = "No correlation rule is enabled in this workspace."
    group.explain[alert.pk] = (
        {"rule": None, "no_rule_matched": True, "rules_tried": [r.pk for r in rules]},
        words,
    )
    return group


def count_matches(found: Plan) -> None:
    """Each rule's last-matched time and count: one UPDATE per rule that matched."""
    now = timezone.now()
    for rule in found.rules:
        matched = found.matched(rule)
        if matched:
            CorrelationRule.objects.filter(pk=rule.pk).update(
                last_matched=now, matched_count=F("matched_count") + matched
            )


def _details(rule: CorrelationRule, values: list[dict] | tuple[dict, ...]) -> dict:
    return {
        "rule": {"id": rule.pk, "name": rule.name},
        "method": rule.method,
        "window": window_text(rule.window),
        "matched": list(values),
    }


def _words(rule: CorrelationRule, values, first: bool) -> str:
    shared = describe(values)
    if rule.method == GroupingMethod.ANY_ALERT:
        what = "every alert of the rule within its window"
    else:
        what = shared or "the rule's conditions"
    return f"{what} (the group's first alert)" if first else what


def _join(group: Group, rule: CorrelationRule, alert: Alert, values, *, first: bool) -> None:
    group.alerts.append(alert)
    group.explain[alert.pk] = (_details(rule, values), _words(rule, values, first))


def _exact(rule, alert, found: Grouping, when, finder, open_by_key, groups) -> Group:
    group = open_by_key.get((rule.pk, found.key))
    if group is not None and group.within(rule, when):
        _join(group, rule, alert, found.values, first=False)
        return group
    incident = finder.by_key(rule, found.key, when)
    group = Group(rule=rule, key=found.key, incident=incident)
    group.first = incident.first_activity_time if incident else when
    _join(group, rule, alert, found.values, first=incident is None)
    open_by_key[rule.pk, found.key] = group
    groups.append(group)
    return group


def _shared(rule, alert, found: Grouping, when, finder, by_entity, by_incident, groups) -> Group:
    # Groups of this batch first, then incidents made before it: the oldest wins. One
    # group per incident, however many alerts reach it.
    candidates: dict[int, Group] = {}
    for entity_id in found.entity_ids:
        group = by_entity.get(entity_id)
        if group is not None and group.within(rule, when):
            candidates[id(group)] = group
    for incident, shared in finder.by_entities(rule, found.entity_ids, when):
        group = by_incident.get(incident.pk)
        if group is None:
            group = Group(rule=rule, incident=incident, first=incident.first_activity_time)
            by_incident[incident.pk] = group
            groups.append(group)
        group.entity_ids |= shared
        candidates[id(group)] = group
    candidates = list(candidates.values())
    # An existing incident first (the oldest), then the oldest group of this batch.
    candidates.sort(
        key=lambda g: (g.incident is None, g.first, g.incident.number if g.incident else 0)
    )
    if not candidates:
        group = Group(rule=rule, first=when, entity_ids=set(found.entity_ids))
        _join(group, rule, alert, found.values, first=True)
        groups.append(group)
    else:
        group = candidates[0]
        values = found.values_of(group.entity_ids & found.entity_ids)
        _join(group, rule, alert, values or list(found.values), first=False)
        for other in candidates[1:]:
            if other.incident is None:
                # A group of this batch: its alerts simply go to the oldest group too.
                for moved in other.alerts:
                    group.alerts.append(moved)
                    group.explain[moved.pk] = other.explain[moved.pk]
                other.alerts = []
                group.entity_ids |= other.entity_ids
                for entity_id in other.entity_ids:
                    by_entity[entity_id] = group
            elif other.incident != group.incident and other.incident not in group.bridged:
                group.bridged.append(other.incident)
                group.bridge_alert = alert
                group.bridge_values = found.values_of(set(found.entity_ids))
    group.entity_ids |= found.entity_ids
    for entity_id in found.entity_ids:
        by_entity[entity_id] = group
    return group


class _Candidates:
    """The incidents earlier batches made that these alerts could join: two queries."""

    def __init__(self, workspace, rules, alerts, groupings):
        self.limit = settings.TRIAGE_MAX_ALERTS_PER_INCIDENT
        self.keyed: dict[tuple[int, str], list[Incident]] = defaultdict(list)
        # Rule → entity → the rule's incidents holding an alert with that entity.
        self.holding: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        self.incidents: dict[int, Incident] = {}
        self.continued: set[int] = set()
        if not alerts or not rules:
            return
        widest = max(r.window for r in rules)
        times = [alert_time(a) for a in alerts]
        since, until = min(times) - widest, max(times) + widest
        recent = Incident.objects.filter(
            workspace=workspace,
            merged_into__isnull=True,
            first_activity_time__gte=since,
            first_activity_time__lte=until,
        )
        keys = {g.key for g in groupings.values() if g is not None and g.key}
        exact = [r.pk for r in rules if r.method != GroupingMethod.SHARED_ENTITY]
        if keys and exact:
            for incident in recent.filter(
                correlation_rule_id__in=exact, group_key__in=keys
            ).order_by("-first_activity_time", "-number"):
                self.keyed[incident.correlation_rule_id, incident.group_key].append(incident)
        shared_rules = [r.pk for r in rules if r.method == GroupingMethod.SHARED_ENTITY]
        entity_ids = {e for g in groupings.values() if g is not None for e in g.entity_ids}
        if shared_rules and entity_ids:
            rows = (
                Relation.objects.filter(
                    incident__in=recent.filter(correlation_rule_id__in=shared_rules),
                    alert__entities__in=entity_ids,
                )
                .values_list("incident_id", "incident__correlation_rule_id", "alert__entities")
                # No ordering: Relation's would make every relation a distinct row.
                .order_by()
                .distinct()
            )
            wanted = set()
            for incident_id, rule_id, entity_id in rows:
                self.holding[rule_id][entity_id].add(incident_id)
                wanted.add(incident_id)
            self.incidents = Incident.objects.in_bulk(wanted)
            self.continued = {i.continues_id for i in self.incidents.values() if i.continues_id}

    def _usable(self, rule: CorrelationRule, incident: Incident, when: dt.datetime) -> bool:
        if incident.first_activity_time is None:
            return False
        if abs(when - incident.first_activity_time) > rule.window:
            return False
        return not incident.is_closed or rule.reopen_closed

    def by_key(self, rule: CorrelationRule, key: str, when: dt.datetime) -> Incident | None:
        for incident in self.keyed.get((rule.pk, key), []):
            if self._usable(rule, incident, when):
                return incident
        return None

    def by_entities(self, rule, entity_ids, when) -> list[tuple[Incident, set[int]]]:
        holding = self.holding.get(rule.pk, {})
        matched: dict[int, set[int]] = defaultdict(set)
        for entity_id in entity_ids:
            for incident_id in holding.get(entity_id, ()):
                matched[incident_id].add(entity_id)
        found = []
        for incident_id, shared in matched.items():
            incident = self.incidents[incident_id]
            if incident.pk not in self.continued and self._usable(rule, incident, when):
                found.append((incident, shared))
        return sorted(found, key=lambda pair: (pair[0].first_activity_time, pair[0].number))


def placements(found: Plan, workspace: Workspace) -> list[Placement]:
    """The membership module's placements for a plan (groups emptied in it are skipped)."""
    result = []
    for group in found.groups:
        if not group.alerts:
            continue
        rule = group.rule
        new_fields = {}
        if rule is not None and group.incident is None:
            new_fields = {"correlation_rule_id": rule.pk, "group_key": group.key}
        if len(group.alerts) == 1 and group.incident is None:
            new_fields["description"] = group.alerts[0].description
        result.append(
            Placement(
                list(group.alerts),
                incident=group.incident,
                new_fields=new_fields,
                by=f"rule “{rule.name}”" if rule else "",
                explain=dict(group.explain),
                reopen=group.reopen,
            )
        )
    return result
