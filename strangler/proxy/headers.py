"""Header rules, as small pure functions over headers as the HTTP parsers hand them over:
``(name, value)`` pairs of bytes, the form that costs nothing to filter and to write.

Hop-by-hop headers describe one connection, not the message (RFC 9110, 7.6.1): forwarding
them lets a client steer the proxy's connection to the upstream (``Connection: close``,
``Transfer-Encoding`` smuggling) or strip a header the upstream relies on by naming it in
``Connection``. So they are dropped in both directions, along with every header that
``Connection`` names, except those the message cannot do without (``Host``,
``Content-Length``): a client naming ``Host`` in ``Connection`` had the upstream see its
own address, and build links with it.

A client's header whose name holds ``_`` never goes upstream (nginx's default,
``underscores_in_headers off``): a WSGI server maps ``-`` and ``_`` to the same variable, and
gunicorn took a ``SCRIPT_NAME`` header from its local peer, the proxy, as the application's
mount point, so ``/x/internal/...`` with ``SCRIPT_NAME: /x`` reached an internal view. Headers
other servers read as a path or mount point (``X-Original-URL``, ``X-Forwarded-Prefix``, ...)
are dropped too: the path the proxy routed on is the only one an upstream may see.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

from multidict import CIMultiDict

from strangler.identity import IDENTITY_HEADER
from strangler.request_ids import REQUEST_ID_HEADER

__all__ = [
    "HOP_BY_HOP",
    "IDENTITY_HEADERS",
    "RawHeaders",
    "TrustedProxies",
    "decoded",
    "request_headers",
    "response_headers",
]

RawHeaders = Sequence[tuple[bytes, bytes]]

HOP_BY_HOP: frozenset[str] = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Identity is only ever asserted by the proxy (signed); a client's copy is dropped, as are
# the headers that common frameworks read as "the authenticated user".
IDENTITY_HEADERS: frozenset[str] = frozenset(
    {
        "x-strangler-identity",
        "x-strangler-force",
        # Only the proxy marks a copy as a shadow, or asks a service for its data versions.
        "x-strangler-shadow",
        "x-strangler-want-versions",
        "x-remote-user",
        "remote-user",
        "x-forwarded-user",
        "x-auth-user",
        "x-authenticated-user",
        "x-user",
        "x-user-id",
    }
)
# Read as the path or the mount point by some framework or server (Symfony, IIS, Werkzeug's
# ProxyFix, the X-Script-Name recipe); the proxy sets none of them.
_PATH_OVERRIDES = frozenset(
    {
        "script-name",
        "path-info",
        "x-script-name",
        "x-forwarded-prefix",
        "x-forwarded-path",
        "x-original-url",
        "x-rewrite-url",
    }
)
_FORWARDED = frozenset(
    {"forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip"}
)
_HOP_BY_HOP_RAW = frozenset(name.encode() for name in HOP_BY_HOP)
# What ``Connection`` may not remove: the message needs them end to end.
_KEPT_RAW = frozenset({b"host", b"content-length"})
# What never goes upstream as the client sent it: the proxy sets its own, or nobody does.
_REPLACED = (
    HOP_BY_HOP | IDENTITY_HEADERS | _FORWARDED | _PATH_OVERRIDES | {REQUEST_ID_HEADER.lower()}
)
_REPLACED_RAW = frozenset(name.encode() for name in _REPLACED)
_REQUEST_ID_RAW, _IDENTITY_RAW = REQUEST_ID_HEADER.encode(), IDENTITY_HEADER.encode()
_FORWARDED_RAW = frozenset(name.encode() for name in _FORWARDED)
# aiohttp decodes header bytes this way; undecodable bytes survive a round trip.
_CHARSET, _ERRORS = "utf-8", "surrogateescape"


@functools.lru_cache(maxsize=64)
def _named(value: bytes) -> frozenset[bytes]:
    """The headers a ``Connection`` value names, beyond the hop-by-hop ones (dropped anyway).
    Cached: the values repeat (``keep-alive``, ``close``), and there are few."""
    tokens = {token.strip().lower() for token in value.split(b",")}
    return frozenset(tokens - _HOP_BY_HOP_RAW - _KEPT_RAW - {b""})


# A service's data versions (strangler.sync.freshness) are for the shadow comparison only.
_DATA_VERSIONS_RAW = b"x-strangler-data-versions"


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> CIMultiDict[str]:
    """An upstream's answer headers for the client: hop-by-hop and ``Connection``-named
    ones dropped, and the data versions a shadow comparison asked for; decoded as aiohttp
    decodes them."""
    pairs: list[tuple[str, str]] = []
    named: set[bytes] = set()
    for name, value in raw:
        lowered = name.lower()
        if lowered in _HOP_BY_HOP_RAW or lowered == _DATA_VERSIONS_RAW:
            if lowered == b"connection":
                named |= _named(value)
            continue
        pairs.append((name.decode(_CHARSET, _ERRORS), value.decode(_CHARSET, _ERRORS)))
    if named:
        pairs = [(name, value) for name, value in pairs if _encode(name.lower()) not in named]
    return CIMultiDict(pairs)


def request_headers(
    raw: Iterable[tuple[bytes, bytes]],
    *,
    peer: str | None,
    scheme: str,
    host: str,
    trusted: TrustedProxies,
    request_id: str,
    identity: str | None,
) -> list[tuple[bytes, bytes]]:
    """The client's request headers as they go upstream: hop-by-hop, ``Connection``-named,
    identity, path-overriding and underscored headers dropped; ``X-Forwarded-For/Proto/Host``
    set (the client's own values only when ``peer`` is a trusted proxy), our request id and
    signed identity."""
    out: list[tuple[bytes, bytes]] = []
    named: set[bytes] = set()
    forwarded: dict[bytes, bytes] = {}
    for pair in raw:
        lowered = pair[0].lower()
        if lowered in _REPLACED_RAW or b"_" in lowered:
            if lowered == b"connection":
                named |= _named(pair[1])
            elif lowered in _FORWARDED_RAW:
                forwarded.setdefault(lowered, pair[1])
            continue
        out.append(pair)
    if named:
        out = [pair for pair in out if pair[0].lower() not in named]
    address = peer.encode() if peer else b""
    if forwarded and peer in trusted:
        chain = forwarded.get(b"x-forwarded-for")
        out.append((b"X-Forwarded-For", chain + b", " + address if chain else address))
        out.append((b"X-Forwarded-Proto", forwarded.get(b"x-forwarded-proto", scheme.encode())))
        out.append((b"X-Forwarded-Host", forwarded.get(b"x-forwarded-host", _encode(host))))
    else:  # (a trusted peer that sent none of them gets the same as an untrusted one)
        out.append((b"X-Forwarded-For", address))
        out.append((b"X-Forwarded-Proto", scheme.encode()))
        out.append((b"X-Forwarded-Host", _encode(host)))
    out.append((_REQUEST_ID_RAW, request_id.encode()))
    if identity is not None:
        out.append((_IDENTITY_RAW, identity.encode()))
    return out


def _encode(text: str) -> bytes:
    return text.encode(_CHARSET, _ERRORS)


def decoded(raw: Iterable[tuple[bytes, bytes]]) -> CIMultiDict[str]:
    """Raw headers as aiohttp's client takes them (the WebSocket and shadow paths)."""
    return CIMultiDict(
        (name.decode(_CHARSET, _ERRORS), value.decode(_CHARSET, _ERRORS)) for name, value in raw
    )


class TrustedProxies:
    """Peers whose ``X-Forwarded-*`` we believe (a load balancer in front of us)."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def __contains__(self, peer: str | None) -> bool:
        if not peer or not self._networks:
            return False
        return self._trusts(peer)

    # Peers repeat (a load balancer, keep-alive clients); parsing an address takes ~1.5 us.
    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one instance per process, never freed
    def _trusts(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)
