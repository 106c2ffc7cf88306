"""Redaction: no credential read from a request or response reaches an example, a curl
line or a report.

A name is secret when one of its words (split on ``-``, ``_``, ``.`` and camelCase) is a
credential word (``authorization``, ``cookie``, ``token``, ``session``, ``csrf``,
``password``, ...), when it ends in one (``accesstoken``, ``sessionid``), or when it is a
``X-Strangler-*`` header (signed identity, forced side, internal auth). Secret headers,
query parameters, form fields and JSON members keep their name and lose their value.
Values are compared as they are; only what is shown is redacted.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from strangler.compare.model import Headers

__all__ = [
    "REDACTED",
    "is_secret_name",
    "redact_body",
    "redact_headers",
    "redact_json",
    "redact_target",
    "redact_text",
]

REDACTED = "[redacted]"
_WORDS = frozenset(
    {
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "csrf",
        "csrftoken",
        "csrfmiddlewaretoken",
        "jwt",
        "otp",
        "passwd",
        "password",
        "secret",
        "session",
        "sessionid",
        "sid",
        "signature",
        "token",
        "xsrf",
    }
)
_ENDINGS = ("token", "secret", "password", "sessionid", "apikey", "api_key", "csrf")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
# Credentials that show up inside free text: bearer tokens and key=value pairs.
_TEXT_SECRETS = re.compile(
    r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"
    r"|\b((?:csrfmiddlewaretoken|csrftoken|sessionid|session_id|token|api_key|password)=)"
    r"[^&\s;\"']+"
)


def is_secret_name(name: str) -> bool:
    lowered = _CAMEL.sub(r"\1_\2", name).lower()
    if lowered.startswith("x-strangler-"):
        return True
    words = [w for w in _SPLIT.split(lowered) if w]
    if any(w in _WORDS or w.removesuffix("s") in _WORDS for w in words):
        return True
    if any(a == "api" and b in ("key", "keys") for a, b in itertools.pairwise(words)):
        return True
    return "".join(words).removesuffix("s").endswith(_ENDINGS)


def _secret(name: str, names: frozenset[str]) -> bool:
    return is_secret_name(name) or (bool(names) and name.lower() in names)


def redact_headers(headers: Headers, *, names: frozenset[str] = frozenset()) -> Headers:
    """``names``: more names (lower case) to treat as secret, here and below."""
    return tuple((n, REDACTED if _secret(n, names) else v) for n, v in headers)


def redact_text(text: str) -> str:
    def _replace(match: re.Match[str]) -> str:
        if match.group(2):
            return match.group(2) + REDACTED
        return f"{match.group(1)} {REDACTED}"

    return _TEXT_SECRETS.sub(_replace, text)


def _redact_query(query: str, names: frozenset[str] = frozenset()) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret(k, names) for k, _ in pairs):
        return query  # as it was spelled: a reproduction sends the very same query
    return urlencode([(k, REDACTED if _secret(k, names) else v) for k, v in pairs], safe="[]")


def redact_target(target: str, *, names: frozenset[str] = frozenset()) -> str:
    """A URL or path with secret query parameters and any user-info redacted."""
    parts = urlsplit(target)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = _redact_query(parts.query, names)
    if netloc == parts.netloc and query == parts.query:
        return target
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_json(value: Any, *, names: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED if _secret(k, names) else redact_json(v, names=names)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v, names=names) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_body(
    body: bytes, content_type: str | None, *, names: frozenset[str] = frozenset()
) -> bytes:
    """A request body fit to show: JSON members and form fields with secret names lose
    their value; any other text has inline credentials scrubbed."""
    media = (content_type or "").split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if media == "application/json" or media.endswith("+json"):
        try:
            redacted = redact_json(json.loads(text), names=names)
            return json.dumps(redacted, ensure_ascii=False).encode()
        except ValueError:
            pass
    if media == "application/x-www-form-urlencoded":
        return _redact_query(text, names).encode()
    return redact_text(text).encode()
