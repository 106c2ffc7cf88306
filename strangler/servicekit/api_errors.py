"""The one place where an exception becomes an API error response, in every service.

Every error body has one shape: ``{"code": str, "message": str}``, plus ``fields`` (field
name to list of messages) for validation errors and ``details`` where a domain error carries
some (for example which product is out of stock). A client reaching the monolith or an
extracted service through the proxy cannot tell them apart by their errors.

Each service keeps its own error tree (its services raise it; the service imports no other
service) and names its root, a ``ServiceError`` subclass, to ``api_exception_handler_for``;
its settings point DRF's ``EXCEPTION_HANDLER`` at the handler that returns::

    api_exception_handler = api_exception_handler_for(StorefrontError, messages=...)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

__all__ = [
    "ExceptionHandler",
    "ServiceError",
    "api_exception_handler_for",
    "error_body",
    "server_error_body",
    "token_auth_messages",
]

ExceptionHandler = Callable[[Exception, dict[str, Any]], Response | None]

# DRF's own words where they tell a client what to do next; a service adds its own (how to
# authenticate, say) through ``messages``.
_MESSAGES: Mapping[str, str] = {
    "permission_denied": "You do not have permission to perform this action.",
    "unsupported_media_type": "Send the body as JSON, with 'Content-Type: application/json'.",
}
_INVALID_FIELDS = "The request has invalid fields; see 'fields' for what to fix."


class ServiceError(Exception):
    """Root of a service's domain errors: a status, a stable code and a message for the
    client, and ``details`` rendered beside them."""

    http_status: ClassVar[int] = 400
    default_code: ClassVar[str] = "service_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The error body; an empty ``extra`` value (no fields, no details) is left out."""
    return {"code": code, "message": message, **{k: v for k, v in extra.items() if v}}


def server_error_body() -> dict[str, Any]:
    """The 500 body: the request id (``strangler.servicekit.request_id``) finds the cause."""
    return error_body(
        "server_error",
        "The server failed to answer; the request id in the "
        "X-Request-ID header finds the cause in the logs.",
    )


def token_auth_messages(*, obtain_path: str) -> dict[str, str]:
    """How a client missing or with wrong credentials is told to authenticate: a token from
    ``obtain_path``, as ``StranglerIdentityAuthentication`` challenges (``Token``) too."""
    return {
        "not_authenticated": "Authentication credentials were not provided. Send "
        f"'Authorization: Token <token>' (POST {obtain_path} to get one) or log in.",
        "authentication_failed": f"The credentials are invalid. Get a new token with "
        f"POST {obtain_path}.",
    }


def _flatten_fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            str(k): _flatten_fields(v) if isinstance(v, dict) else _as_list(v)
            for k, v in detail.items()
        }
    return {"non_field_errors": _as_list(detail)}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item if isinstance(item, dict) else str(item) for item in value]
    return [str(value)]


def api_exception_handler_for(
    error_root: type[ServiceError], *, messages: Mapping[str, str]
) -> ExceptionHandler:
    """DRF's exception handler for a service whose domain errors derive from ``error_root``.

    ``messages`` words the answers to DRF's own errors by code, over the defaults above; a
    ``not_found`` keeps the detail it was raised with (it names what was not found).
    """
    wording = {**_MESSAGES, **messages}

    def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
        if isinstance(exc, error_root):
            return Response(
                error_body(exc.code, exc.message, details=exc.details), status=exc.http_status
            )
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()

        response = exception_handler(exc, context)
        if response is None or not isinstance(exc, exceptions.APIException):
            return response

        if isinstance(exc, exceptions.ValidationError):
            response.data = error_body(
                "validation_error", _INVALID_FIELDS, fields=_flatten_fields(exc.detail)
            )
            response.status_code = status.HTTP_400_BAD_REQUEST
            return response

        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        message = wording.get(code, detail) if code != "not_found" else detail
        response.data = error_body(code, message)
        return response

    return api_exception_handler
