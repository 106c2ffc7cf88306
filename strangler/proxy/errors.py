"""The proxy's error tree. Every class carries its HTTP status and a default stable
``code``; ``strangler.proxy.error_response`` is the one place that turns any of them into an answer
(``{"code", "message"}`` JSON), for the request path and the edge alike.

ProxyError                      500  proxy_error   the root, never raised itself
├── RequestRejected             400  bad_request   a head aiohttp cannot parse (proxy.edge)
│   ├── PathRejected            400  encoded_slash, backslash, control_character, ...
│   ├── ClientTooSlow           408  client_too_slow (the body), header_timeout (the head)
│   ├── RequestTooLarge         413  request_too_large, body_too_large_to_buffer
│   ├── UriTooLong              414  uri_too_long
│   ├── HeadersTooLarge         431  header_too_large, too_many_headers
│   └── VersionNotSupported     505  http_version_not_supported
├── TooManyConnections          503  too_many_connections  the worker's cap, none idle
├── NoRoute                     404  not_found      a path only services call (internal)
├── UpstreamError               502  upstream_error, upstream_unhealthy   kind error
│   ├── UpstreamUnreachable     502  upstream_error    kind connect: refused, no route
│   ├── UpstreamBroken          502  upstream_error    kind broken: closed or bad HTTP
│   │   └── StaleConnection     (proxy.upstream_connection) an idle connection closed:
│   │                           an idempotent request is sent again, others get the 502
│   ├── UpstreamTimeout         504  upstream_timeout  kind timeout: connect, read, total
│   │   └── UpstreamNotAccepted     not sent: no connection accepted, or none free in
│   │                               the pool, in time
│   └── CircuitOpen             503  circuit_open      kind circuit_open: not even tried
├── WritesHeld                  503  writes_held   with Retry-After
└── ConfigError                 never an answer: the table is refused, the old one serves
    ├── WritesNotCarried        (proxy.write_guard) a write owner no sync carries back
    └── StartRefused            (proxy.fleet_start) a fleet's replica with no table to serve:
                                the control store unreachable, or empty with no file

``kind`` labels ``strangler_proxy_upstream_errors_total``. Where a fallback is set, an
``UpstreamError`` of an idempotent request is answered by the monolith instead.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CircuitOpen",
    "ClientTooSlow",
    "ConfigError",
    "HeadersTooLarge",
    "NoRoute",
    "PathRejected",
    "ProxyError",
    "RequestRejected",
    "RequestTooLarge",
    "TooManyConnections",
    "UpstreamBroken",
    "UpstreamError",
    "UpstreamNotAccepted",
    "UpstreamTimeout",
    "UpstreamUnreachable",
    "UriTooLong",
    "VersionNotSupported",
    "WritesHeld",
]


class ProxyError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "proxy_error"
    # Seconds a client should wait before trying again (``Retry-After``); None: no header.
    retry_after_seconds: ClassVar[int | None] = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class RequestRejected(ProxyError):
    status = 400
    default_code = "bad_request"


class PathRejected(RequestRejected):
    default_code = "bad_path"


class ClientTooSlow(RequestRejected):
    status = 408
    default_code = "client_too_slow"


class RequestTooLarge(RequestRejected):
    status = 413
    default_code = "request_too_large"


class UriTooLong(RequestRejected):
    status = 414
    default_code = "uri_too_long"


class HeadersTooLarge(RequestRejected):
    status = 431
    default_code = "header_too_large"


class VersionNotSupported(RequestRejected):
    status = 505
    default_code = "http_version_not_supported"


class TooManyConnections(ProxyError):
    """The worker holds its cap of client connections and every one is busy."""

    status = 503
    default_code = "too_many_connections"


class NoRoute(ProxyError):
    """A path under the table's ``internal_prefixes``: never served to clients."""

    status = 404
    default_code = "not_found"


class UpstreamError(ProxyError):
    status = 502
    default_code = "upstream_error"
    # The ``kind`` label of strangler_proxy_upstream_errors_total.
    kind: ClassVar[str] = "error"


class UpstreamUnreachable(UpstreamError):
    kind = "connect"


class UpstreamBroken(UpstreamError):
    kind = "broken"


class UpstreamTimeout(UpstreamError):
    status = 504
    default_code = "upstream_timeout"
    kind = "timeout"


class UpstreamNotAccepted(UpstreamTimeout):
    """Timed out before the request was sent: nothing of it reached the upstream."""


class CircuitOpen(UpstreamError):
    """The upstream's circuit breaker refused the request: it failed too often of late."""

    status = 503
    default_code = "circuit_open"
    kind = "circuit_open"


class WritesHeld(ProxyError):
    """A write on a held route waited out the hold's bound; the client may retry."""

    status = 503
    default_code = "writes_held"
    # The hold outlived its bound (a stuck cutover): a second is enough for the runner to
    # release it or for a retry to find it expired.
    retry_after_seconds = 1


class ConfigError(ProxyError):
    """A route table that cannot be used; the message names the file, the entry and the field."""

    default_code = "bad_config"
