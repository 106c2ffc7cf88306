"""The two sides reconcile compares: this node's database, and a peer over HTTP.

Both answer the same questions about one synced table (its bounds, boundary keys of ranges,
checksums of ranges, rows of a range, named rows), so the comparison in ``range_search`` is
written once against ``Side``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from django.db import connection

from strangler.sync.changelog import SendTable
from strangler.sync.checksums import (
    Boundaries,
    KeyBounds,
    Level,
    SegmentChecksum,
    key_bounds,
    segment_checksums,
)
from strangler.sync.config import sync_settings
from strangler.sync.errors import CaptureMissing, SyncError
from strangler.sync.key_splits import SplitRequest, key_splits
from strangler.sync.keys import KeyOrder
from strangler.sync.ops_client import OpsClient
from strangler.sync.row_hash import Algorithm
from strangler.sync.row_states import RowState, row_states, rows_in_range
from strangler.sync.schema import send_tables
from strangler.sync.shapes import TableShape
from strangler.sync.triggers import capture_installed

__all__ = ["LocalSide", "RemoteSide", "Side", "outbound_tables", "source_shape"]


def outbound_tables(
    *, peer: str | None, model: str | None, capture: bool = True
) -> tuple[str, tuple[SendTable, ...]]:
    """The peer (the only one when ``None``) and its tables (``model``'s, or all, in order).

    Raises ``SyncError`` (``unknown_peer``, ``unknown_table``), ``SchemaDrift`` when the
    registration no longer fits the table, and ``CaptureMissing`` when ``capture`` is asked
    and the table has no triggers: rows written meanwhile would never reach the peer.
    """
    config = sync_settings()
    peers = config.stream_peers()
    if peer is None:
        if len(peers) != 1:
            raise SyncError(
                f"{config.node} sends to {', '.join(peers) or 'no peer'}: name one",
                code="unknown_peer",
            )
        peer = peers[0]
    elif peer not in peers:
        raise SyncError(
            f"{config.node} sends nothing to {peer!r} (outbound peers: {', '.join(peers)})",
            code="unknown_peer",
        )
    tables = send_tables(peer)
    if model is not None:
        tables = tuple(t for t in tables if t.entry.model.lower() == model.lower())
        if not tables:
            raise SyncError(
                f"{model} is not registered in outbound to {peer} (write app_label.Model)",
                code="unknown_table",
            )
    if capture:
        missing = [t.table for t in tables if not capture_installed(connection, table=t.table)]
        if missing:
            raise CaptureMissing(
                f"no capture triggers on {', '.join(missing)}: add CaptureTable to a migration "
                "and migrate first, or writes made during the copy would be lost"
            )
    return peer, tables


class Side(Protocol):
    def bounds(self) -> KeyBounds: ...

    def splits(self, requests: Sequence[SplitRequest], order: KeyOrder) -> list[list[str]]: ...

    def checksums(
        self, ranges: Sequence[Boundaries], level: Level, algorithm: Algorithm, order: KeyOrder
    ) -> list[list[SegmentChecksum]]: ...

    def rows(self, low: str | None, high: str | None, order: KeyOrder) -> list[RowState]: ...

    def states(self, pks: Sequence[str]) -> list[RowState]: ...


def source_shape(table: SendTable) -> TableShape:
    """The sending node's shape of ``table``: its own names, wire names = its columns."""
    return TableShape.for_model(
        table.model,
        sync_name=table.table,
        wire_to_attname=dict(zip(table.columns, table.attnames, strict=True)),
    )


class LocalSide:
    """This node's own rows, read from its database."""

    def __init__(self, shape: TableShape) -> None:
        self.shape = shape

    def bounds(self) -> KeyBounds:
        return key_bounds(self.shape)

    def splits(self, requests: Sequence[SplitRequest], order: KeyOrder) -> list[list[str]]:
        return [key_splits(self.shape, request, order=order) for request in requests]

    def checksums(
        self, ranges: Sequence[Boundaries], level: Level, algorithm: Algorithm, order: KeyOrder
    ) -> list[list[SegmentChecksum]]:
        return [
            segment_checksums(
                self.shape, boundaries=b, level=level, algorithm=algorithm, order=order
            )
            for b in ranges
        ]

    def rows(self, low: str | None, high: str | None, order: KeyOrder) -> list[RowState]:
        return rows_in_range(self.shape, low=low, high=high, order=order)

    def states(self, pks: Sequence[str]) -> list[RowState]:
        return row_states(self.shape, pks)


class RemoteSide:
    """The peer's rows of the sender's ``table``, through its operations endpoints."""

    def __init__(
        self, client: OpsClient, *, source: str, table: str, columns: Sequence[str]
    ) -> None:
        self.client = client
        self.source = source
        self.table = table
        self.columns = tuple(columns)

    def bounds(self) -> KeyBounds:
        return self.client.bounds(source=self.source, table=self.table, columns=self.columns)

    def splits(self, requests: Sequence[SplitRequest], order: KeyOrder) -> list[list[str]]:
        return self.client.splits(
            source=self.source,
            table=self.table,
            columns=self.columns,
            requests=requests,
            order=order,
        )

    def checksums(
        self, ranges: Sequence[Boundaries], level: Level, algorithm: Algorithm, order: KeyOrder
    ) -> list[list[SegmentChecksum]]:
        return self.client.checksums(
            source=self.source,
            table=self.table,
            columns=self.columns,
            level=level,
            ranges=ranges,
            algorithm=algorithm,
            order=order,
        )

    def rows(self, low: str | None, high: str | None, order: KeyOrder) -> list[RowState]:
        return self.client.rows(
            source=self.source,
            table=self.table,
            columns=self.columns,
            span=(low, high),
            order=order,
        )

    def states(self, pks: Sequence[str]) -> list[RowState]:
        return self.client.rows(source=self.source, table=self.table, columns=self.columns, pks=pks)
