"""Who may see and do what: `access_*` fetch an object and authorise the request.

Everything happens in the request's current workspace (session key "workspace",
defaulting to the user's first membership by workspace name). Objects outside it are
404, as if they did not exist; a role too low for the action is 403.
"""

import uuid
from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from incidents.models import (
    Alert,
    CorrelationRule,
    Entity,
    Incident,
    Membership,
    Role,
    Workspace,
)

SESSION_KEY = "workspace"


class WorkspaceRequest(HttpRequest):
    """A request whose user acts in `membership.workspace` (set by `workspace_view`)."""

    membership: Membership
    memberships: list[Membership]


def memberships_of(request: HttpRequest) -> list[Membership]:
    return list(
        Membership.objects.filter(user=request.user)
        .select_related("workspace")
        .order_by("workspace__name")
    )


def current_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.workspace_id == chosen:
            return membership
    return memberships[0] if memberships else None


def workspace_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required; the view runs in the user's current workspace, or explains there is none."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        memberships = memberships_of(request)
        membership = current_membership(request, memberships)
        if membership is None:
            return render(request, "incidents/no_workspace.html")
        request.memberships = memberships
        request.membership = membership
        return view(request, *args, **kwargs)

    return wrapper


def check_role(request: WorkspaceRequest, role: Role) -> None:
    if not request.membership.allows(role):
        raise PermissionDenied(f"This needs the {Role(role).label} role in this workspace.")


def can_act(request: WorkspaceRequest) -> bool:
    return request.membership.allows(Role.RESPONDER)


def workspace_of(request: WorkspaceRequest) -> Workspace:
    return request.membership.workspace


def access_incident(request: WorkspaceRequest, number: int, role: Role = Role.READER) -> Incident:
    incident = get_object_or_404(
        Incident.objects.select_related("owner"), workspace=workspace_of(request), number=number
    )
    check_role(request, role)
    return incident


def access_alert(
    request: WorkspaceRequest, system_alert_id: uuid.UUID, role: Role = Role.READER
) -> Alert:
    alert = get_object_or_404(
        Alert, workspace=workspace_of(request), system_alert_id=system_alert_id
    )
    check_role(request, role)
    return alert


def access_rule(
    request: WorkspaceRequest, rule_id: int, role: Role = Role.READER
) -> CorrelationRule:
    rule = get_object_or_404(CorrelationRule, workspace=workspace_of(request), pk=rule_id)
    check_role(request, role)
    return rule


def access_entity(request: WorkspaceRequest, entity_id: int) -> Entity:
    return get_object_or_404(Entity, workspace=workspace_of(request), pk=entity_id)


def find_alert(request: WorkspaceRequest, system_alert_id: uuid.UUID) -> Alert | None:
    """The alert of the current workspace with that id; None (not 404) so a view can explain."""
    return Alert.objects.filter(
        workspace=workspace_of(request), system_alert_id=system_alert_id
    ).first()


def access_alerts(
    request: WorkspaceRequest, ids: Iterable[str], role: Role = Role.RESPONDER
) -> tuple[list[Alert], int]:
    """The posted alerts the user may see, oldest first, and how many posted ids were not."""
    check_role(request, role)
    wanted = set()
    unknown = 0
    for raw in ids:
        try:
            wanted.add(uuid.UUID(raw))
        except ValueError:
            unknown += 1
    alerts = list(
        Alert.objects.filter(workspace=workspace_of(request), system_alert_id__in=wanted).order_by(
            "time_generated", "id"
        )
    )
    return alerts, unknown + len(wanted) - len(alerts)


def access_workspace(request: WorkspaceRequest, name: str) -> Membership:
    """The user's membership of the workspace called `name` (404 when they have none)."""
    for membership in request.memberships:
        if membership.workspace.name == name:
            return membership
    raise Http404("You are not a member of that workspace.")
