"""What two code paths returned, as the JSON the engine compares.

Dicts, lists, strings, numbers, booleans and None are JSON already; a tuple is a list; a set
is a list in a stable order (its order means nothing); a dataclass is its fields; dates,
times, UUIDs and Decimals are their text (``"12.50"``: give ``tolerance: {decimal: true}``
for ``"12.5"`` to equal it); an Enum is its value. Anything else is refused with its type
named, rather than compared by a ``repr`` that may hold an address.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from decimal import Decimal
from typing import Any

__all__ = ["NotJsonLike", "json_body"]


class NotJsonLike(TypeError):
    pass


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=lambda item: json.dumps(item, default=_default, sort_keys=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise NotJsonLike(
        f"a {type(value).__module__}.{type(value).__qualname__} is not JSON-like data; "
        "return dicts, lists, strings, numbers, dates or dataclasses of them"
    )


def json_body(value: Any, *, who: str) -> bytes:
    """``NotJsonLike`` names ``who`` returned what."""
    try:
        return json.dumps(value, default=_default, ensure_ascii=False).encode()
    except NotJsonLike as exc:
        raise NotJsonLike(f"{who} returned {exc}") from None
    except (TypeError, ValueError) as exc:  # keys that are not strings, circular data
        raise NotJsonLike(f"{who} returned a value that is not JSON-like: {exc}") from None
