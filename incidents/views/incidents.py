"""The incident page: its header and the Overview, Alerts, Entities and Activity tabs."""

import json

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
from incidents.models import Entity, EntityKind, Incident
from incidents.views.common import page_or_fragment
from incidents.views.exclusions import correlation_context


def _render_tab(request: WorkspaceRequest, incident: Incident, tab: str, **context) -> HttpResponse:
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
    return _render_tab(
        request,
        incident,
        "overview",
        alerts=selectors.incident_timeline(incident),
        comments=selectors.recent_comments(incident),
    )


@require_GET
@workspace_view
def incident_alerts(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    return _render_tab(request, incident, "alerts", alerts=selectors.incident_alerts(incident))


@require_GET
@workspace_view
def incident_entities(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number)
    return _render_tab(request, incident, "entities", **_entities(request, incident))


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
    return _render_tab(
        request,
        incident,
        "entities",
        **_entities(request, incident),
        entity=entity,
        properties=_properties(entity),
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
    return _render_tab(
        request, incident, "activity", page=page, undoable=undoable, undo_entry_id=undo_entry_id
    )


def _kind(request: WorkspaceRequest) -> str:
    kind = request.GET.get("kind", "")
    return kind if kind in EntityKind.values else ""


def _entities(request: WorkspaceRequest, incident: Incident) -> dict:
    """The Entities tab's list: every kind with its count, the chosen kind's entities."""
    kind = _kind(request)
    groups = selectors.group_by_kind(selectors.incident_entities(incident))
    return {
        "kind": kind,
        "kinds": groups,
        "entity_count": sum(len(g.entities) for g in groups),
        "groups": [g for g in groups if g.kind == kind] if kind else groups,
    }


def _properties(entity: Entity) -> list[tuple[str, str]]:
    """The entity's raw properties as (name, text); nested values as compact JSON, and
    the entities it names (a process's host) by their identifiers."""
    # Properties come from ingestion and the admin as any JSON, not always an object.
    found = entity.properties if isinstance(entity.properties, dict) else {}
    return [(name, _property_text(value)) for name, value in found.items()]


def _property_text(value: object) -> str:
    if isinstance(value, str):
        return value
    references = value if isinstance(value, list) else [value]
    if references and all(
        isinstance(r, dict) and r.keys() == {"Type", "identifier"} for r in references
    ):
        return ", ".join(str(r["identifier"]) for r in references)
    return json.dumps(value, ensure_ascii=False)
