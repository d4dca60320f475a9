"""`manage.py correlate --workspace NAME [--since 7d] [--dry-run] [--rule ID]`."""

import datetime as dt
import re

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from incidents.models import CorrelationRule, Workspace
from incidents.rules import dryrun, rerun
from incidents.rules.engine import Plan, plan

PERIOD = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_period(text: str) -> dt.timedelta:
    match = PERIOD.match(text or "")
    if not match:
        raise CommandError(f"“{text}” is not a period: write 30m, 12h or 7d.")
    return dt.timedelta(**{UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Run the correlation rules over a workspace's alerts of a period: --dry-run shows what "
        "they would do and changes nothing; without it, alerts alone in an incident nobody "
        "has worked on are regrouped (through the membership rules, undoable)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace's name.")
        parser.add_argument("--since", default="7d", help="The period: 30m, 12h, 7d (default).")
        parser.add_argument("--dry-run", action="store_true", help="Change nothing.")
        parser.add_argument("--rule", type=int, help="Run only this rule (its id).")

    def handle(self, *args, workspace: str, since: str, dry_run: bool, rule, **options):
        found = Workspace.objects.filter(name=workspace).first()
        if found is None:
            names = ", ".join(Workspace.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"There is no workspace “{workspace}” (workspaces: {names}).")
        start = timezone.now() - parse_period(since)
        rules = None
        if rule is not None:
            chosen = CorrelationRule.objects.filter(workspace=found, pk=rule).first()
            if chosen is None:
                raise CommandError(f"Workspace “{workspace}” has no rule {rule}.")
            rules = [chosen]
        if dry_run:
            self._show(plan(found, dryrun.newest_alerts(found, start), rules=rules))
            return
        applied = rerun.apply(found, start, rules=rules)
        self.stdout.write(
            f"Regrouped {applied.moved} alert{'s' if applied.moved != 1 else ''} "
            f"into {applied.groups} incident{'s' if applied.groups != 1 else ''}."
        )
        for refusal in applied.refused:
            self.stderr.write(f"Not regrouped: {refusal}")

    def _show(self, found: Plan) -> None:
        write = self.stdout.write
        grouped = [g for g in found.groups if g.rule is not None and g.alerts]
        alone = [g for g in found.groups if g.rule is None and g.alerts]
        write(f"Dry run: nothing was changed. {sum(len(g.alerts) for g in found.groups)} alerts.")
        for group in grouped:
            where = (
                f"extends incident #{group.incident.number}"
                if group.incident is not None
                else "would make a new incident"
            )
            count = len(group.alerts)
            write(f"\nRule “{group.rule.name}”: {count} alert{'s' if count != 1 else ''}, {where}")
            for alert in group.alerts:
                write(f"  - {alert.display_name}: {group.explain[alert.pk][1]}")
            if group.bridged:
                numbers = ", ".join(f"#{i.number}" for i in group.bridged)
                write(f"  bridges {numbers}")
        write(f"\nNo rule takes {len(alone)} alert{'s' if len(alone) != 1 else ''}.")
        for entity_id, reason in sorted(found.excluded.reasons.items()):
            write(f"Entity {entity_id} never groups: {reason}")
