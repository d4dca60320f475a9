"""The entity panel's correlation card: exclude a value from correlation, or allow it again.

Contributors only. htmx gets the card back, re-rendered; without JavaScript the panel
reloads with a notification.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from incidents.access import WorkspaceRequest, access_entity, access_incident, workspace_view
from incidents.forms import ExclusionForm
from incidents.models import Entity, Incident, Role
from incidents.rules import exclusions


def correlation_context(request: WorkspaceRequest, entity: Entity, form=None) -> dict:
    """What the correlation card shows: whether and why the entity is excluded."""
    return {
        "correlation": exclusions.correlation_status(request.membership.workspace, entity),
        "can_exclude": request.membership.allows(Role.CONTRIBUTOR),
        "exclusion_form": form or ExclusionForm(),
    }


def _respond(
    request: WorkspaceRequest,
    incident: Incident,
    entity: Entity,
    message: str,
    form: ExclusionForm | None = None,
) -> HttpResponse:
    if request.htmx:
        context = {"incident": incident, "entity": entity, "message": message}
        context.update(correlation_context(request, entity, form))
        return render(request, "incidents/_entity_panel.html#correlation", context)
    if form is not None and form.errors:
        messages.error(request, " ".join(form.errors["reason"]))
    else:
        messages.success(request, message)
    return redirect(reverse("incidents:incident_entity", args=[incident.number, entity.pk]))


@require_POST
@workspace_view
def exclude_entity(request: WorkspaceRequest, number: int, entity_id: int) -> HttpResponse:
    incident = access_incident(request, number, Role.CONTRIBUTOR)
    entity = access_entity(request, entity_id)
    form = ExclusionForm(request.POST)
    if not form.is_valid():
        return _respond(request, incident, entity, "", form)
    workspace = request.membership.workspace
    exclusions.exclude_entity(
        workspace, entity, acting_user=request.user, reason=form.cleaned_data["reason"]
    )
    name = entity.display_name or entity.identifier
    return _respond(request, incident, entity, f"{name} no longer joins alerts by itself.")


@require_POST
@workspace_view
def allow_entity(request: WorkspaceRequest, number: int, entity_id: int) -> HttpResponse:
    incident = access_incident(request, number, Role.CONTRIBUTOR)
    entity = access_entity(request, entity_id)
    exclusions.allow_entity(request.membership.workspace, entity)
    name = entity.display_name or entity.identifier
    return _respond(request, incident, entity, f"{name} is no longer excluded from correlation.")
