"""Settling judged changes: write the winners, and say what became of every change.

Each change ends ``"applied"``, ``"stale"`` (an older or equal version, a change superseded in
the same batch, or one that lost a race to a newer version) or with the ``RowFailed`` to park
it by (``parked_behind`` when its key has a parked letter already). Winners whose values the
local fields refuse fail here; the rest go to the writers parents first (``writers.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models

from strangler.sync.fate import Fate, RowKey
from strangler.sync.rows import PreparedRow, RowFailed, row_prepare
from strangler.sync.schema import InboundTarget
from strangler.sync.wire import RowChange
from strangler.sync.writers import Written, rows_write

__all__ = ["Settled", "fates_settle"]

Settled = Written | RowFailed


def fates_settle(
    changes: Sequence[RowChange],
    targets: Mapping[str, InboundTarget],
    *,
    keys: Sequence[tuple[Any, str] | RowFailed],
    fates: Sequence[Fate],
    parked: Mapping[RowKey, int],
    now: dt.datetime,
) -> list[Settled]:
    """What became of each change, in order.

    ``keys`` and ``fates`` are the preload's and the judge's answers for ``changes``; ``parked``
    maps sender keys to their first parked letter. Run it in a transaction marked as applying
    (``marking.applying``).
    """
    settled: dict[int, Settled] = {}
    winners: dict[int, PreparedRow] = {}
    for index, (change, fate, key) in enumerate(zip(changes, fates, keys, strict=True)):
        if fate == "parked_behind":
            head = parked[(change.table, change.pk)]
            message = f"an earlier change to this row is parked (dead letter #{head})"
            settled[index] = RowFailed("parked_behind", message)
        elif isinstance(key, RowFailed):  # refused: its key cannot be read here
            settled[index] = key
        elif fate != "write":
            settled[index] = "stale"
        else:
            try:
                winners[index] = row_prepare(
                    change, targets[change.table], pk_value=key[0], key=key[1]
                )
            except RowFailed as exc:
                settled[index] = exc
    order = _fk_order(winners, targets)
    written = rows_write([winners[index] for index in order], now=now)
    settled.update(zip(order, written, strict=True))
    return [settled[index] for index in range(len(changes))]


def _fk_order(
    winners: Mapping[int, PreparedRow], targets: Mapping[str, InboundTarget]
) -> list[int]:
    """Writes parents first, deletes children first; versions make the order otherwise free.

    The relay coalesces a row to its last position in the batch, so a child written after its
    parent can arrive before it; writing by foreign-key depth keeps such a batch whole.
    """
    depth = _depths(tuple(sorted({t.model for t in targets.values()}, key=str)))
    writes = [i for i, row in winners.items() if not row.change.deleted]
    deletes = [i for i, row in winners.items() if row.change.deleted]
    writes.sort(key=lambda i: depth[winners[i].target.model])
    deletes.sort(key=lambda i: -depth[winners[i].target.model])
    return writes + deletes


@functools.lru_cache(maxsize=64)
def _depths(models_: tuple[type[models.Model], ...]) -> dict[type[models.Model], int]:
    known = set(models_)
    depths: dict[type[models.Model], int] = {}

    def depth(model: type[models.Model], seen: frozenset[type[models.Model]]) -> int:
        if model in depths:
            return depths[model]
        parents = [
            f.related_model
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model in known and f.related_model not in seen
        ]
        value = 1 + max(
            (depth(p, seen | {model}) for p in parents if isinstance(p, type)), default=-1
        )
        depths[model] = value
        return value

    for model in models_:
        depth(model, frozenset())
    return depths
