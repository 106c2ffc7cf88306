"""Links compared by what they point at, not by which host built them.

DRF's ``next``/``previous`` are absolute URLs built from the request's Host, so two servers
behind different ports write different strings for the same page: they are compared
without scheme, host and port. A redirect's ``Location`` drops them only when the host is
this site's (the request's Host, either upstream's origin, or a configured local host),
since a redirect to a payment provider must still be seen to go elsewhere. Query
parameters are sorted: their order carries no meaning for the servers compared here.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["host_of", "link_target", "location_target"]


def host_of(origin_or_host: str) -> str:
    """``http://Shop.example:8000`` or ``shop.example:8000`` → ``shop.example``."""
    text = origin_or_host if "//" in origin_or_host else f"//{origin_or_host}"
    try:
        return (urlsplit(text).hostname or "").lower()
    except ValueError:
        return ""


def _path_and_query(path: str, query: str) -> str:
    if not query:
        return path or "/"
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return f"{path or '/'}?{urlencode(pairs)}"


def link_target(url: str) -> str:
    """An absolute http(s) URL as its path and sorted query; anything else unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    return _path_and_query(parts.path, parts.query)


def location_target(location: str, local_hosts: Collection[str]) -> str:
    """A Location header as compared: scheme, host and port dropped when the host is local."""
    try:
        parts = urlsplit(location.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return location.strip()
    if parts.netloc and host not in local_hosts:
        netloc = parts.netloc.lower()
        return f"{parts.scheme.lower()}://{netloc}{_path_and_query(parts.path, parts.query)}"
    return _path_and_query(parts.path, parts.query)
