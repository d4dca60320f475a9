"""The investigation graph: the page (inside the incident page's header and tabs) and the
JSON it draws from. Adding and removing alerts from the graph use the entity timeline's
views (`relating.add_alert`, `relating.remove_alert`) and their dialogs."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from incidents import graph
from incidents.access import (
    WorkspaceRequest,
    access_entity,
    access_incident,
    can_act,
    workspace_view,
)
from incidents.views.incidents import render_tab


@require_GET
@workspace_view
def incident_graph(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    return render_tab(request, incident, "graph")


@never_cache
@require_GET
@workspace_view
def incident_graph_json(request: WorkspaceRequest, number: int) -> JsonResponse:
    incident = access_incident(request, number)
    return JsonResponse(graph.graph(incident, can_act=can_act(request)))


@never_cache
@require_GET
@workspace_view
def related_alerts(request: WorkspaceRequest, number: int, entity_id: int) -> JsonResponse:
    incident = access_incident(request, number)
    return JsonResponse(graph.related_alerts(incident, access_entity(request, entity_id)))


@never_cache
@require_GET
@workspace_view
def related_incidents(request: WorkspaceRequest, number: int, entity_id: int) -> JsonResponse:
    incident = access_incident(request, number)
    return JsonResponse(graph.related_incidents(incident, access_entity(request, entity_id)))
