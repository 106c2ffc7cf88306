"""``/internal/sync/`` endpoints: authenticate, parse, call one service, render.

Every error is a ``SyncError`` turned into ``{code, message}`` here and nowhere else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from strangler.identity import (
    INTERNAL_AUTH_HEADER,
    INTERNAL_TIMESTAMP_HEADER,
    IdentityInvalid,
    verify_internal_request,
)
from strangler.sync.apply import apply_batch, cursor_get
from strangler.sync.config import sync_settings
from strangler.sync.errors import BadRequest, SyncError, Unauthenticated
from strangler.sync.status import status_document
from strangler.sync.switch import source_switch_record
from strangler.sync.wire import SyncJSONEncoder, apply_request_parse, source_parse

__all__ = ["apply_view", "cursor_view", "status_view", "switch_view"]

_View = Callable[[HttpRequest], dict[str, Any]]


def sync_endpoint(view: _View) -> Callable[[HttpRequest], HttpResponse]:
    """Authenticate the body, run ``view``, and render its result or its ``SyncError``."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            _authenticate(request)
            payload = view(request)
        except SyncError as exc:
            return JsonResponse(exc.as_json(), status=exc.status)
        return JsonResponse(payload, encoder=SyncJSONEncoder)

    return csrf_exempt(never_cache(wrapper))


def _authenticate(request: HttpRequest) -> None:
    try:
        verify_internal_request(
            request.body,
            mac=request.headers.get(INTERNAL_AUTH_HEADER),
            timestamp=request.headers.get(INTERNAL_TIMESTAMP_HEADER),
            secret=sync_settings().secret,
            now=time.time(),
        )
    except IdentityInvalid as exc:
        raise Unauthenticated(exc.message, code=exc.code) from None


def request_json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The body is not JSON.") from None


@require_POST
@sync_endpoint
def cursor_view(request: HttpRequest) -> dict[str, Any]:
    return {"cursor": cursor_get(source=source_parse(request_json(request))).as_json()}


@require_POST
@sync_endpoint
def apply_view(request: HttpRequest) -> dict[str, Any]:
    return apply_batch(apply_request_parse(request_json(request))).as_json()


@require_POST
@sync_endpoint
def switch_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    source = source_parse(body)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise BadRequest("'enabled' must be true or false.")
    cursor = source_switch_record(source=source, enabled=enabled)
    return {"source": cursor.source, "enabled": cursor.source_enabled}


@require_GET
@sync_endpoint
def status_view(request: HttpRequest) -> dict[str, Any]:
    return status_document()
