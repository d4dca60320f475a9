""" "Merge incidents" (the dialog, from the queue's selection or an incident's header) and
"Undo" (from a notification or the Activity tab)."""

import uuid

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, trigger_client_event

from incidents import membership
from incidents.access import WorkspaceRequest, check_role, workspace_view
from incidents.activity import Actor
from incidents.errors import TriageError
from incidents.filters import parse_number
from incidents.forms import MergeForm, find_incident
from incidents.idempotency import once_per_form_token
from incidents.models import Incident, MembershipChange, Role
from incidents.views.common import ACTION_REFUSED, page_or_fragment, safe_next

MERGED_EVENT = "incidentsMerged"
UNDONE_EVENT = "changeUndone"


def undo_url(change: MembershipChange | None) -> str:
    return reverse("incidents:undo_change", args=[change.uuid]) if change else ""


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def merge_incidents(request: WorkspaceRequest) -> HttpResponse:
    """GET: the dialog with its preview (again whenever the target changes); POST: merge.

    Two or more selected incidents (the queue) merge into the one chosen among them, the
    oldest by default; one (an incident's header) merges into the one the typeahead names.
    """
    check_role(request, Role.RESPONDER)
    data = request.POST if request.method == "POST" else request.GET
    selected, problem = _selected(request, data)
    target, target_problem = _target(request, data, selected)
    sources = [i for i in selected if target is None or i.pk != target.pk]
    form = MergeForm(request.POST if request.method == "POST" else None)
    next_url = safe_next(request, data.get("next")) or ""
    if request.method == "POST" and not problem and form.is_valid() and target is not None:
        try:
            result = membership.merge_incidents(
                sources,
                into=target,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
            )
        except TriageError as error:
            problem = error.user_message
        else:
            return _merged(request, result, next_url)
    preview = (
        membership.preview_merge(sources, into=target) if target is not None and sources else None
    )
    context = {
        "selected": selected,
        "sources": sources,
        "target": target,
        "target_problem": target_problem if data.get("into") or request.method == "POST" else "",
        "into_text": data.get("into", ""),
        "reason": data.get("reason", ""),
        "from_queue": len(selected) > 1,
        "preview": preview,
        "form": form,
        "problem": problem,
        "next": next_url,
        "section": "incidents",
    }
    template = page_or_fragment(request, "incidents/merge_incidents.html", "panel")
    return render(request, template, context)


def _selected(request: WorkspaceRequest, data: QueryDict) -> tuple[list[Incident], str]:
    numbers = [parse_number(n) for n in data.getlist("incident")]
    wanted = list(dict.fromkeys(n for n in numbers if n is not None))
    found = Incident.objects.filter(workspace=request.membership.workspace, number__in=wanted)
    by_number = {i.number: i for i in found.select_related("merged_into")}
    selected = [by_number[n] for n in wanted if n in by_number]
    if len(selected) != len(numbers):
        return selected, (
            "Some of the selected incidents no longer exist or are not in this workspace. "
            "Reload the list and select them again."
        )
    if not selected:
        return selected, "Select the incidents to merge."
    return selected, ""


def _target(
    request: WorkspaceRequest, data: QueryDict, selected: list[Incident]
) -> tuple[Incident | None, str]:
    text = data.get("into", "")
    if len(selected) > 1:
        # Chosen among the selection; the oldest by default.
        number = parse_number(text)
        chosen = [i for i in selected if i.number == number]
        return (chosen[0] if chosen else min(selected, key=lambda i: (i.created, i.number))), ""
    found, problem = find_incident(request.membership.workspace, text)
    if found is not None and selected and found.pk == selected[0].pk:
        return None, "Choose another incident than this one."
    return found, problem


def _merged(request: WorkspaceRequest, result: membership.MergeResult, next_url: str):
    target = result.target
    if request.htmx:
        detail = {
            "message": result.message,
            "url": target.get_absolute_url(),
            "number": target.number,
            "undo": undo_url(result.change),
        }
        return trigger_client_event(HttpResponse(status=204), MERGED_EVENT, detail)
    link = format_html(
        '<a href="{}">Open incident #{}</a>', target.get_absolute_url(), target.number
    )
    messages.success(request, format_html("{} {}", result.message, link))
    return redirect(next_url or target.get_absolute_url())


@require_POST
@workspace_view
def undo_change(request: WorkspaceRequest, change: uuid.UUID) -> HttpResponse:
    """Undo a move, merge or remove; refused, with the reason, when it is no longer safe."""
    check_role(request, Role.RESPONDER)
    found = get_object_or_404(MembershipChange, uuid=change, workspace=request.membership.workspace)
    next_url = safe_next(request, request.POST.get("next")) or reverse("incidents:incident_list")
    try:
        result = membership.undo_change(found, actor=Actor.for_user(request.user))
    except TriageError as error:
        if request.htmx:
            response = reswap(HttpResponse(), "none")
            return trigger_client_event(response, ACTION_REFUSED, {"message": error.user_message})
        messages.error(request, error.user_message)
        return redirect(next_url)
    if request.htmx:
        detail = {"message": result.message}
        return trigger_client_event(HttpResponse(status=204), UNDONE_EVENT, detail)
    messages.success(request, result.message)
    return redirect(next_url)
