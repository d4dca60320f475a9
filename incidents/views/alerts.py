"""The alert page."""

import uuid

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from incidents import selectors
from incidents.access import WorkspaceRequest, access_alert, can_act, workspace_view
from incidents.views.common import page_or_fragment


@require_GET
@workspace_view
def alert_detail(request: WorkspaceRequest, system_alert_id: uuid.UUID) -> HttpResponse:
    alert = selectors.alert_with_details(access_alert(request, system_alert_id))
    template = page_or_fragment(request, "incidents/alert_detail.html", "detail")
    return render(
        request, template, {"alert": alert, "can_act": can_act(request), "section": "alerts"}
    )
