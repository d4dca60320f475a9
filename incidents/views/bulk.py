"""The queue's bulk actions on the selected incidents: assign owner, change status, close
with a classification, add a label.

GET shows the dialog: the selection and what will change for each incident (again
whenever a field changes). POST applies the change to all of them, or to none with the
reason; success refreshes the queue through the `incidentsChanged` event.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from incidents import actions
from incidents.access import WorkspaceRequest, check_role, workspace_view
from incidents.activity import Actor
from incidents.errors import TriageError
from incidents.filters import parse_number
from incidents.forms import CloseIncidentForm, LabelForm, OwnerForm, StatusForm
from incidents.idempotency import once_per_form_token
from incidents.models import Incident, IncidentStatus, Role
from incidents.views.common import page_or_fragment, safe_next

CHANGED_EVENT = "incidentsChanged"
MAX_SELECTION = 500
# Each action: its button in the queue's toolbar, the dialog's title, what its preview shows.
ACTIONS = {
    "owner": ("Assign owner", "Assign owner", "Owner"),
    "status": ("Change status", "Change status", "Status"),
    "close": ("Close with classification", "Close incidents", "Status"),
    "label": ("Add label", "Add label", "Labels"),
}


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def bulk_incidents(request: WorkspaceRequest) -> HttpResponse:
    check_role(request, Role.RESPONDER)
    data = request.POST if request.method == "POST" else request.GET
    action = data.get("action", "")
    if action not in ACTIONS:
        return HttpResponseBadRequest("Choose assign owner, change status, close or add label.")
    selected, problem = _selection(request, data)
    form = _form(request, action, data)
    plan: list[actions.BulkChange] = []
    if not problem and form.is_valid():
        try:
            plan = _plan(action, selected, form.cleaned_data)
        except TriageError as error:
            problem = error.user_message
    next_url = safe_next(request, data.get("next")) or reverse("incidents:incident_list")
    if request.method == "POST" and plan:
        try:
            done = _apply(action, selected, form.cleaned_data, Actor.for_user(request.user))
        except TriageError as error:
            problem = error.user_message
        else:
            return _changed(request, _message(action, form.cleaned_data, plan, done), next_url)
    _, title, column = ACTIONS[action]
    context = {
        "action": action,
        "title": title,
        "column": column,
        "selected": selected,
        "plan": plan,
        "form": form,
        "problem": problem,
        "next": next_url,
        "section": "incidents",
    }
    template = page_or_fragment(request, "incidents/bulk_incidents.html", "dialog")
    return render(request, template, context)


def _selection(request: WorkspaceRequest, data: QueryDict) -> tuple[list[Incident], str]:
    """The selected incidents of this workspace, or none and why: one that is not here
    (gone, or another workspace's) refuses the whole selection."""
    gone = (
        "Some of the selected incidents no longer exist or are not in this workspace. "
        "Reload the list and select them again; nothing was changed."
    )
    numbers = [parse_number(n) for n in data.getlist("incident")]
    if None in numbers:
        return [], gone
    wanted = list(dict.fromkeys(numbers))
    if not wanted:
        return [], "Select the incidents to change in the list first."
    if len(wanted) > MAX_SELECTION:
        return [], f"Select at most {MAX_SELECTION} incidents at a time."
    scoped = Incident.objects.filter(workspace=request.membership.workspace)
    found = {i.number: i for i in scoped.filter(number__in=wanted).select_related("owner")}
    if len(found) != len(wanted):
        return [], gone
    return [found[n] for n in wanted], ""


def _form(request: WorkspaceRequest, action: str, data: QueryDict) -> forms.Form:
    """The action's form, bound to what was sent; a dialog just opened is bound to the
    default (Assign to me, Active), so it previews that at once."""
    posted = request.method == "POST"
    # The queue's filters have fields of the same names (owner, status, label) on the page.
    ids = {"auto_id": "bulk-%s"}
    if action == "owner":
        bound = data if posted or "owner" in data else {"owner": request.user.pk}
        return OwnerForm(bound, workspace=request.membership.workspace, me=request.user, **ids)
    if action == "status":
        bound = data if posted or "status" in data else {"status": IncidentStatus.ACTIVE}
        return StatusForm(bound, **ids)
    if action == "close":
        return CloseIncidentForm(data if posted or "classification" in data else None, **ids)
    return LabelForm(data if posted or "label" in data else None, **ids)


def _plan(action: str, selected: list[Incident], data: dict) -> list[actions.BulkChange]:
    if action == "owner":
        return actions.plan_owner(selected, data["owner"])
    if action == "status":
        return actions.plan_status(selected, data["status"])
    if action == "close":
        return actions.plan_close(selected, data["classification"], data["reason"])
    return actions.plan_label(selected, data["label"])


def _apply(
    action: str, selected: list[Incident], data: dict, actor: Actor
) -> list[actions.BulkChange]:
    if action == "owner":
        return actions.bulk_assign_owner(selected, data["owner"], actor=actor)
    if action == "status":
        return actions.bulk_change_status(selected, data["status"], actor=actor)
    if action == "close":
        return actions.bulk_close(
            selected,
            classification=data["classification"],
            reason=data["reason"],
            comment=data["comment"],
            actor=actor,
        )
    return actions.bulk_add_label(selected, data["label"], actor=actor)


def _count(n: int) -> str:
    return f"{n} incident{'s' if n != 1 else ''}"


def _message(action: str, data: dict, plan: list, done: list) -> str:
    unchanged = len(plan) - len(done)
    if action == "owner":
        owner = data["owner"]
        said = f"assigned to {owner.get_username()}" if owner else "unassigned"
    elif action == "status":
        said = f"set to {data['status']}"
    elif action == "close":
        said = f"closed as {actions.closed_as(data['classification'], data['reason'])}"
    else:
        said = f"labelled {actions.check_label(data['label'])}"
    message = f"{_count(len(done))} {said}."
    if unchanged:
        message += f" {_count(unchanged)} already {'was' if unchanged == 1 else 'were'}."
    return message


def _changed(request: WorkspaceRequest, message: str, next_url: str) -> HttpResponse:
    if request.htmx:
        return trigger_client_event(HttpResponse(status=204), CHANGED_EVENT, {"message": message})
    messages.success(request, message)
    return redirect(next_url)
