"""Writes the security log. Receivers (`audit.receivers`) call `record` for each event."""

from contextvars import ContextVar
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from audit.addresses import client_address
from audit.models import EventKind, SecurityEvent

# The request being answered, set by `audit.middleware.remember_request`; None in commands.
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)

COMMAND_LINE = "command line"
ANONYMOUS = "anonymous"


def record(
    kind: EventKind,
    message: str,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    actor_name: str | None = None,
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Log `kind`; who and from where come from `request` (or the current one) unless given."""
    request = request if request is not None else current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if actor_name is None:
        if actor is not None:
            actor_name = actor.get_username()
        else:
            actor_name = ANONYMOUS if request is not None else COMMAND_LINE
    return SecurityEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_name=actor_name[:200],
        address=client_address(request) if request is not None else None,
        message=message,
        details=details or {},
    )
