"""Request ids without Django: what the proxy and the services agree a good id looks like."""

from __future__ import annotations

import re
import uuid

__all__ = ["REQUEST_ID_HEADER", "sanitise_request_id"]

REQUEST_ID_HEADER = "X-Request-ID"
# Long enough for a UUID, a W3C trace id or a proxy's own format; anything else is replaced
# rather than echoed, so a client cannot inject text into our logs or response headers.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")


def sanitise_request_id(candidate: str | None) -> str:
    """Return ``candidate`` when it is a well-formed id, else a fresh random one."""
    if candidate and _ACCEPTABLE.match(candidate):
        return candidate
    return uuid.uuid4().hex
