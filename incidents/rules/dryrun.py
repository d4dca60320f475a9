""" "Test rule": what the rules would do with a period's alerts, changing nothing.

The alerts are treated as if they had just arrived: `engine.plan` decides which incident
each would join (an existing one, or a new one) and why, and nothing is written. The
newest `MAX_ALERTS` of the period are tested, so a large workspace answers in time.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from incidents.models import Alert, CorrelationRule, Entity, Incident, Relation, Workspace
from incidents.rules import engine
from incidents.rules.grouping import describe

PERIODS = {
    "24h": ("the last 24 hours", dt.timedelta(hours=24)),
    "7d": ("the last 7 days", dt.timedelta(days=7)),
    "30d": ("the last 30 days", dt.timedelta(days=30)),
}
DEFAULT_PERIOD = "7d"
MAX_ALERTS = 5000
# What the page lists; the counts above the lists cover everything.
GROUPS_SHOWN = 50
ALERTS_SHOWN = 10
EXCLUDED_SHOWN = 20


@dataclass
class AlertRow:
    alert: Alert
    words: str
    # The numbers of the incidents the alert is in today.
    now_in: list[int] = field(default_factory=list)


@dataclass
class GroupView:
    rule: CorrelationRule | None
    incident: Incident | None
    reopen: bool
    size: int
    rows: list[AlertRow]
    bridged: list[Incident]
    bridge_words: str

    @property
    def hidden(self) -> int:
        return self.size - len(self.rows)


@dataclass
class DryRun:
    period: str
    period_label: str
    rules: list[CorrelationRule]
    tested: int
    # More alerts than `MAX_ALERTS` fell in the period: only the newest were tested.
    bounded: bool
    groups: list[GroupView]
    grouped_alerts: int
    new_incidents: int
    extended: list[Incident]
    unmatched: list[GroupView]
    unmatched_alerts: int
    matched_by_rule: list[tuple[CorrelationRule, int]]
    excluded: list[tuple[Entity, str]]
    excluded_count: int

    @property
    def group_count(self) -> int:
        return self.new_incidents + len(self.extended)

    @property
    def hidden_groups(self) -> int:
        return self.group_count - len(self.groups)

    @property
    def hidden_unmatched(self) -> int:
        return self.unmatched_alerts - len(self.unmatched)


def newest_alerts(workspace: Workspace, since: dt.datetime, limit: int = MAX_ALERTS) -> list[Alert]:
    """The newest `limit` alerts of `workspace` generated since `since`."""
    return list(
        Alert.objects.filter(workspace=workspace, time_generated__gte=since).order_by(
            "-time_generated", "-id"
        )[:limit]
    )


def period_of(value: str | None) -> str:
    return value if value in PERIODS else DEFAULT_PERIOD


def dry_run(
    workspace: Workspace,
    rules: list[CorrelationRule],
    period: str = DEFAULT_PERIOD,
    *,
    now: dt.datetime | None = None,
) -> DryRun:
    """Run `rules` over the period's alerts as if they were new. Reads only."""
    now = now or timezone.now()
    label, span = PERIODS[period_of(period)]
    alerts = newest_alerts(workspace, now - span, MAX_ALERTS + 1)
    bounded = len(alerts) > MAX_ALERTS
    alerts = alerts[:MAX_ALERTS]
    found = engine.plan(workspace, alerts, rules=rules, now=now)
    made = sorted(
        (g for g in found.groups if g.rule is not None and g.alerts),
        key=lambda g: (-len(g.alerts), engine.alert_time(g.alerts[0])),
    )
    alone = [g for g in found.groups if g.rule is None]
    shown = made[:GROUPS_SHOWN]
    shown_alone = alone[:GROUPS_SHOWN]
    now_in = _incidents_of([a for g in shown + shown_alone for a in g.alerts[:ALERTS_SHOWN]])
    excluded = list(found.excluded.reasons.items())
    entities = Entity.objects.in_bulk([pk for pk, _ in excluded[:EXCLUDED_SHOWN]])
    return DryRun(
        period=period_of(period),
        period_label=label,
        rules=list(rules),
        tested=len(alerts),
        bounded=bounded,
        groups=[_view(g, now_in) for g in shown],
        grouped_alerts=sum(len(g.alerts) for g in made),
        new_incidents=sum(1 for g in made if g.incident is None),
        extended=[g.incident for g in made if g.incident is not None],
        unmatched=[_view(g, now_in) for g in shown_alone],
        unmatched_alerts=len(alone),
        matched_by_rule=[(rule, found.matched(rule)) for rule in rules],
        excluded=[(entities[pk], why) for pk, why in excluded[:EXCLUDED_SHOWN] if pk in entities],
        excluded_count=len(excluded),
    )


def _incidents_of(alerts: list[Alert]) -> dict[int, list[int]]:
    """Alert id → the numbers of its incidents today: one query."""
    found: dict[int, list[int]] = defaultdict(list)
    rows = (
        Relation.objects.filter(alert__in=alerts)
        .order_by("incident__number")
        .values_list("alert_id", "incident__number")
    )
    for alert_id, number in rows:
        found[alert_id].append(number)
    return found


def _view(group: engine.Group, now_in: dict[int, list[int]]) -> GroupView:
    rows = [
        AlertRow(alert, group.explain[alert.pk][1], now_in.get(alert.pk, []))
        for alert in group.alerts[:ALERTS_SHOWN]
    ]
    return GroupView(
        rule=group.rule,
        incident=group.incident,
        reopen=group.reopen,
        size=len(group.alerts),
        rows=rows,
        bridged=list(group.bridged),
        bridge_words=describe(group.bridge_values),
    )
