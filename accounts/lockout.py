"""What a locked-out sign-in sees (axes' AXES_LOCKOUT_CALLABLE), and the username axes
counts failures for (AXES_USERNAME_CALLABLE)."""

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# A username is at most this long (auth.User), and axes stores the attempts' in 255 characters.
USERNAME_LENGTH = 150


def username_of(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username a sign-in tried, cut to a username's length: a megabyte typed in the
    field is an attempt on the same (impossible) account, not a database error."""
    data = credentials or getattr(request, "data", request.POST)
    username = data.get("username")
    return username[:USERNAME_LENGTH] if isinstance(username, str) else username


def lockout_message(request: HttpRequest) -> str:
    # Each failure while locked out restarts the cool-off (axes' default), so it is the wait.
    minutes = max(1, round(get_cool_off(request).total_seconds() / 60))
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, "
        "or ask an administrator to unlock it."
    )


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The sign-in page again, with the reason and no way around it but waiting."""
    form = AuthenticationForm(
        request, initial={"username": get_client_username(request, credentials)}
    )
    context = {
        "form": form,
        "locked_out": lockout_message(request),
        "next": request.POST.get("next", ""),
    }
    return render(
        request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
