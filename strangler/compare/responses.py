"""Two answers to one request compared: status, chosen headers, then the body by its type.

Fast path first: identical body bytes are equal whatever their type; JSON bodies whose
canonical form (sorted members, no whitespace) is the same are equal before any walk.
Redirects (3xx) compare status and normalised ``Location``, not their bodies; 204, 304
and answers to HEAD have no body to compare.
"""

from __future__ import annotations

import hashlib

from strangler.compare.compiled import CompiledRules
from strangler.compare.decode import DecodedBody, decode_body, media_type
from strangler.compare.links import host_of, location_target
from strangler.compare.model import Difference, DiffKind, HttpRequest, HttpResponse
from strangler.compare.redact import REDACTED, is_secret_name
from strangler.compare.text import diff_html, diff_text, normalise_text
from strangler.compare.tree import diff_json
from strangler.compare.values import canonical, show

__all__ = ["STATUS_KEY", "diff_responses"]

STATUS_KEY = "@status"
_BODY_KEY = "@body"
_NO_BODY_STATUSES = frozenset({204, 304})


def _header_values(response: HttpResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in response.headers:
        lowered = name.lower()
        out[lowered] = f"{out[lowered]}, {value}" if lowered in out else value
    return out


def _normalised_header(name: str, value: str) -> str:
    if name == "content-type":
        media, charset = media_type(value)
        return f"{media}; charset={charset}" if charset else media
    return " ".join(value.split())


def _diff_headers(
    base: HttpResponse, candidate: HttpResponse, rules: CompiledRules, local: frozenset[str]
) -> list[Difference]:
    values_a, values_b = _header_values(base), _header_values(candidate)
    out = []
    for name in sorted(values_a.keys() | values_b.keys()):
        if name == "location" or not rules.compares_header(name):
            continue
        a, b = values_a.get(name), values_b.get(name)
        if a is not None and b is not None:
            if _normalised_header(name, a) == _normalised_header(name, b):
                continue
            kind = DiffKind.VALUE
        else:
            kind = DiffKind.MISSING if b is None else DiffKind.EXTRA
        secret = is_secret_name(name)
        out.append(_header_difference(name, kind, a, b, secret=secret))
    if base.status // 100 == 3 or base.status == 201 or candidate.status // 100 == 3:
        a, b = values_a.get("location"), values_b.get("location")
        target_a = None if a is None else location_target(a, local)
        target_b = None if b is None else location_target(b, local)
        if target_a != target_b:
            kind = DiffKind.VALUE
            if a is None or b is None:
                kind = DiffKind.MISSING if b is None else DiffKind.EXTRA
            out.append(_header_difference("location", kind, target_a, target_b, secret=False))
    return out


def _header_difference(
    name: str, kind: DiffKind, a: str | None, b: str | None, *, secret: bool
) -> Difference:
    def shown(value: str | None) -> str | None:
        if value is None:
            return None
        return REDACTED if secret else show(value)

    key = f"@header.{name}"
    return Difference(key, key, kind, shown(a), shown(b))


def _fingerprint(body: DecodedBody) -> str:
    data = body.value if isinstance(body.value, bytes) else str(body.value).encode()
    return f"sha256:{hashlib.sha256(data).hexdigest()[:16]} ({len(data)} bytes)"


def _diff_bodies(
    base: HttpResponse, candidate: HttpResponse, rules: CompiledRules
) -> tuple[list[Difference], bool]:
    a, b = decode_body(base), decode_body(candidate)
    if a.kind != b.kind:
        detail = "; ".join(n for n in (a.note, b.note) if n)
        return [
            Difference(_BODY_KEY, _BODY_KEY, DiffKind.TYPE, a.kind, b.kind, detail=detail)
        ], False
    if a.kind == "json":
        # Python's == is order-free and allocation-free; the canonical text then rules out
        # what == lets through (true == 1) before the answer "equal" is given.
        if a.value == b.value and canonical(a.value) == canonical(b.value):
            return [], False
        return diff_json(a.value, b.value, rules)
    if a.kind in ("html", "text"):
        html = a.kind == "html"
        text_a = normalise_text(a.value, rules.text_masks, html=html)
        text_b = normalise_text(b.value, rules.text_masks, html=html)
        if text_a == text_b:
            return [], False
        return (diff_html(text_a, text_b) if html else diff_text(text_a, text_b)), False
    if a.kind == "binary" and a.value != b.value:
        kind = DiffKind.LENGTH if len(a.value) != len(b.value) else DiffKind.VALUE
        return [Difference(_BODY_KEY, _BODY_KEY, kind, _fingerprint(a), _fingerprint(b))], False
    return [], False


def diff_responses(
    request: HttpRequest, base: HttpResponse, candidate: HttpResponse, rules: CompiledRules
) -> tuple[list[Difference], bool]:
    """Every difference between the two answers, and whether the list was cut short."""
    out: list[Difference] = []
    if base.status != candidate.status:
        out.append(
            Difference(
                STATUS_KEY,
                STATUS_KEY,
                DiffKind.VALUE,
                str(base.status),
                str(candidate.status),
                critical=True,
            )
        )
    local = rules.local_hosts | {
        host_of(h) for h in (request.header("host") or "", base.origin, candidate.origin) if h
    }
    out.extend(_diff_headers(base, candidate, rules, local))
    no_body = (
        request.method.upper() == "HEAD"
        or base.status // 100 == 3
        or base.status in _NO_BODY_STATUSES
    )
    if no_body or base.body == candidate.body:
        return out, False
    body, truncated = _diff_bodies(base, candidate, rules)
    out.extend(body)
    return out, truncated
