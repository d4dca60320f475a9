"""The incident page: its header and the Overview, Alerts, Entities and Activity tabs."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from incidents import membership, selectors
from incidents.access import (
    WorkspaceRequest,
    access_entity,
    access_incident,
    can_act,
    workspace_view,
)
from incidents.models import EntityKind, Incident, Severity
from incidents.similar import similar_incidents
from incidents.summary import summarize
from incidents.views.common import page_or_fragment
from incidents.views.exclusions import correlation_context


def render_tab(request: WorkspaceRequest, incident: Incident, tab: str, **context) -> HttpResponse:
    template = page_or_fragment(request, "incidents/incident_detail.html", "incident")
    context = {
        "incident": incident,
        # Only a full incident can be continued: no query for the others.
        "continued_by": (
            list(incident.continued_by.order_by("number"))
            if incident.alert_count >= membership.max_alerts()
            else []
        ),
        "tab": tab,
        "can_act": can_act(request),
        "section": "incidents",
        **context,
    }
    response = render(request, template, context)
    # One address, two answers (page or fragment): caches and Back must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@workspace_view
def incident_detail(request: WorkspaceRequest, number: int) -> HttpResponse:
    """The Overview tab: details, the incident timeline and the newest comments."""
    incident = access_incident(request, number)
    cursor = request.GET.get("cursor")
    if request.htmx and cursor:
        # "Show more alerts": only the next alerts, appended to the Incident timeline.
        timeline = selectors.incident_timeline(incident, cursor)
        context = {"incident": incident, "timeline": timeline, "appending": True}
        context["can_act"] = can_act(request)
        response = render(request, "incidents/_overview.html#timeline", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    return render_tab(request, incident, "overview", **_overview(incident, cursor=cursor))


@require_GET
@workspace_view
def incident_similar(request: WorkspaceRequest, number: int) -> HttpResponse:
    """Similar incidents: the Overview's card loads them after the page (they cost more
    than the rest of it); without JavaScript, the Overview with them."""
    incident = access_incident(request, number)
    similar = similar_incidents(incident)
    if request.htmx:
        context = {"incident": incident, "similar": similar}
        return render(request, "incidents/_overview.html#similar", context)
    return render_tab(request, incident, "overview", **_overview(incident, similar))


def _overview(incident: Incident, similar: list | None = None, cursor: str | None = None) -> dict:
    """The Overview's context; `similar` None: the card loads them itself."""
    return {
        "timeline": selectors.incident_timeline(incident, cursor),
        "summary": summarize(incident),
        "comments": selectors.recent_comments(incident),
        "severities": Severity.values,
        "similar": similar,
    }


@require_GET
@workspace_view
def incident_alerts(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    return render_tab(request, incident, "alerts", alerts=selectors.incident_alerts(incident))


@require_GET
@workspace_view
def incident_entities(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    return render_tab(request, incident, "entities", **_entities(request, incident))


@require_GET
@workspace_view
def incident_entity(request: WorkspaceRequest, number: int, entity_id: int) -> HttpResponse:
    """The Entities tab with one entity's side panel: its details and its Timeline card."""
    incident = access_incident(request, number)
    entity = access_entity(request, entity_id)
    cursor = request.GET.get("cursor")
    timeline = selectors.entity_timeline(entity, incident, cursor)
    if request.htmx and cursor:
        # "Show more": only the next alerts, appended to the Timeline card.
        context = {"incident": incident, "entity": entity, "timeline": timeline}
        context.update(can_act=can_act(request), kind=_kind(request), appending=True)
        return render(request, "incidents/_entity_panel.html#timeline", context)
    return render_tab(
        request,
        incident,
        "entities",
        **_entities(request, incident),
        entity=entity,
        properties=selectors.entity_properties(entity),
        timeline=timeline,
        **correlation_context(request, entity),
    )


@require_GET
@workspace_view
def incident_activity(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    page = selectors.activity_page(incident, request.GET.get("cursor"))
    # "Undo" beside the newest entry of the most recent change that can still be undone.
    undoable = membership.latest_undoable(incident) if can_act(request) else None
    tag = str(undoable.uuid) if undoable else None
    undo_entry_id = next((e.pk for e in page.rows if tag and e.details.get("change") == tag), None)
    return render_tab(
        request, incident, "activity", page=page, undoable=undoable, undo_entry_id=undo_entry_id
    )


def _kind(request: WorkspaceRequest) -> str:
    kind = request.GET.get("kind", "")
    return kind if kind in EntityKind.values else ""


def _entities(request: WorkspaceRequest, incident: Incident) -> dict:
    """The Entities tab's list: every kind with its count, the chosen kind's entities."""
    kind = _kind(request)
    groups = selectors.group_by_kind(selectors.incident_entities(incident, properties=False))
    return {
        "kind": kind,
        "kinds": groups,
        "entity_count": sum(len(g.entities) for g in groups),
        "groups": [g for g in groups if g.kind == kind] if kind else groups,
    }
