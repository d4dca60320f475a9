"""Every API error as Sentinel spells it: `{"error": {"code": "...", "message": "..."}}`."""

import math

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from incidents.errors import TriageError

CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
}


class ApiError(exceptions.APIException):
    """An error with the status, code and message the API answers with, and optionally
    Azure's `details`: one `{"code", "target", "message"}` per part that is wrong."""

    def __init__(
        self,
        status_code: int,
        message: str,
        code: str | None = None,
        details: list[dict] | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.error_code = code or CODES.get(status_code, "Error")
        self.message = message
        self.details = details


def bad_request(message: str) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, message)


def not_found(message: str) -> ApiError:
    return ApiError(status.HTTP_404_NOT_FOUND, message)


def error_response(
    status_code: int, code: str, message: str, headers=None, details: list[dict] | None = None
) -> Response:
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return Response({"error": body}, status=status_code, headers=headers)


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def exception_handler(exc, context) -> Response | None:
    """DRF's hook: turn every error into Sentinel's shape."""
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.error_code, exc.message, details=exc.details)
    if isinstance(exc, TriageError):
        return error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(math.ceil(exc.wait))
        if isinstance(exc, exceptions.NotAuthenticated):
            message = "Authentication is required: send 'Authorization: Bearer <token>'."
        else:
            message = _flatten(exc.detail)
        code = CODES.get(exc.status_code, "Error")
        return error_response(exc.status_code, code, message, headers=headers)
    return None
