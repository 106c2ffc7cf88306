"""``X-Request-ID``: honoured when the client (or the proxy) sends a sane one, generated otherwise.

The id lives in a context variable so that every log line of the request carries it,
including lines logged by libraries that know nothing about requests.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from logging import Filter, LogRecord

from django.http import HttpRequest, HttpResponse

from strangler.request_ids import REQUEST_ID_HEADER, sanitise_request_id

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIdLogFilter",
    "bind_request_id",
    "current_request_id",
    "request_id_middleware",
    "sanitise_request_id",
    "unbind_request_id",
]

_META_KEY = "HTTP_X_REQUEST_ID"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


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
    """Adds ``request_id`` to every record that does not carry one (``None`` outside a
    request); a record logged with its own id, like gunicorn's access lines, keeps it."""

    def filter(self, record: LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True
