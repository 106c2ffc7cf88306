"""``/internal/sync/`` endpoints: authenticate, parse, call one service, render.

Every call is signed for its method, path, sender and receiver and used once
(``strangler.sync.signing``, ``strangler.sync.replay``); a body naming a ``source`` must name
the signed sender. Every error is a ``SyncError`` turned into ``{code, message}`` here and
nowhere else.
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

from strangler.sync.apply import apply_batch, cursor_get
from strangler.sync.config import sync_settings
from strangler.sync.errors import BadRequest, SyncError, Unauthenticated
from strangler.sync.replay import signature_record
from strangler.sync.signing import verify_sync_call
from strangler.sync.status import status_document
from strangler.sync.switch import source_switch_record
from strangler.sync.wire import SyncJSONEncoder, apply_request_parse, source_parse

__all__ = [
    "apply_view",
    "authenticate",
    "cursor_view",
    "request_json",
    "status_view",
    "switch_view",
    "sync_endpoint",
]

# Where the authenticated sender rides on the request, for ``request_json``'s check.
_SENDER = "strangler_sync.sender"

_View = Callable[[HttpRequest], dict[str, Any]]


def sync_endpoint(view: _View) -> Callable[[HttpRequest], HttpResponse]:
    """Authenticate the body, run ``view``, and render its result or its ``SyncError``."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            authenticate(request)
            payload = view(request)
        except SyncError as exc:
            return JsonResponse(exc.as_json(), status=exc.status)
        return JsonResponse(payload, encoder=SyncJSONEncoder)

    return csrf_exempt(never_cache(wrapper))


def authenticate(request: HttpRequest) -> str:
    """The sender of a signed call from a peer, used once; ``Unauthenticated`` otherwise."""
    config = sync_settings()
    query = request.META.get("QUERY_STRING", "")
    now = time.time()
    call = verify_sync_call(
        secret=config.secret,
        method=request.method or "",
        path=request.path + (f"?{query}" if query else ""),
        body=request.body,
        headers=request.headers,
        receiver=config.node,
        now=now,
    )
    if config.peer(call.sender) is None:
        raise Unauthenticated(
            f"{call.sender!r} is not a peer of {config.node}.", code="unknown_sender"
        )
    signature_record(call, now=now)
    request.META[_SENDER] = call.sender
    return call.sender


def request_json(request: HttpRequest) -> Any:
    """The body as JSON; its ``source``, when it names one, must be the signed sender."""
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The body is not JSON.") from None
    sender = request.META.get(_SENDER)
    source = body.get("source") if isinstance(body, dict) else None
    if sender is not None and source is not None and source != sender:
        raise Unauthenticated(
            f"The body's source {source!r} is not the signed sender {sender!r}.",
            code="sender_mismatch",
        )
    return body


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
