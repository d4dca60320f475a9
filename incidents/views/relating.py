"""Relating one alert to an incident: adding it (with the seed's special situations) and
removing it. The add dialog is one fragment, `add_alert.html#dialog`, for every page that
offers "Add alert to incident" (the entity timeline, the investigation graph)."""

import uuid

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from incidents import membership
from incidents.access import WorkspaceRequest, access_incident, find_alert, workspace_view
from incidents.activity import Actor
from incidents.errors import AlertAlreadyInIncident, TriageError
from incidents.forms import AddAlertForm, RemoveAlertForm
from incidents.idempotency import once_per_form_token
from incidents.models import Alert, Role
from incidents.views.common import back_to, changed, page_or_fragment, refused
from incidents.views.merging import undo_url


def _unknown(system_alert_id: uuid.UUID) -> str:
    return (
        f"Alert {system_alert_id} does not exist in this workspace (any more). "
        "Reload the page; nothing was changed."
    )


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def add_alert(request: WorkspaceRequest, number: int, system_alert_id: uuid.UUID) -> HttpResponse:
    """GET asks for confirmation, naming the alert's other incidents; POST adds it."""
    incident = access_incident(request, number, Role.RESPONDER)
    alert = find_alert(request, system_alert_id)
    if alert is None:
        return refused(request, incident, _unknown(system_alert_id))
    form = AddAlertForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            result = membership.add_alerts(
                incident,
                [alert],
                actor=Actor.for_user(request.user),
                other_incident=form.cleaned_data["other_incident"],
            )
        except TriageError as error:
            return refused(request, incident, error.user_message)
        focus = f"alert-link-{alert.system_alert_id}"
        return changed(request, incident, _added(alert, result), focus=focus)
    preview = membership.preview_add(incident, [alert])
    # A stale page: say so in the seed's words before anyone presses OK.
    stale = AlertAlreadyInIncident(alert, incident).user_message if preview.already_here else ""
    context = {
        "incident": incident,
        "alert": alert,
        "form": form,
        "others": preview.other_incidents[alert.pk],
        "sole": preview.sole_alert_incidents,
        "problem": stale,
        "next": back_to(request, incident),
    }
    return render(request, page_or_fragment(request, "incidents/add_alert.html", "dialog"), context)


def _added(alert: Alert, result: membership.AddResult) -> str:
    message = f"Alert “{alert.display_name}” was added to incident #{result.incident.number}."
    if result.also_in[alert.pk]:
        numbers = ", ".join(f"#{i.number}" for i in result.also_in[alert.pk])
        message += f" It stays in {numbers}."
    for closed in result.closed:
        message += f" Incident #{closed.number} was closed."
    return message


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def remove_alert(
    request: WorkspaceRequest, number: int, system_alert_id: uuid.UUID
) -> HttpResponse:
    """GET asks for confirmation and an optional reason (saying first what would be
    refused); POST removes the alert. The Overview timeline and the entity timeline share it."""
    incident = access_incident(request, number, Role.RESPONDER)
    alert = find_alert(request, system_alert_id)
    if alert is None:
        return refused(request, incident, _unknown(system_alert_id))
    form = RemoveAlertForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            result = membership.remove_alert(
                incident,
                alert,
                actor=Actor.for_user(request.user),
                comment=form.cleaned_data["reason"],
            )
        except TriageError as error:
            return refused(request, incident, error.user_message)
        message = f"Alert “{alert.display_name}” was removed from incident #{incident.number}."
        focus = request.POST.get("focus") or "incident-timeline-heading"
        return changed(request, incident, message, focus=focus, undo=undo_url(result.change))
    refusal = membership.preview_remove(incident, alert)
    context = {
        "incident": incident,
        "alert": alert,
        "form": form,
        "problem": refusal.user_message if refusal else "",
        "next": back_to(request, incident),
        "focus": request.GET.get("focus") or request.POST.get("focus", ""),
        "section": "incidents",
    }
    template = page_or_fragment(request, "incidents/remove_alert.html", "dialog")
    return render(request, template, context)
