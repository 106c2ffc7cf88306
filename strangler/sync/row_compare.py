"""How the rows of one key differ between two sides: the last step of reconcile's search.

Rows are compared by their wire values and versions (``row_states``), never by the text the
checksums hash, so an engine pair that renders a value differently costs time, not a false
difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from strangler.sync.keys import wire_sort_key
from strangler.sync.row_states import RowState

__all__ = ["Kind", "RowDifference", "row_differences", "state_difference"]

Kind = Literal["missing", "extra", "version", "content"]


@dataclass(frozen=True)
class RowDifference:
    """A key the sides disagree on: ``missing`` on the peer, ``extra`` there, or changed."""

    pk: str
    kind: Kind
    source: RowState
    peer: RowState
    columns: tuple[str, ...] = ()


def row_differences(
    source_rows: Sequence[RowState], peer_rows: Sequence[RowState]
) -> list[RowDifference]:
    """Keys whose live rows differ: absent on one side, another version, other values."""
    ours = {row.pk: row for row in source_rows if row.data is not None}
    theirs = {row.pk: row for row in peer_rows if row.data is not None}
    differences = []
    for pk in sorted(ours.keys() | theirs.keys(), key=wire_sort_key):
        difference = state_difference(ours.get(pk) or _absent(pk), theirs.get(pk) or _absent(pk))
        if difference is not None:
            differences.append(difference)
    return differences


def state_difference(mine: RowState, theirs: RowState) -> RowDifference | None:
    """How two states of one key differ, or ``None`` when they agree (both gone counts)."""
    if mine.data is None and theirs.data is None:
        return None
    if theirs.data is None:
        return RowDifference(pk=mine.pk, kind="missing", source=mine, peer=theirs)
    if mine.data is None:
        return RowDifference(pk=mine.pk, kind="extra", source=mine, peer=theirs)
    columns = tuple(
        sorted(
            c
            for c in mine.data.keys() | theirs.data.keys()
            if mine.data.get(c) != theirs.data.get(c)
        )
    )
    if columns:
        return RowDifference(pk=mine.pk, kind="content", source=mine, peer=theirs, columns=columns)
    if mine.version != theirs.version:
        return RowDifference(pk=mine.pk, kind="version", source=mine, peer=theirs)
    return None


def _absent(pk: str) -> RowState:
    return RowState(pk=pk, version=0, deleted=False, data=None)
