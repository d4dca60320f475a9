"""The incident page: its header and the Overview, Alerts, Entities and Activity tabs."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from incidents import selectors
from incidents.access import WorkspaceRequest, access_incident, can_act, workspace_view
from incidents.models import Incident
from incidents.views.common import page_or_fragment


def _render_tab(request: WorkspaceRequest, incident: Incident, tab: str, **context) -> HttpResponse:
    template = page_or_fragment(request, "incidents/incident_detail.html", "incident")
    context = {
        "incident": incident,
        "tab": tab,
        "can_act": can_act(request),
        "section": "incidents",
        **context,
    }
    return render(request, template, context)


@require_GET
@workspace_view
def incident_detail(request: WorkspaceRequest, number: int) -> HttpResponse:
    return _render_tab(request, access_incident(request, number), "overview")


@require_GET
@workspace_view
def incident_alerts(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    return _render_tab(request, incident, "alerts", alerts=selectors.incident_alerts(incident))


@require_GET
@workspace_view
def incident_entities(request: WorkspaceRequest, number: int) -> HttpResponse:
    return _render_tab(request, access_incident(request, number), "entities")


@require_GET
@workspace_view
def incident_activity(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    page = selectors.activity_page(incident, request.GET.get("cursor"))
    return _render_tab(request, incident, "activity", page=page)
