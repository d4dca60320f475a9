"""The incidents queue (with its expandable rows) and the alerts queue."""

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from incidents import facets, selectors
from incidents.access import WorkspaceRequest, access_incident, can_act, workspace_view
from incidents.filters import AlertFilter, IncidentFilter
from incidents.models import Alert, Incident
from incidents.views import bulk
from incidents.views.common import page_or_fragment, sort_columns


@require_GET
@workspace_view
def incident_list(request: WorkspaceRequest) -> HttpResponse:
    incidents = Incident.objects.filter(workspace=request.membership.workspace)
    filterset = IncidentFilter(request.GET, queryset=incidents, request=request)
    sort = request.GET.get("sort", "")
    page = selectors.incident_page(filterset.qs, sort, request.GET.get("cursor"))
    context = {
        "filter": filterset,
        "page": page,
        "total": facets.count_matching(filterset.qs),
        "columns": sort_columns(sort, selectors.INCIDENT_SORTS, "-last_activity"),
        "bulk_actions": [(action, button) for action, (button, _, _) in bulk.ACTIONS.items()],
        "section": "incidents",
        "can_act": can_act(request),
    }
    template = page_or_fragment(request, "incidents/incident_list.html", "list")
    return render(request, template, context)


@require_GET
@workspace_view
def incident_alert_rows(request: WorkspaceRequest, number: int) -> HttpResponse:
    """An incident's alerts, as the row that expands under it in the queue."""
    incident = access_incident(request, number)
    context = {
        "incident": incident,
        "alerts": selectors.incident_alerts(incident),
        "can_act": can_act(request),
        # The page the panel returns to: the queue this row was expanded in.
        "next_url": request.htmx.current_url_abs_path or reverse("incidents:incident_list"),
    }
    return render(request, "incidents/incident_list.html#expansion", context)


@require_GET
@workspace_view
def alert_list(request: WorkspaceRequest) -> HttpResponse:
    alerts = Alert.objects.filter(workspace=request.membership.workspace)
    filterset = AlertFilter(request.GET, queryset=alerts, request=request)
    sort = request.GET.get("sort", "")
    page = selectors.alert_page(filterset.qs, sort, request.GET.get("cursor"))
    context = {
        "filter": filterset,
        "page": page,
        "total": facets.count_matching(filterset.qs, ordered=filterset.count_in_order),
        "columns": sort_columns(sort, selectors.ALERT_SORTS, "-time"),
        "section": "alerts",
        "can_act": can_act(request),
    }
    template = page_or_fragment(request, "incidents/alert_list.html", "list")
    return render(request, template, context)
