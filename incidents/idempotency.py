"""One-time form tokens: a form submitted twice (a double click, a retry) changes things once.

The token is claimed in the same transaction as the change; the repeat gets the first
answer again ("Already done"). A request without a token (API clients, old pages) acts.
"""

import functools
import json
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from incidents.models import SubmittedForm

FIELD = "form_token"
ALREADY_DONE = "Already done: "


def _token(request: HttpRequest) -> uuid.UUID | None:
    if request.method != "POST" or not request.user.is_authenticated:
        return None
    try:
        return uuid.UUID(request.POST.get(FIELD, ""))
    except ValueError:
        return None


def _done(response: HttpResponse) -> bool:
    """An answer that means "changed": an htmx event (204), a redirect or an htmx redirect."""
    return (
        response.status_code == 204
        or 300 <= response.status_code < 400
        or ("HX-Redirect" in response)
    )


def _summary(response: HttpResponse) -> dict:
    return {
        "status": response.status_code,
        "trigger": response.get("HX-Trigger", ""),
        "location": response.get("Location", ""),
        "redirect": response.get("HX-Redirect", ""),
    }


def _replay(summary: dict) -> HttpResponse:
    if summary["location"]:
        return HttpResponseRedirect(summary["location"])
    response = HttpResponse(status=summary["status"])
    if summary.get("redirect"):
        response["HX-Redirect"] = summary["redirect"]
    if summary["trigger"]:
        events = json.loads(summary["trigger"])
        for detail in events.values():
            if isinstance(detail, dict) and detail.get("message"):
                detail["message"] = ALREADY_DONE + detail["message"]
        response["HX-Trigger"] = json.dumps(events)
    return response


def once_per_form_token(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Apply a POST carrying a form token once; a repeat gets the first answer again."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = _token(request)
        if token is None:
            return view(request, *args, **kwargs)
        earlier = SubmittedForm.objects.filter(token=token).first()
        if earlier is not None and earlier.user_id != request.user.pk:
            return view(request, *args, **kwargs)  # Not this user's form: no claim to honour.
        if earlier is not None:
            return _replay(earlier.response_summary)
        try:
            # The claim commits with the change or not at all; a racing twin's claim wins.
            with transaction.atomic():
                response = view(request, *args, **kwargs)
                if _done(response):
                    SubmittedForm.objects.create(
                        token=token, user=request.user, response_summary=_summary(response)
                    )
        except IntegrityError:
            earlier = SubmittedForm.objects.filter(token=token, user=request.user).first()
            if earlier is None:
                raise
            return _replay(earlier.response_summary)
        return response

    return wrapper
