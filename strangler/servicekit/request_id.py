"""``X-Request-ID``: honoured when the client (or the proxy) sends a sane one, generated otherwise.

The id lives in a context variable so that every log line of the request carries it,
including lines logged by libraries that know nothing about requests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from logging import Filter, LogRecord

from django.http import HttpRequest, HttpResponse

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIdLogFilter",
    "bind_request_id",
    "current_request_id",
    "request_id_middleware",
    "sanitise_request_id",
    "unbind_request_id",
]

REQUEST_ID_HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
# Long enough for a UUID, a W3C trace id or a proxy's own format; anything else is replaced
# rather than echoed, so a client cannot inject text into our logs or response headers.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def sanitise_request_id(candidate: str | None) -> str:
    """Return ``candidate`` when it is a well-formed id, else a fresh random one."""
    if candidate and _ACCEPTABLE.match(candidate):
        return candidate
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Bind ``request_id`` to the current context (a Celery task, a management command)."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


def request_id_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Django middleware: bind the request id for the request's duration and echo it back."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request_id = sanitise_request_id(request.META.get(_META_KEY))
        request.META[_META_KEY] = request_id
        token = _request_id.set(request_id)
        try:
            response = get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response

    return middleware


class RequestIdLogFilter(Filter):
    """Adds ``request_id`` to every record (``None`` outside a request)."""

    def filter(self, record: LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
