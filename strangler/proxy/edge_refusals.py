"""What the edge refuses in a request's head, and the answer: pure rules over what aiohttp's
parser hands over (a parse error, a parsed head), each refusal a ``ProxyError`` answered by
``strangler.proxy.error_response`` before the request reaches the proxy's handler."""

from __future__ import annotations

from itertools import chain

from aiohttp import web
from aiohttp.http import HttpVersion10, HttpVersion11, RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from strangler.proxy import metrics
from strangler.proxy.edge_limits import EdgeLimits
from strangler.proxy.error_response import error_response
from strangler.proxy.errors import (
    HeadersTooLarge,
    ProxyError,
    RequestRejected,
    UriTooLong,
    VersionNotSupported,
)

__all__ = [
    "RefusedRequest",
    "check_head",
    "head_too_large",
    "parse_error",
    "refusal",
]


class RefusedRequest(web.BaseRequest):
    """A request the edge refuses: ``refusal`` answers it instead of the proxy's handler."""

    ATTRS = web.BaseRequest.ATTRS | frozenset(["problem"])
    problem: ProxyError


async def refusal(request: RefusedRequest) -> web.StreamResponse:
    metrics.EDGE_REFUSALS.labels(request.problem.code).inc()
    return error_response(request.problem, close=True)


def parse_error(
    exc: HttpProcessingError, *, max_line_size: int, max_field_size: int, max_headers: int
) -> ProxyError:
    """The refusal of a head aiohttp's parser could not read, by its error."""
    if isinstance(exc, LineTooLong):
        if exc.args[1] == max_line_size:
            return UriTooLong(f"The request line is longer than {max_line_size} bytes.")
        return HeadersTooLarge(f"A header line is longer than {max_field_size} bytes.")
    if exc.message.startswith("Too many headers"):
        return HeadersTooLarge(
            f"The request has more than {max_headers} header fields.", code="too_many_headers"
        )
    if "HTTP version" in exc.message:
        return VersionNotSupported("Only HTTP/1.0 and HTTP/1.1 are served.")
    return RequestRejected(f"The request could not be parsed: {exc.message}")


def check_head(
    message: RawRequestMessage, *, fits: bool, limits: EdgeLimits
) -> tuple[RawRequestMessage, ProxyError | None]:
    """A parsed head as the proxy takes it, and its refusal if any: only HTTP/1.0 and 1.1
    (the refusal answered as HTTP/1.1: aiohttp writes a response in the request's version);
    a head over ``max_header_bytes`` (measured unless the bytes it came in show it ``fits``);
    and a chunked request ends its connection (see ``strangler.proxy.edge``)."""
    version = message.version
    if version is not HttpVersion11 and version != HttpVersion10:
        message = message._replace(version=HttpVersion11, should_close=True)
        return message, VersionNotSupported("Only HTTP/1.0 and HTTP/1.1 are served.")
    if not fits and _head_size(message) > limits.max_header_bytes:
        return message, head_too_large(limits)
    if message.chunked:
        message = message._replace(should_close=True)
    return message, None


def head_too_large(limits: EdgeLimits) -> HeadersTooLarge:
    return HeadersTooLarge(f"The request head is larger than {limits.max_header_bytes} bytes.")


def _head_size(message: RawRequestMessage) -> int:
    """The head's field lines as sent: names, values and 4 bytes each of ``: `` and CRLF."""
    raw = message.raw_headers
    return len(b"".join(chain.from_iterable(raw))) + 4 * len(raw)
