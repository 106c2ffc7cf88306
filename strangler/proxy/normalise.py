"""One spelling per path: what the route table matches and what goes upstream.

A route-based proxy is bypassed when it and the upstream disagree on what a path means
(``/api/v1/orders/../products/``, ``/api/v1/%2e%2e/``, ``//api/v1/``). The proxy therefore
rewrites the path to a canonical form and forwards exactly that form, so the upstream never
sees a spelling the table did not judge:

1. only origin-form targets (``/...``) are accepted: no absolute form, no open proxy;
2. percent-escapes of unreserved characters are decoded (``%41`` -> ``A``, ``%2e`` -> ``.``),
   the rest are kept with upper-case hex; an encoded ``/``, ``\\`` or NUL is refused, as is a
   literal ``\\`` or a control character, because upstreams disagree on what those mean;
3. duplicate slashes collapse; 4. dot segments are removed (RFC 3986, 5.2.4).

Matching then runs on the percent-decoded canonical path, which is what Django's resolver
sees after the WSGI server decodes ``PATH_INFO``.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote

from strangler.proxy.errors import PathRejected

__all__ = ["canonical_paths", "decoded_path", "normalise_path"]

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%(?P<hex>[0-9A-Fa-f]{2})|%")
_REFUSED_ESCAPES = {
    "2F": ("encoded_slash", "an encoded '/' (%2F)"),
    "5C": ("encoded_backslash", "an encoded '\\' (%5C)"),
    "00": ("encoded_nul", "an encoded NUL (%00)"),
}
_SLASHES = re.compile(r"/{2,}")
_FORBIDDEN_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\]")
# Anything that could change under normalisation: an escape, a doubled slash, a dot segment.
_NEEDS_WORK = re.compile(r"%|//|/\.\.?(?:/|$)")
# Paths remembered by canonical_paths: at most MAX_PATH_LENGTH each, so ~12 MB at worst,
# a few hundred KB for real paths.
PATH_CACHE_ENTRIES = 2048
# Longest target we accept; Django and gunicorn refuse longer request lines anyway.
MAX_PATH_LENGTH = 4096


def _decode_unreserved(match: re.Match[str]) -> str:
    hex_digits = match.group("hex")
    if hex_digits is None:
        raise PathRejected(
            "The path has a '%' that does not start a percent-escape; encode it as %25.",
            code="bad_percent_encoding",
        )
    upper = hex_digits.upper()
    if upper in _REFUSED_ESCAPES:
        code, what = _REFUSED_ESCAPES[upper]
        raise PathRejected(f"The path contains {what}; it is refused.", code=code)
    char = chr(int(upper, 16))
    return char if char in _UNRESERVED else f"%{upper}"


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        elif segment == ".":
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def normalise_path(raw: str) -> str:
    """The canonical form of ``raw`` (the path of a request target, without its query)."""
    if not raw.startswith("/"):
        raise PathRejected(
            "Only origin-form request targets ('/path') are accepted.", code="not_origin_form"
        )
    if len(raw) > MAX_PATH_LENGTH:
        raise PathRejected(
            f"The path is longer than {MAX_PATH_LENGTH} characters.", code="path_too_long"
        )
    bad = _FORBIDDEN_CHARACTER.search(raw)
    if bad is not None:
        if bad.group() == "\\":
            raise PathRejected("The path contains a '\\'; use '/'.", code="backslash")
        raise PathRejected("The path contains a control character.", code="control_character")
    if not _NEEDS_WORK.search(raw):
        return raw  # already canonical: the common case, checked in one scan
    path = _ESCAPE.sub(_decode_unreserved, raw)
    path = _SLASHES.sub("/", path)
    return _remove_dot_segments(path)


def decoded_path(canonical: str) -> str:
    """The canonical path percent-decoded, as a WSGI server hands it to Django."""
    return unquote(canonical, errors="surrogateescape")


@functools.lru_cache(maxsize=PATH_CACHE_ENTRIES)
def canonical_paths(raw: str) -> tuple[str, str]:
    """``normalise_path`` and ``decoded_path`` of ``raw``, remembered: the same paths come
    again and again (a refused path raises, and is not remembered)."""
    canonical = normalise_path(raw)
    return canonical, decoded_path(canonical)
