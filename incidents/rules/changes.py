"""Every change of a correlation rule, with its `RuleChange` in the same transaction.

The rule pages call these and never save a rule themselves. Each locks the workspace row
first, so two contributors editing the same workspace's rules take turns (the order of
rules is one list per workspace). A change that changes nothing records nothing, so a
submitted-twice form or button is harmless.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from incidents.models import CorrelationRule, RuleChange, Workspace
from incidents.rules.text import FIELD_LABELS, logged

# The settings the rule form edits.
EDITABLE = tuple(f for f in FIELD_LABELS if f != "position")
ORDER_STEP = 10


def _lock(workspace_id: int) -> None:
    Workspace.objects.select_for_update(no_key=True).filter(pk=workspace_id).first()


def _record(
    rule: CorrelationRule, user: AbstractBaseUser, summary: str, changes: dict
) -> RuleChange:
    return RuleChange.objects.create(
        rule=rule, actor=user, actor_name=user.get_username(), summary=summary, changes=changes
    )


def _is_set(value: Any) -> bool:
    return isinstance(value, bool) or value not in ("", None, [])


@transaction.atomic
def create_rule(
    workspace: Workspace, values: dict[str, Any], *, acting_user: AbstractBaseUser
) -> CorrelationRule:
    """A new rule with `values` (the form's settings), last in the workspace's order."""
    _lock(workspace.pk)
    last = CorrelationRule.objects.filter(workspace=workspace).order_by("-order").first()
    rule = CorrelationRule(workspace=workspace, order=(last.order if last else 0) + ORDER_STEP)
    for field in EDITABLE:
        if field in values:
            setattr(rule, field, values[field])
    rule.save()
    changes = {
        f: [None, logged(f, getattr(rule, f))] for f in EDITABLE if _is_set(getattr(rule, f))
    }
    _record(rule, acting_user, "Created the rule", changes)
    return rule


@transaction.atomic
def update_rule(
    rule: CorrelationRule, values: dict[str, Any], *, acting_user: AbstractBaseUser
) -> RuleChange | None:
    """Save the settings of `values` that differ; None when none does."""
    _lock(rule.workspace_id)
    current = CorrelationRule.objects.get(pk=rule.pk)
    changes = {}
    for field in EDITABLE:
        if field in values and getattr(current, field) != values[field]:
            changes[field] = [logged(field, getattr(current, field)), logged(field, values[field])]
            setattr(current, field, values[field])
    if not changes:
        return None
    current.save(update_fields=list(changes))
    names = ", ".join(FIELD_LABELS[f].lower() for f in changes)
    return _record(current, acting_user, f"Changed {names}", changes)


@transaction.atomic
def set_enabled(
    rule: CorrelationRule, enabled: bool, *, acting_user: AbstractBaseUser
) -> RuleChange | None:
    """Enable or disable `rule`; None when it already was."""
    _lock(rule.workspace_id)
    # Only a rule in the other state changes: pressing twice does nothing the second time.
    if not CorrelationRule.objects.filter(pk=rule.pk, enabled=not enabled).update(enabled=enabled):
        return None
    rule.enabled = enabled
    summary = "Enabled the rule" if enabled else "Disabled the rule"
    return _record(rule, acting_user, summary, {"enabled": [not enabled, enabled]})


def ordered_rules(workspace_id: int) -> list[CorrelationRule]:
    """A workspace's rules in the order they run."""
    return list(CorrelationRule.objects.filter(workspace_id=workspace_id).order_by("order", "id"))


def position_of(rule: CorrelationRule, rules: list[CorrelationRule]) -> int:
    return next(i for i, r in enumerate(rules, start=1) if r.pk == rule.pk)


@transaction.atomic
def move_rule(
    rule: CorrelationRule, position: int, *, acting_user: AbstractBaseUser
) -> RuleChange | None:
    """Put `rule` at `position` (1 = runs first) of its workspace's rules; None when it is
    there already. A position, not "one up", so a button pressed twice moves once."""
    _lock(rule.workspace_id)
    rules = list(
        CorrelationRule.objects.filter(workspace_id=rule.workspace_id).order_by("order", "id")
    )
    before = position_of(rule, rules)
    after = min(max(position, 1), len(rules))
    if before == after:
        return None
    moved = rules.pop(before - 1)
    rules.insert(after - 1, moved)
    renumbered = []
    for index, each in enumerate(rules, start=1):
        if each.order != index * ORDER_STEP:
            each.order = index * ORDER_STEP
            renumbered.append(each)
    CorrelationRule.objects.bulk_update(renumbered, ["order"])
    rule.order = moved.order
    summary = f"Moved from position {before} to {after}"
    return _record(moved, acting_user, summary, {"position": [before, after]})
