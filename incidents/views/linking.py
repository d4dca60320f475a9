""" "Link alerts to another incident": the flyout panel and its incident typeahead."""

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import trigger_client_event

from incidents import membership, selectors
from incidents.access import (
    WorkspaceRequest,
    access_alerts,
    access_incident,
    check_role,
    workspace_view,
)
from incidents.activity import Actor
from incidents.errors import TriageError
from incidents.filters import parse_number, parse_search
from incidents.forms import LinkAlertsForm
from incidents.idempotency import once_per_form_token
from incidents.models import Alert, Incident, Role
from incidents.views.common import page_or_fragment, safe_next
from incidents.views.merging import undo_url

LINKED_EVENT = "alertsLinked"


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def link_alerts(request: WorkspaceRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    check_role(request, Role.RESPONDER)
    source = _source(request, data)
    alerts, unknown = access_alerts(request, data.getlist("alert"))
    emptied = membership.preview_move(alerts, source=source) if alerts else []
    # A GET that names a target is the panel previewing it (again whenever it changes).
    form = LinkAlertsForm(
        data if request.method == "POST" or "target" in data else None,
        workspace=request.membership.workspace,
        source=source,
        emptied=emptied,
    )
    problem = _selection_problem(alerts, unknown)
    if request.method == "POST" and not problem and form.is_valid():
        try:
            result = _move(request, alerts, source, form)
        except TriageError as error:
            problem = error.user_message
        else:
            return _linked(request, result, safe_next(request, data.get("next")))
    preview = None
    if alerts and not problem and form.is_bound and form.is_valid():
        destination = form.cleaned_data["destination"]
        if destination is not None:
            preview = membership.preview_move_to(alerts, source=source, destination=destination)
    context = {
        "alerts": alerts,
        "source": source,
        "form": form,
        "preview": preview,
        "reopen": form.cleaned_data.get("reopen", True) if preview else True,
        "problem": problem,
        "emptied": emptied,
        "next": safe_next(request, data.get("next")) or "",
    }
    template = page_or_fragment(request, "incidents/link_alerts.html", "panel")
    return render(request, template, context)


def _move(
    request: WorkspaceRequest, alerts: list[Alert], source: Incident | None, form: LinkAlertsForm
) -> membership.MoveResult:
    return membership.move_alerts(
        alerts,
        destination=form.cleaned_data["destination"],
        source=source,
        actor=Actor.for_user(request.user),
        comment=form.cleaned_data["comment"],
        emptied_incident=form.cleaned_data["emptied_choices"],
        reopen_destination=form.cleaned_data["reopen"],
        workspace=request.membership.workspace,
    )


def _source(request: WorkspaceRequest, data: QueryDict) -> Incident | None:
    """The incident the alerts were selected in; None means "every incident they are in"."""
    number = parse_number(data.get("source", ""))
    return access_incident(request, number, Role.RESPONDER) if number is not None else None


def _selection_problem(alerts: list[Alert], unknown: int) -> str:
    if unknown:
        return (
            f"{unknown} of the selected alerts no longer exist or are not in this workspace. "
            "Reload the list and select them again."
        )
    return "" if alerts else "Select at least one alert."


def _linked(
    request: WorkspaceRequest, result: membership.MoveResult, next_url: str | None
) -> HttpResponse:
    """Close the panel (htmx: an event the lists refresh on), or go back with a message."""
    target = result.destination
    count = len(result.moved)
    what = f"Alert “{result.moved[0].display_name}” was" if count == 1 else f"{count} alerts were"
    where = "a new incident" if result.created else "incident"
    message = f"{what} linked to {where} #{target.number} “{target.title}”."
    if result.reopened:
        message += f" Reopened #{target.number}."
    if result.closed:
        message += " Closed " + ", ".join(f"#{i.number}" for i in result.closed) + "."
    if request.htmx:
        response = HttpResponse(status=204)
        detail = {
            "message": message,
            "url": target.get_absolute_url(),
            "number": target.number,
            "undo": undo_url(result.change),
        }
        return trigger_client_event(response, LINKED_EVENT, detail)
    link = format_html(
        '<a href="{}">Open incident #{}</a>', target.get_absolute_url(), target.number
    )
    messages.success(request, format_html("{} {}", message, link))
    return redirect(next_url or target.get_absolute_url())


@require_GET
@workspace_view
def incident_search(request: WorkspaceRequest) -> HttpResponse:
    """The options under "Incident name or ID", filtered by what was typed."""
    text = request.GET.get("incident", "")
    exclude = parse_number(request.GET.get("exclude", ""))
    incidents = selectors.search_incidents(request.membership.workspace, text, exclude=exclude)
    context = {"incidents": incidents, "text": text, "note": parse_search(text).note}
    return render(request, "incidents/incident_search.html", context)
