"""The incident's triage actions: owner, status, close, reopen and comment.

Each answers an htmx request with `changed` (the page refreshes and notifies) or, for a
dialog, re-renders the dialog with the problem; without JavaScript it redirects back.
"""

from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from incidents import actions
from incidents.access import WorkspaceRequest, access_incident, workspace_view
from incidents.activity import Actor
from incidents.errors import TriageError
from incidents.forms import CloseIncidentForm, CommentForm, OwnerForm
from incidents.idempotency import once_per_form_token
from incidents.models import Incident, Role
from incidents.views.common import back_to, changed, page_or_fragment, refused


def _dialog(
    request: WorkspaceRequest, template: str, incident: Incident, form: Form, problem: str = ""
) -> HttpResponse:
    context = {"incident": incident, "form": form, "problem": problem}
    context["next"] = back_to(request, incident)
    return render(request, page_or_fragment(request, template, "dialog"), context)


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def assign_owner(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    data = request.POST if request.method == "POST" else None
    workspace = request.membership.workspace
    form = OwnerForm(
        data,
        workspace=workspace,
        me=request.user,
        current=incident.owner,
        initial={"owner": incident.owner},
    )
    problem = ""
    if data is not None and form.is_valid():
        owner = form.cleaned_data["owner"]
        try:
            actions.assign_owner(incident, owner, actor=Actor.for_user(request.user))
        except TriageError as error:
            problem = error.user_message
        else:
            who = f"assigned to {owner.get_username()}" if owner else "unassigned"
            message = f"Incident #{incident.number} is {who}."
            return changed(request, incident, message, focus="action-owner")
    return _dialog(request, "incidents/assign_owner.html", incident, form, problem)


@require_POST
@workspace_view
@once_per_form_token
def change_status(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    status = request.POST.get("status", "")
    try:
        actions.change_status(incident, status, actor=Actor.for_user(request.user))
    except TriageError as error:
        return refused(request, incident, error.user_message)
    message = f"Incident #{incident.number} is now {incident.status}."
    return changed(request, incident, message, focus="action-status")


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def close_incident(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    form = CloseIncidentForm(request.POST if request.method == "POST" else None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            actions.close_incident(
                incident,
                classification=form.cleaned_data["classification"],
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
                actor=Actor.for_user(request.user),
            )
        except TriageError as error:
            problem = error.user_message
        else:
            message = f"Incident #{incident.number} was closed."
            return changed(request, incident, message, focus="action-reopen")
    return _dialog(request, "incidents/close_incident.html", incident, form, problem)


@require_POST
@workspace_view
@once_per_form_token
def reopen_incident(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    try:
        actions.reopen_incident(incident, actor=Actor.for_user(request.user))
    except TriageError as error:
        return refused(request, incident, error.user_message)
    message = f"Incident #{incident.number} was reopened."
    return changed(request, incident, message, focus="action-close")


@require_http_methods(["GET", "POST"])
@workspace_view
@once_per_form_token
def add_comment(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    form = CommentForm(request.POST if request.method == "POST" else None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_comment(
                incident, form.cleaned_data["comment"], actor=Actor.for_user(request.user)
            )
        except TriageError as error:
            problem = error.user_message
        else:
            message = f"Your comment was added to #{incident.number}."
            return changed(request, incident, message, focus="action-comment")
    return _dialog(request, "incidents/add_comment.html", incident, form, problem)


@require_POST
@workspace_view
@once_per_form_token
def change_severity(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    try:
        actions.change_severity(
            incident, request.POST.get("severity", ""), actor=Actor.for_user(request.user)
        )
    except TriageError as error:
        return refused(request, incident, error.user_message)
    message = f"Incident #{incident.number} is now of {incident.severity} severity."
    return changed(request, incident, message, focus="action-severity")


@require_POST
@workspace_view
@once_per_form_token
def add_label(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    try:
        label = actions.check_label(request.POST.get("label", ""))
        actions.add_label(incident, label, actor=Actor.for_user(request.user))
    except TriageError as error:
        return refused(request, incident, error.user_message)
    message = f"Incident #{incident.number} is labelled {label}."
    return changed(request, incident, message, focus="label-new")


@require_POST
@workspace_view
@once_per_form_token
def remove_label(request: WorkspaceRequest, number: int) -> HttpResponse:
    incident = access_incident(request, number, Role.RESPONDER)
    label = request.POST.get("label", "")
    try:
        actions.remove_label(incident, label, actor=Actor.for_user(request.user))
    except TriageError as error:
        return refused(request, incident, error.user_message)
    message = f"Incident #{incident.number} is no longer labelled {label}."
    return changed(request, incident, message, focus="label-new")
