"""Scalar values: their canonical text, how they are shown, and when two are the same
under a node's rule (links, normalisers, decimals, tolerances)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from strangler.compare.compiled import NodeRule, Tolerance
from strangler.compare.links import link_target
from strangler.compare.redact import REDACTED, redact_json, redact_text

__all__ = ["MAX_SHOWN_CHARS", "TYPES", "canonical", "same_scalar", "show"]

# Characters of a value kept for display: enough for a price, a name or a short text.
MAX_SHOWN_CHARS = 200

TYPES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    dict: "object",
    list: "array",
}


# One encoder for every call: ``json.dumps`` with options builds a new one each time.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_LITERALS: dict[Any, str] = {None: "null", True: "true", False: "false"}


def canonical(value: Any) -> str:
    return _CANONICAL.encode(value)


def show(value: Any, *, secret: bool = False) -> str:
    if secret:
        return REDACTED
    kind = type(value)
    if kind is int or kind is float:
        return repr(value)  # what JSON writes for finite numbers
    if kind is bool or value is None:
        return _LITERALS[value]
    text = _CANONICAL.encode(redact_json(value) if kind is dict or kind is list else value)
    if len(text) > MAX_SHOWN_CHARS:
        text = f"{text[:MAX_SHOWN_CHARS]}… ({len(text)} chars)"
    # Inline credentials need a '=' or a space around them; most values have neither.
    return redact_text(text) if ("=" in text or " " in text) else text


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _within(a: float, b: float, tolerance: Tolerance) -> bool:
    gap = abs(a - b)
    if gap <= tolerance.absolute:
        return True
    return gap <= max(abs(a), abs(b)) * tolerance.relative


def _within_decimal(a: Decimal, b: Decimal, tolerance: Tolerance) -> bool:
    # The tolerance's floats as written (0.01, not 0.01000000000000000020816...).
    gap = abs(a - b)
    if gap <= Decimal(repr(tolerance.absolute)):
        return True
    return gap <= max(abs(a), abs(b)) * Decimal(repr(tolerance.relative))


def same_scalar(a: Any, b: Any, kind: str, rule: NodeRule, critical: bool) -> bool:
    """Whether two unequal scalars of one JSON type are the same under the node's rule."""
    tolerance = rule.tolerance
    if kind == "string":
        if rule.link:
            a, b = link_target(a), link_target(b)
        if rule.normalisers and not critical:
            for pattern, replacement in rule.normalisers:
                a, b = pattern.sub(replacement, a), pattern.sub(replacement, b)
        if a == b:
            return True
        if tolerance is not None and tolerance.decimal:
            da, db = _decimal(a), _decimal(b)
            if da is not None and db is not None:
                return da == db or (not critical and _within_decimal(da, db, tolerance))
        return False
    if kind == "number" and tolerance is not None and not critical:
        return _within(a, b, tolerance)
    return False
