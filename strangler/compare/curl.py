"""A copy-as-curl line for a request, with every credential redacted.

Secret headers keep their name so a person sees what to supply (``-H 'Cookie: [redacted]'``);
secret query parameters and body fields likewise. Bodies above a bound are cut and said so.
"""

from __future__ import annotations

import shlex

from strangler.compare.model import HttpRequest
from strangler.compare.redact import redact_body, redact_headers, redact_target

__all__ = ["DEFAULT_ORIGIN", "MAX_CURL_BODY_BYTES", "curl_command"]

# Where a reproduction goes when the request names no origin: the proxy's default port.
DEFAULT_ORIGIN = "http://127.0.0.1:8000"
# Request body kept in an example: API writes here are well under 1 KB; an upload is not
# something to paste into a terminal.
MAX_CURL_BODY_BYTES = 4096
# Set by curl itself from the URL and the body, or meaningless on a new connection.
_SKIPPED = frozenset({"host", "content-length", "connection", "transfer-encoding", "keep-alive"})


def curl_command(request: HttpRequest, *, origin: str = "") -> str:
    host = request.header("host")
    base = origin or request.origin or (f"http://{host}" if host else DEFAULT_ORIGIN)
    url = base.rstrip("/") + redact_target(request.target)
    parts = ["curl"]
    method = request.method.upper()
    if method == "HEAD":
        parts.append("--head")
    elif method != "GET" or request.body:
        parts += ["-X", method]
    parts.append(url)
    for name, value in redact_headers(request.headers):
        if name.lower() in _SKIPPED:
            continue
        if name.lower() == "accept-encoding":
            parts.append("--compressed")
            continue
        parts += ["-H", f"{name}: {value}"]
    line = " ".join(shlex.quote(p) for p in parts)
    if request.body:
        body = redact_body(request.body, request.header("content-type"))
        cut = len(body) > MAX_CURL_BODY_BYTES
        text = body[:MAX_CURL_BODY_BYTES].decode("utf-8", errors="replace")
        line += f" --data-binary {shlex.quote(text)}"
        if cut:
            line += f"  # body cut at {MAX_CURL_BODY_BYTES} of {len(body)} bytes"
    return line
