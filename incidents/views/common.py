"""Small helpers the views share."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import reswap, trigger_client_event

from incidents.models import Incident
from incidents.selectors import Sort, parse_sort

# The incident page refreshes itself on this event; its detail carries the notification.
INCIDENT_CHANGED = "incidentChanged"
# A refused change: the page shows the reason and keeps everything as it was.
ACTION_REFUSED = "actionRefused"


def page_or_fragment(request: HttpRequest, template: str, fragment: str) -> str:
    """The whole page, or only its `fragment` partial when htmx asks (a list refreshing).

    Restoring a pushed address from history needs the whole page, though htmx asks.
    """
    partial = request.htmx and not request.htmx.history_restore_request
    return f"{template}#{fragment}" if partial else template


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it points back into this site, else None."""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else None


def back_to(request: HttpRequest, incident: Incident) -> str:
    """Where a request without JavaScript returns: its safe `next`, else the incident."""
    data = request.POST if request.method == "POST" else request.GET
    return safe_next(request, data.get("next")) or incident.get_absolute_url()


def changed(
    request: HttpRequest, incident: Incident, message: str, *, focus: str = "", undo: str = ""
) -> HttpResponse:
    """Done: htmx gets an event to refresh on (the id to focus after, the address that
    undoes the change), else a redirect."""
    if request.htmx:
        detail = {"message": message, "number": incident.number, "focus": focus, "undo": undo}
        return trigger_client_event(HttpResponse(status=204), INCIDENT_CHANGED, detail)
    messages.success(request, message)
    return redirect(back_to(request, incident))


def refused(request: HttpRequest, incident: Incident, message: str) -> HttpResponse:
    """Nothing changed: htmx shows why in a notification (200, so htmx logs no error)."""
    if request.htmx:
        response = reswap(HttpResponse(), "none")
        return trigger_client_event(response, ACTION_REFUSED, {"message": message})
    messages.error(request, message)
    return redirect(back_to(request, incident))


def sort_columns(value: str, sorts: dict[str, Sort], default: str) -> dict[str, dict]:
    """Per sortable column: the sort its header link asks for and its aria-sort state."""
    _, column, descending = parse_sort(value, sorts, default)
    columns = {}
    for name in sorts:
        active = name == column.column
        columns[name] = {
            "param": (name if descending else f"-{name}") if active else f"-{name}",
            "state": ("descending" if descending else "ascending") if active else "none",
        }
    return columns
