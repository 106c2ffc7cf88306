"""The monolith's credentials stay with the monolith: a request going to an extracted
service loses its ``Authorization`` header and every cookie but an allow-list.

Services learn who the user is from the proxy's signed identity header (proxy.identity);
the session cookie or API token that proved it to the monolith would let a service, its
logs or anyone who reads them act as the user on the monolith. Cookies a service does need
(Django's CSRF cookie, to check a form's token) are named in the table's
``service_cookies``. Pure: bytes in, bytes out.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["without_monolith_credentials"]

_AUTHORIZATION = b"authorization"
_COOKIE = b"cookie"


def without_monolith_credentials(
    headers: Iterable[tuple[bytes, bytes]], *, allowed_cookies: frozenset[bytes]
) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == _AUTHORIZATION:
            continue
        if lowered == _COOKIE:
            kept = [
                part
                for part in (p.strip() for p in value.split(b";"))
                if part and part.partition(b"=")[0].strip() in allowed_cookies
            ]
            if kept:
                out.append((name, b"; ".join(kept)))
            continue
        out.append((name, value))
    return out
