"""The home page and the workspace switcher."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from incidents.access import SESSION_KEY, WorkspaceRequest, access_workspace, workspace_view


def home(request: HttpRequest) -> HttpResponse:
    return redirect("incidents:incident_list")


@require_POST
@workspace_view
def switch_workspace(request: WorkspaceRequest) -> HttpResponse:
    membership = access_workspace(request, request.POST.get("workspace", ""))
    request.session[SESSION_KEY] = membership.workspace_id
    # Numbers mean other incidents in another workspace, so start again from its queue.
    return redirect("incidents:incident_list")
