"""Correlation rules: the list (enable, disable, reorder in place), the rule form, the
rule's page with its change log, and "Test rule" (a dry run that changes nothing).

Readers and responders see and test rules; contributors change them. Every change goes
through `incidents.rules.changes`, which records who changed what.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from incidents.access import WorkspaceRequest, access_rule, check_role, workspace_of, workspace_view
from incidents.idempotency import once_per_form_token
from incidents.models import CorrelationRule, Role
from incidents.rules import changes, engine, text
from incidents.rules.dryrun import PERIODS, dry_run, period_of
from incidents.rules.forms import RuleForm
from incidents.views.common import page_or_fragment, safe_next

SECTION = "rules"


@dataclass
class RuleRow:
    rule: CorrelationRule
    position: int
    conditions: list[str]
    grouping: str
    window: str


def _rows(request: WorkspaceRequest) -> list[RuleRow]:
    rules = changes.ordered_rules(workspace_of(request).pk)
    return [
        RuleRow(r, i, text.conditions(r), text.grouping(r), engine.window_text(r.window))
        for i, r in enumerate(rules, start=1)
    ]


def _list(request: WorkspaceRequest, status: str = "") -> HttpResponse:
    rows = _rows(request)
    context = {
        "rows": rows,
        "last": len(rows),
        "can_manage": request.membership.allows(Role.CONTRIBUTOR),
        "status": status,
        "section": SECTION,
    }
    return render(request, page_or_fragment(request, "incidents/rule_list.html", "list"), context)


@require_GET
@workspace_view
def rule_list(request: WorkspaceRequest) -> HttpResponse:
    return _list(request)


def _changed(request: WorkspaceRequest, rule: CorrelationRule, message: str) -> HttpResponse:
    """htmx: the list again, saying what happened; else back where the form was."""
    if request.htmx:
        return _list(request, message)
    messages.success(request, message)
    return redirect(safe_next(request, request.POST.get("next")) or "incidents:rules")


@require_POST
@workspace_view
def rule_toggle(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = access_rule(request, rule_id, Role.CONTRIBUTOR)
    wanted = request.POST.get("enabled")
    if wanted not in ("on", "off"):
        return HttpResponseBadRequest("Say whether the rule should be enabled: on or off.")
    changes.set_enabled(rule, wanted == "on", acting_user=request.user)
    state = "enabled" if wanted == "on" else "disabled"
    return _changed(request, rule, f"Rule “{rule.name}” is {state}.")


@require_POST
@workspace_view
def rule_move(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = access_rule(request, rule_id, Role.CONTRIBUTOR)
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        return HttpResponseBadRequest("Give the position to move the rule to: 1 runs first.")
    changes.move_rule(rule, position, acting_user=request.user)
    rows = _rows(request)
    now = next(row.position for row in rows if row.rule.pk == rule.pk)
    return _changed(request, rule, f"Rule “{rule.name}” runs {_nth(now)} of {len(rows)}.")


def _nth(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _form_page(
    request: WorkspaceRequest, form: RuleForm, rule: CorrelationRule | None
) -> HttpResponse:
    context = {"form": form, "rule": rule, "section": SECTION}
    return render(request, page_or_fragment(request, "incidents/rule_form.html", "form"), context)


def _saved(request: WorkspaceRequest, rule: CorrelationRule, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(rule.get_absolute_url())
    return redirect(rule)


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def rule_new(request: WorkspaceRequest) -> HttpResponse:
    check_role(request, Role.CONTRIBUTOR)
    form = RuleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        rule = changes.create_rule(
            workspace_of(request), form.cleaned_data, acting_user=request.user
        )
        return _saved(request, rule, f"Rule “{rule.name}” was created.")
    return _form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def rule_edit(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = access_rule(request, rule_id, Role.CONTRIBUTOR)
    initial = {field: getattr(rule, field) for field in changes.EDITABLE}
    form = RuleForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        change = changes.update_rule(rule, form.cleaned_data, acting_user=request.user)
        message = f"Rule “{form.cleaned_data['name']}” was saved."
        return _saved(request, rule, message if change else "Nothing changed.")
    return _form_page(request, form, rule)


@require_GET
@workspace_view
def rule_detail(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = access_rule(request, rule_id)
    rules = changes.ordered_rules(rule.workspace_id)
    log = [(change, text.change_lines(change)) for change in rule.changes.all()]
    context = {
        "rule": rule,
        "position": changes.position_of(rule, rules),
        "count": len(rules),
        "conditions": text.conditions(rule),
        "grouping": text.grouping(rule),
        "method": text.METHOD_LABELS.get(rule.method, rule.method),
        "window": engine.window_text(rule.window),
        "settings": _settings(rule),
        "log": log,
        "can_manage": request.membership.allows(Role.CONTRIBUTOR),
        "section": SECTION,
    }
    return render(request, "incidents/rule_detail.html", context)


def _settings(rule: CorrelationRule) -> list[tuple[str, str]]:
    return [
        (label, text.shown(text.logged(field, getattr(rule, field))))
        for field, label in text.FIELD_LABELS.items()
        if field not in ("name", "description", "position")
    ]


def _test_page(
    request: WorkspaceRequest, rules: list[CorrelationRule], rule: CorrelationRule | None
) -> HttpResponse:
    period = period_of(request.GET.get("period"))
    context = {
        "run": dry_run(workspace_of(request), rules, period),
        "rule": rule,
        "periods": [(key, label) for key, (label, _) in PERIODS.items()],
        "period": period,
        "section": SECTION,
    }
    template = page_or_fragment(request, "incidents/rule_test.html", "results")
    return render(request, template, context)


@require_GET
@workspace_view
def rule_test(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = access_rule(request, rule_id)
    return _test_page(request, [rule], rule)


@require_GET
@workspace_view
def rules_test(request: WorkspaceRequest) -> HttpResponse:
    return _test_page(request, engine.enabled_rules(workspace_of(request)), None)
