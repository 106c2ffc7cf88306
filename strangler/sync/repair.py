"""Repair: re-send rows through the peer's apply path with a version above both sides'.

The row's version here is raised first, in the transaction that reads the row (on PostgreSQL
with the row and its version locked, so a concurrent writer waits and then bumps past it):
the peer takes the copy, which now wins over whatever it has, and this node's next write to
the row still wins after that. Used by reconcile for the rows it labelled diverged.

The other way round (``rows_repair_from_peer``, reconcile's ``prefer="peer"``: the peer owns
the writes) the peer does the same on its side (``POST /internal/sync/rows/resend``) and
answers the changes, which this node applies through its own apply path: the peer's copy
wins here, and the peer's next write still wins after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from strangler.sync.apply import apply_changes
from strangler.sync.changelog import SendTable
from strangler.sync.config import sync_settings
from strangler.sync.keys import key_value, version_param
from strangler.sync.models import RowVersion
from strangler.sync.ops_client import OpsClient
from strangler.sync.row_states import row_states
from strangler.sync.shapes import TableShape
from strangler.sync.wire import RowChange

__all__ = ["REPAIR_BATCH", "RepairResult", "rows_raise", "rows_repair", "rows_repair_from_peer"]

# Rows re-sent per call: the same order of size as a relay batch (relay.BATCH_SIZE).
REPAIR_BATCH = 500


@dataclass(frozen=True)
class RepairResult:
    """The version each row was re-sent with; what the peer applied, and what it refused."""

    versions: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    stale: int = 0  # overtaken on the peer meanwhile, or parked there as dead letters


def rows_repair(
    shape: TableShape, table: SendTable, client: OpsClient, *, peer_versions: dict[str, int]
) -> RepairResult:
    """Re-send the rows ``peer_versions`` names (pk -> the peer's version of it)."""
    pks = sorted(peer_versions)
    versions: dict[str, int] = {}
    applied = stale = 0
    source = sync_settings().node
    for start in range(0, len(pks), REPAIR_BATCH):
        chunk = {pk: peer_versions[pk] for pk in pks[start : start + REPAIR_BATCH]}
        changes = rows_raise(shape, table, chunk)
        answer = client.rows_apply(
            source=source, columns={table.table: table.columns}, changes=changes
        )
        applied += answer.applied
        stale += answer.stale + answer.dead_lettered
        versions.update({change.pk: change.version for change in changes})
    return RepairResult(versions=versions, applied=applied, stale=stale)


def rows_repair_from_peer(
    table: SendTable, client: OpsClient, *, peer: str, versions: dict[str, int]
) -> RepairResult:
    """Take the peer's copy of the rows ``versions`` names (pk -> this node's version)."""
    pks = sorted(versions)
    repaired: dict[str, int] = {}
    applied = stale = 0
    source = sync_settings().node
    for start in range(0, len(pks), REPAIR_BATCH):
        chunk = {pk: versions[pk] for pk in pks[start : start + REPAIR_BATCH]}
        resent = client.rows_resend(
            source=source, table=table.table, columns=table.columns, versions=chunk
        )
        counts = apply_changes(source=peer, changes=resent.changes, columns=resent.columns)
        applied += counts.applied
        stale += counts.stale + counts.dead_lettered
        repaired.update({change.pk: change.version for change in resent.changes})
    return RepairResult(versions=repaired, applied=applied, stale=stale)


def rows_raise(
    shape: TableShape, table: SendTable, peer_versions: dict[str, int]
) -> list[RowChange]:
    """Give each row a version above both sides' here, and the changes that carry it."""
    pks = sorted(peer_versions)
    now = timezone.now()
    # Keys travel as text of their Python value; the version rows hold the triggers' text.
    texts = {pk: str(version_param(shape, pk, connection)) for pk in pks}
    with transaction.atomic():
        if connection.vendor in ("postgresql", "mysql"):
            # Writers to these rows wait for us, then their trigger bumps past our version.
            list(
                table.model._base_manager.select_for_update()
                .filter(pk__in=[key_value(shape, pk) for pk in pks])
                .values_list("pk", flat=True)
            )
            list(
                RowVersion.objects.select_for_update()
                .filter(table_name=shape.sync_name, row_pk__in=list(texts.values()))
                .values_list("pk", flat=True)
            )
        states = {s.pk: s for s in row_states(shape, pks)}
        data = _wire_data(shape, table, [pk for pk in pks if states[pk].data is not None])
        changes = []
        rows = []
        for pk in pks:
            state = states[pk]
            version = max(state.version, peer_versions[pk]) + 1
            deleted = state.data is None
            rows.append(
                RowVersion(
                    table_name=shape.sync_name,
                    row_pk=texts[pk],
                    version=version,
                    deleted=deleted,
                    updated_at=now,
                )
            )
            changes.append(
                RowChange(
                    table=table.table,
                    pk=pk,
                    version=version,
                    deleted=deleted,
                    data=None if deleted else data[pk],
                )
            )
        # MySQL's upsert names no key (ON DUPLICATE KEY UPDATE): the unique one is the only
        # one these rows can meet, their ids being new.
        target = connection.features.supports_update_conflicts_with_target
        RowVersion.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["table_name", "row_pk"] if target else None,
            update_fields=["version", "deleted", "updated_at"],
        )
    return changes


def _wire_data(
    shape: TableShape, table: SendTable, pks: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Rows' values keyed by sent column, primary key included, as the relay sends them."""
    pk_attname = shape.pk_attname
    rows = table.model._base_manager.filter(pk__in=[key_value(shape, pk) for pk in pks]).values(
        pk_attname, *table.attnames
    )
    return {
        str(row[pk_attname]): {
            column: row[attname]
            for column, attname in zip(table.columns, table.attnames, strict=True)
        }
        for row in rows
    }
