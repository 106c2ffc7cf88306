"""Upstream answers that name internal hosts, rewritten to the public host."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["rewrite_location", "rewrite_set_cookie"]

_DOMAIN = re.compile(r";\s*domain=([^;]*)", re.IGNORECASE)


def rewrite_location(location: str, *, upstream_bases: Iterable[str], public_base: str) -> str:
    """``http://127.0.0.1:8200/x`` (an upstream's own address) becomes ``https://shop/x``."""
    for base in upstream_bases:
        if location == base or location.startswith(base + "/") or location.startswith(base + "?"):
            return public_base + location[len(base) :]
    return location


def rewrite_set_cookie(value: str, *, internal_hosts: Iterable[str]) -> str:
    """Drop a ``Domain`` attribute naming an internal host, so the browser scopes the cookie
    to the public host it asked."""
    hosts = {host.lower().lstrip(".") for host in internal_hosts}
    match = _DOMAIN.search(value)
    if match and match.group(1).strip().lower().lstrip(".") in hosts:
        return value[: match.start()] + value[match.end() :]
    return value
