"""Header rules, as small pure functions over multidicts.

Hop-by-hop headers describe one connection, not the message (RFC 9110, 7.6.1): forwarding
them lets a client steer the proxy's connection to the upstream (``Connection: close``,
``Transfer-Encoding`` smuggling) or strip a header the upstream relies on by naming it in
``Connection``. So they are dropped in both directions, along with every header that
``Connection`` names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "HOP_BY_HOP",
    "IDENTITY_HEADERS",
    "TrustedProxies",
    "forwarded_for",
    "strip_hop_by_hop",
]

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
        "x-remote-user",
        "remote-user",
        "x-forwarded-user",
        "x-auth-user",
        "x-authenticated-user",
        "x-user",
        "x-user-id",
    }
)
_FORWARDED = frozenset(
    {"forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip"}
)


def _connection_named(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> set[str]:
    named: set[str] = set()
    for value in headers.getall("Connection", ()):
        named.update(token.strip().lower() for token in value.split(",") if token.strip())
    return named


def strip_hop_by_hop(
    headers: CIMultiDictProxy[str] | CIMultiDict[str], *, also: Iterable[str] = ()
) -> CIMultiDict[str]:
    """A copy of ``headers`` without hop-by-hop, ``Connection``-named and ``also`` headers."""
    drop = HOP_BY_HOP.union(also) if also else HOP_BY_HOP
    if "Connection" in headers:
        drop = drop | _connection_named(headers)
    return CIMultiDict([(k, v) for k, v in headers.items() if k.lower() not in drop])


class TrustedProxies:
    """Peers whose ``X-Forwarded-*`` we believe (a load balancer in front of us)."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def __contains__(self, peer: str | None) -> bool:
        if not peer or not self._networks:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def forwarded_for(
    incoming: CIMultiDictProxy[str],
    outgoing: CIMultiDict[str],
    *,
    peer: str | None,
    scheme: str,
    host: str,
    trusted: TrustedProxies,
) -> None:
    """Set ``X-Forwarded-For/Proto/Host`` on ``outgoing``: the client's own values only
    when ``peer`` is a trusted proxy, ours otherwise."""
    for name in _FORWARDED:
        outgoing.popall(name, None)
    if peer in trusted:
        chain = incoming.get("X-Forwarded-For")
        outgoing["X-Forwarded-For"] = f"{chain}, {peer}" if chain else (peer or "")
        outgoing["X-Forwarded-Proto"] = incoming.get("X-Forwarded-Proto", scheme)
        outgoing["X-Forwarded-Host"] = incoming.get("X-Forwarded-Host", host)
    else:
        outgoing["X-Forwarded-For"] = peer or ""
        outgoing["X-Forwarded-Proto"] = scheme
        outgoing["X-Forwarded-Host"] = host
