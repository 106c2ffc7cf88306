"""Every proxy error becomes its status and stable code, in one place."""

from __future__ import annotations

import json

import pytest

from strangler.proxy.error_response import error_response, raw_error_response
from strangler.proxy.errors import (
    CircuitOpen,
    ClientTooSlow,
    HeadersTooLarge,
    NoRoute,
    PathRejected,
    ProxyError,
    RequestRejected,
    RequestTooLarge,
    TooManyConnections,
    UpstreamBroken,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
    UriTooLong,
    VersionNotSupported,
    WritesHeld,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RequestRejected("x"), 400, "bad_request"),
        (PathRejected("x", code="encoded_slash"), 400, "encoded_slash"),
        (ClientTooSlow("x"), 408, "client_too_slow"),
        (RequestTooLarge("x"), 413, "request_too_large"),
        (UriTooLong("x"), 414, "uri_too_long"),
        (HeadersTooLarge("x"), 431, "header_too_large"),
        (VersionNotSupported("x"), 505, "http_version_not_supported"),
        (TooManyConnections("x"), 503, "too_many_connections"),
        (NoRoute("x"), 404, "not_found"),
        (UpstreamError("x"), 502, "upstream_error"),
        (UpstreamUnreachable("x"), 502, "upstream_error"),
        (UpstreamBroken("x"), 502, "upstream_error"),
        (UpstreamTimeout("x"), 504, "upstream_timeout"),
        (CircuitOpen("x"), 503, "circuit_open"),
        (WritesHeld("x"), 503, "writes_held"),
    ],
)
def test_an_error_is_answered_with_its_status_and_stable_code(
    error: ProxyError, status: int, code: str
) -> None:
    response = error_response(error, request_id="abc")

    assert response.status == status
    assert response.body is not None
    assert json.loads(bytes(response.body)) == {"code": code, "message": "x"}
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Request-ID"] == "abc"


def test_only_a_held_write_tells_the_client_when_to_retry() -> None:
    assert error_response(WritesHeld("held")).headers["Retry-After"] == "1"
    assert "Retry-After" not in error_response(CircuitOpen("open")).headers


def test_a_raw_answer_is_the_same_answer_closing_the_connection() -> None:
    raw = raw_error_response(ClientTooSlow("slow", code="header_timeout"))

    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 408 Request Timeout"
    assert "Connection: close" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert json.loads(body) == {"code": "header_timeout", "message": "slow"}
