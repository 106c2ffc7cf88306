"""Builders for the wire's data as beta would send it to alpha (this test process)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.test import Client

from strangler.sync.position import Position
from strangler.sync.rows import PreparedRow, row_key, row_prepare
from strangler.sync.schema import inbound_targets
from strangler.sync.signing import sign_sync_call
from strangler.sync.wire import ApplyRequest, RowChange, dumps

SOURCE = "beta"
NODE = "alpha"  # this test process
WIDGET = "widgets_widget"
PART = "widgets_part"
WIDGET_COLUMNS = ("id", "sku", "name", "price", "updated_at")
PART_COLUMNS = ("id", "widget_id", "name", "quantity")
COLUMNS = {WIDGET: WIDGET_COLUMNS, PART: PART_COLUMNS}
WHEN = dt.datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=dt.UTC)


def widget(pk: int, version: int, *, sku: str | None = None, name: str = "gear",
           price: str = "9.99", updated_at: dt.datetime = WHEN) -> RowChange:  # fmt: skip
    data = {"id": pk, "sku": sku or f"SKU-{pk}", "name": name, "price": price,
            "updated_at": json.loads(dumps(updated_at))}  # fmt: skip
    return RowChange(table=WIDGET, pk=str(pk), version=version, deleted=False, data=data)


def part(
    pk: int, version: int, *, widget_id: int, name: str = "bolt", quantity: int = 1
) -> RowChange:
    data = {"id": pk, "widget_id": widget_id, "name": name, "quantity": quantity}
    return RowChange(table=PART, pk=str(pk), version=version, deleted=False, data=data)


def tombstone(table: str, pk: int, version: int) -> RowChange:
    return RowChange(table=table, pk=str(pk), version=version, deleted=True)


def batch(*changes: RowChange, start: int = 0, end: int | None = None,
          heartbeat_at: dt.datetime | None = None) -> ApplyRequest:  # fmt: skip
    """A batch from ``[0, start]`` to ``[0, end]`` (end defaults to start + len(changes))."""
    tables = {change.table for change in changes}
    return ApplyRequest(
        source=SOURCE,
        start=Position(0, start),
        end=Position(0, start + len(changes) if end is None else end),
        columns={table: COLUMNS[table] for table in tables},
        changes=tuple(changes),
        heartbeat_at=heartbeat_at,
    )


def sync_headers(method: str, path: str, body: bytes, *, secret: str, sender: str = SOURCE,
                 receiver: str = NODE, timestamp: int | None = None) -> dict[str, str]:  # fmt: skip
    """The headers of a call signed as ``sender`` for ``receiver`` (beta to alpha by default)."""
    now = time.time() if timestamp is None else timestamp
    return sign_sync_call(secret=secret, method=method, path=path, body=body, sender=sender,
                          receiver=receiver, now=now)  # fmt: skip


def signed_post(client: Client, path: str, payload: Any, *, secret: str,
                timestamp: int | None = None, sender: str = SOURCE,
                receiver: str = NODE) -> Any:  # fmt: skip
    body = dumps(payload) if not isinstance(payload, bytes) else payload
    headers = sync_headers(
        "POST", path, body, secret=secret, timestamp=timestamp, sender=sender, receiver=receiver
    )
    return client.post(path, data=body, content_type="application/json", headers=headers)


def signed_get(client: Client, path: str, *, secret: str) -> Any:
    return client.get(path, headers=sync_headers("GET", path, b"", secret=secret))


def prepared(change: RowChange) -> PreparedRow:
    """``change`` as apply hands it to a writer: its key and values read by alpha's fields."""
    target = inbound_targets(SOURCE, COLUMNS)[change.table]
    pk_value, key = row_key(target, change.pk)
    return row_prepare(change, target, pk_value=pk_value, key=key)
