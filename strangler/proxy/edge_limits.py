"""The limits of the public port's edge (``strangler.proxy.edge``), with the reasons for each
default. Each is a setting too (``strangler.proxy.settings``); this module imports nothing so
settings can."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "HEADER_TIMEOUT_SECONDS",
    "KEEPALIVE_TIMEOUT_SECONDS",
    "MAX_CONNECTIONS_PER_WORKER",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_LINE_BYTES",
    "MAX_REQUEST_LINE_BYTES",
    "EdgeLimits",
]

# A head is one or two TCP segments sent at once; lost three times over it still arrives
# within 7 s (Linux's retransmission timeout starts at 1 s and doubles). nginx's 60 s
# (client_header_timeout) lets a slowloris connection live four times as long as this, for
# no real client.
HEADER_TIMEOUT_SECONDS = 15.0
# nginx's keepalive_timeout. Longer than the 60 s idle timeout of the common load balancers
# (AWS ALB, nginx's upstream keepalive), so when one sits in front the balancer closes an
# idle connection first and never sends a request on one the proxy is closing.
KEEPALIVE_TIMEOUT_SECONDS = 75.0
# Per worker process. Each connection may buffer a head of MAX_HEADER_BYTES and a request
# line, so the cap bounds those buffers near 40 MiB a worker; upstream connections come on
# top, bounded by each upstream's pool_size. nginx's worker_connections is 512 but counts
# both sides of a request.
MAX_CONNECTIONS_PER_WORKER = 1024
# nginx: large_client_header_buffers 4 8k, a whole head in at most 32 KiB.
MAX_HEADER_BYTES = 32 * 1024
# Apache's LimitRequestFields; browsers send ~15, aiohttp allows 128.
MAX_HEADERS = 100
# nginx's buffer is 8 KiB for the request line as for each field line. The two differ by two
# bytes only so that aiohttp's one LineTooLong error says which was too long (its limit).
MAX_REQUEST_LINE_BYTES = 8192
MAX_HEADER_LINE_BYTES = 8190


@dataclass(frozen=True)
class EdgeLimits:
    header_timeout: float = HEADER_TIMEOUT_SECONDS
    keepalive_timeout: float = KEEPALIVE_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS_PER_WORKER
    max_header_bytes: int = MAX_HEADER_BYTES
    max_headers: int = MAX_HEADERS
