"""Middleware of the audit app."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.record import current_request


def remember_request(get_response: Callable[[HttpRequest], HttpResponse]):
    """Lets the security log name who changed a model, and from where, in a model signal."""

    def middleware(request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return get_response(request)
        finally:
            current_request.reset(token)

    return middleware
