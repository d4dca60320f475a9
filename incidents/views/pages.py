"""Placeholder pages until the queues land (issue #3): they say so plainly."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    return redirect("incidents:incident_list")


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/coming_soon.html", {"page": "Incidents"})


@login_required
def incident_detail(request: HttpRequest, number: int) -> HttpResponse:
    return render(request, "incidents/coming_soon.html", {"page": f"Incident #{number}"})


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    return render(request, "incidents/coming_soon.html", {"page": "Alerts"})


@login_required
def alert_detail(request: HttpRequest, system_alert_id) -> HttpResponse:
    return render(request, "incidents/coming_soon.html", {"page": "Alert"})
