"""The one place a ``ProxyError`` becomes an answer to a client: its status, and JSON
``{"code", "message"}`` with the error's stable code (``strangler.proxy.errors`` draws the tree).

``error_response`` answers through aiohttp (the request path, the edge's refusals);
``raw_error_response`` is the same answer as bytes, for a connection the edge closes with
no request to answer through (a head that never completed, the connection cap).
"""

from __future__ import annotations

import json
from http import HTTPStatus

from aiohttp import web

from strangler.proxy.errors import ProxyError
from strangler.request_ids import REQUEST_ID_HEADER

__all__ = ["error_response", "raw_error_response"]

_CONTENT_TYPE = "application/json; charset=utf-8"


def _body(error: ProxyError) -> bytes:
    return json.dumps({"code": error.code, "message": error.message}).encode()


def _headers(error: ProxyError, request_id: str | None) -> dict[str, str]:
    headers = {"Content-Type": _CONTENT_TYPE}
    if request_id is not None:
        headers[REQUEST_ID_HEADER] = request_id
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    return headers


def error_response(
    error: ProxyError, *, request_id: str | None = None, close: bool = False
) -> web.Response:
    """The client's answer to ``error``; ``close`` ends the connection after it (the edge
    refuses a request whose connection it will not read again)."""
    response = web.Response(
        body=_body(error), status=error.status, headers=_headers(error, request_id)
    )
    if close:
        response.force_close()
    return response


def raw_error_response(error: ProxyError) -> bytes:
    """The same answer as a whole HTTP/1.1 response, the connection closing after it."""
    body = _body(error)
    fields = {**_headers(error, None), "Content-Length": str(len(body)), "Connection": "close"}
    head = f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in fields.items()
    )
    return (head + "\r\n").encode() + body
