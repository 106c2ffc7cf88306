"""Bodies decoded by what they say they are: JSON to a tree, HTML and text to a string,
anything else kept as bytes. Compressed bodies (the proxy forwards them as they came) are
inflated first, up to a bound, so a small compressed body cannot grow without limit.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any, Literal

from strangler.compare.model import HttpResponse

__all__ = ["MAX_DECODED_BYTES", "BodyKind", "DecodedBody", "decode_body", "media_type"]

# Inflated bytes kept per body: the largest API page here (100 products) is ~150 KB; a
# body past 32 MiB is compared by hash of what was received rather than decoded.
MAX_DECODED_BYTES = 32 * 1024 * 1024

BodyKind = Literal["empty", "json", "html", "text", "binary"]
_TEXTUAL = (
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "image/svg+xml",
)


@dataclass(frozen=True, slots=True)
class DecodedBody:
    kind: BodyKind
    value: Any  # the JSON tree, the text, or the bytes
    note: str = ""


def media_type(content_type: str | None) -> tuple[str, str]:
    """``text/html; charset=UTF-8`` → ``("text/html", "utf-8")``."""
    if not content_type:
        return "", ""
    media, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


def _inflate(body: bytes, encoding: str) -> bytes | None:
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None
    # gzip wrapper for gzip; zlib wrapper, else raw deflate, for "deflate" as sent in the wild.
    for wbits in (31,) if encoding != "deflate" else (15, -15):
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, MAX_DECODED_BYTES)
        except zlib.error:
            continue
        return None if inflater.unconsumed_tail else out
    return None


def decode_body(response: HttpResponse) -> DecodedBody:
    encoding = (response.header("content-encoding") or "").strip().lower()
    raw = _inflate(response.body, encoding)
    if raw is None:
        return DecodedBody("binary", response.body, f"content-encoding {encoding!r} kept as is")
    if not raw:
        return DecodedBody("empty", b"")
    media, charset = media_type(response.header("content-type"))
    is_json = media == "application/json" or media.endswith("+json")
    is_html = media in ("text/html", "application/xhtml+xml")
    if not (is_json or is_html or media.startswith("text/") or media in _TEXTUAL):
        return DecodedBody("binary", raw)
    try:
        text = raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    if is_json:
        try:
            return DecodedBody("json", json.loads(text))
        except ValueError:
            return DecodedBody("text", text, "declared JSON but does not parse")
    return DecodedBody("html" if is_html else "text", text)
