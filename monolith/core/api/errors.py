"""The one place where an exception becomes an API error response.

Every error body has the same shape: ``{"code": str, "message": str}``, plus ``fields``
(field name to list of messages) for validation errors and ``details`` where a domain
error carries some (for example which product is out of stock).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from monolith.core.errors import StorefrontError

__all__ = ["api_exception_handler", "error_body"]

_MESSAGES = {
    "not_authenticated": "Authentication credentials were not provided. Send "
    "'Authorization: Token <token>' (POST /api/v1/auth/token/ to get one) or log in.",
    "authentication_failed": "The credentials are invalid. Get a new token with "
    "POST /api/v1/auth/token/.",
    "permission_denied": "You do not have permission to perform this action.",
    "not_found": "Not found.",
    "unsupported_media_type": "Send the body as JSON, with 'Content-Type: application/json'.",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **{k: v for k, v in extra.items() if v}}


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


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, StorefrontError):
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
            "validation_error",
            "The request has invalid fields; see 'fields' for what to fix.",
            fields=_flatten_fields(exc.detail),
        )
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response

    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
    message = _MESSAGES.get(code, detail) if code != "not_found" else detail
    response.data = error_body(code, message)
    return response
