"""The incident details panel: the queue's side panel for the selected row (the seeds'
"incident details panel" with "View full details" and "Actions")."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from incidents import selectors
from incidents.access import WorkspaceRequest, access_incident, can_act, workspace_view
from incidents.summary import alerts_in_brief, summarize

PANEL_ALERTS = 5


@require_GET
@workspace_view
def incident_panel(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    if not request.htmx:
        # The panel lives beside the queue; on its own it is the incident page.
        return redirect(incident)
    alerts = alerts_in_brief(incident)
    context = {
        "incident": incident,
        "alerts": alerts[:PANEL_ALERTS],
        "more_alerts": max(0, incident.alert_count - PANEL_ALERTS),
        "summary": summarize(incident, alerts),
        "comments": selectors.recent_comments(incident),
        "can_act": can_act(request),
        # Actions taken in the panel come back to the queue it was opened from.
        "here": request.htmx.current_url_abs_path or "",
    }
    return render(request, "incidents/_incident_panel.html", context)
