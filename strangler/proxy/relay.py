"""The upstream's answer to the client: whole in one write when it is all in (the usual
case), read whole when small, else streamed as it arrives. ``strangler.proxy.app`` decides; this
only relays."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from multidict import CIMultiDict

from strangler.proxy import metrics
from strangler.proxy.cohort import set_cohort_cookie
from strangler.proxy.errors import UpstreamError
from strangler.proxy.read_your_writes import WROTE_COOKIE
from strangler.proxy.shadow_job import CapturedResponse
from strangler.proxy.upstream_response import UpstreamResponse

__all__ = [
    "BUFFER_LIMIT_BYTES",
    "CAPTURED",
    "Answer",
    "relay",
    "relay_now",
]

# Bodies up to this size are read whole and sent in one write (fewer syscalls, and a body for
# the shadow comparison); bigger or unsized ones stream through as they arrive.
BUFFER_LIMIT_BYTES = 256 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})
# Where the relay leaves the primary's answer for the shadow comparison (response state).
CAPTURED = web.ResponseKey("captured", CapturedResponse)


@dataclass(slots=True)
class Answer:
    """What goes back to the client: the upstream's answer, its headers as the client gets
    them, and what to add (a new cohort cookie) or keep (a copy for the shadow)."""

    upstream_response: UpstreamResponse
    headers: CIMultiDict[str]
    upstream: str  # its name, for the metrics
    new_cookie: str | None = None
    want_body: bool = False
    # The read-your-writes cookie and its lifetime in seconds (proxy.read_your_writes).
    wrote_cookie: tuple[str, int] | None = None


def relay_now(request: web.BaseRequest, answer: Answer) -> web.Response | None:
    """The client's answer at once when all of the upstream's is in: no body, or a small one
    that came with the head (the usual case). ``None``: ``relay`` waits or streams."""
    upstream_response = answer.upstream_response
    data: bytes | None = None  # no body at all: HEAD, 204, 304
    if request.method != "HEAD" and upstream_response.status not in _NO_BODY_STATUSES:
        length = upstream_response.content_length
        if length is None or length > BUFFER_LIMIT_BYTES:
            return None
        data = upstream_response.read_nowait()
        if data is None:
            return None
    return _whole(request, answer, data)


async def relay(request: web.BaseRequest, answer: Answer) -> web.StreamResponse:
    """The answer whose body is still on its way: a small one read whole, else streamed."""
    upstream_response = answer.upstream_response
    length = upstream_response.content_length
    if length is not None and length <= BUFFER_LIMIT_BYTES:
        return _whole(request, answer, await upstream_response.read())
    response = web.StreamResponse(
        status=upstream_response.status, reason=upstream_response.reason, headers=answer.headers
    )
    _set_cookies(request, response, answer)
    captured = await _stream(request, response, answer)
    if answer.want_body and captured is not None:
        response[CAPTURED] = CapturedResponse(
            upstream_response.status, CIMultiDict(upstream_response.headers), captured
        )
    return response


def _whole(request: web.BaseRequest, answer: Answer, data: bytes | None) -> web.Response:
    """One ``web.Response``: aiohttp sends its head and body in one write (measured: one
    send() a response instead of three)."""
    upstream_response = answer.upstream_response
    status = upstream_response.status
    response = web.Response(
        status=status, reason=upstream_response.reason, headers=answer.headers, body=data
    )
    _set_cookies(request, response, answer)
    if answer.want_body:
        captured = CapturedResponse(status, CIMultiDict(upstream_response.headers), data or b"")
        response[CAPTURED] = captured
    return response


def _set_cookies(request: web.BaseRequest, response: web.StreamResponse, answer: Answer) -> None:
    if answer.new_cookie is not None:
        set_cohort_cookie(response, answer.new_cookie, secure=request.secure)
    if answer.wrote_cookie is not None:
        value, seconds = answer.wrote_cookie
        response.set_cookie(
            WROTE_COOKIE, value, max_age=seconds, httponly=True, samesite="Lax",
            secure=request.secure,
        )  # fmt: skip


async def _stream(
    request: web.BaseRequest, response: web.StreamResponse, answer: Answer
) -> bytes | None:
    """Pass a large or unsized body through as it arrives; keep a copy for the shadow only
    while it stays under the buffering limit. The upstream client stops reading while the
    client is slower than the upstream, so memory stays bounded whatever the size."""
    chunks: list[bytes] | None = [] if answer.want_body else None
    size = 0
    try:
        await response.prepare(request)
        while chunk := await answer.upstream_response.read_chunk():
            if chunks is not None:
                size += len(chunk)
                chunks = chunks if size <= BUFFER_LIMIT_BYTES else None
                if chunks is not None:
                    chunks.append(chunk)
            await response.write(chunk)
        await response.write_eof()
    except ConnectionError:
        # The client went away mid-answer: nothing to tell it, nothing wrong upstream.
        # Returning the response lets aiohttp close the connection quietly.
        metrics.CLIENT_DISCONNECTS.inc()
        return None
    except UpstreamError as exc:
        # The upstream failed mid-body, after the status went out. Cutting the client's
        # connection is the only way left to say the answer is incomplete: a clean end
        # (the last chunk) would pass a truncated body off as whole.
        metrics.UPSTREAM_ERRORS.labels(answer.upstream, exc.kind).inc()
        if request.transport is not None:
            request.transport.abort()
        return None
    return b"".join(chunks) if chunks is not None else None
