"""Reconcile: compare a synced table with a peer, label each difference, repair on request.

Run on the sending node (docs/sync.md, "Backfill, reconcile, status"):

1. ``range_search`` finds the keys whose rows differ, by checksums over key ranges (integer,
   UUID and text keys, in an order both sides share: ``keys``): ``keys`` level hashes key and
   version only (cheap), ``rows`` level the column values too (finds a write on the peer that
   bypassed capture).
2. Each key is labelled (``reconcile_labels``). ``in_flight``: this node has a change to it
   after the peer's cursor (the relay has not delivered it yet), or a running backfill has not
   reached it. Otherwise ``diverged``. A second look re-reads every differing row on both
   sides (after waiting up to ``settle`` seconds for the peer's cursor to pass the changes in
   flight); a row that now agrees is ``converged``.
3. ``repair`` re-sends each diverged row through the apply path with a version above both
   sides' (this node's version is raised to it first, in the same transaction that reads the
   row), so this node's state wins and its next write still wins after that. With
   ``prefer="peer"`` it is the other way round: the peer raises its rows and this node
   applies the peer's copy. The preferred side is the one that owns the writes (before a
   cutover the monolith, after it the service): a row written on both sides at the same
   version (an equal-version conflict, ``content`` at equal versions) is settled its way.

The run is recorded in ``strangler_sync_reconcile`` (status shows the last one) and returned
as a ``ReconcileReport`` whose ``as_json()`` is the JSON report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal

from django.db import DatabaseError
from django.utils import timezone

from strangler.sync.changelog import SendTable
from strangler.sync.checksums import Level
from strangler.sync.config import sync_settings
from strangler.sync.errors import NotSent, SyncError
from strangler.sync.ops_client import OpsClient, peer_client
from strangler.sync.range_search import search
from strangler.sync.reconcile_labels import second_look
from strangler.sync.reconcile_report import Difference, Label, ReconcileReport
from strangler.sync.repair import rows_repair, rows_repair_from_peer
from strangler.sync.runs import ReconcileRun
from strangler.sync.shapes import TableShape
from strangler.sync.sides import LocalSide, RemoteSide, source_shape

__all__ = [
    "Difference",
    "Label",
    "Prefer",
    "ReconcileReport",
    "reconcile_table",
]

# Whose copy a repair keeps: this node's (the sender's) or the peer's.
Prefer = Literal["source", "peer"]


def reconcile_table(
    table: SendTable,
    *,
    peer: str,
    level: Level = "keys",
    repair: bool = False,
    prefer: Prefer = "source",
    settle: float = 0.0,
    client: OpsClient | None = None,
    progress: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
) -> ReconcileReport:
    """Compare ``table`` with ``peer`` (see the module's docstring); raises ``SyncError``
    (``UnsupportedKey`` when its key cannot be ordered) and ``DatabaseError``, the run then
    recorded as failed with the error."""
    config = sync_settings()
    client = peer_client(peer, client)
    if repair and prefer == "peer":
        _peer_sends(table, peer)
    shape = source_shape(table)
    started, begun = timezone.now(), clock()
    run = ReconcileRun.objects.create(
        peer=peer, table_name=table.table, level=level, started_at=started
    )
    try:
        remote = RemoteSide(client, source=config.node, table=table.table, columns=table.columns)
        found = search(LocalSide(shape), remote, level=level, progress=progress)
        differences = second_look(
            shape,
            remote,
            client,
            found.differences,
            peer=peer,
            settle=settle,
            clock=clock,
            progress=progress,
        )
        repaired = stale = 0
        if repair:
            differences, repaired, stale = _repair(
                shape, table, client, differences, peer=peer, prefer=prefer
            )
            progress(f"repaired {repaired} row(s), {stale} overtaken on the peer")
    except (SyncError, DatabaseError) as exc:
        code, message = (exc.code, exc.message) if isinstance(exc, SyncError) else ("", str(exc))
        ReconcileRun.objects.filter(pk=run.pk).update(
            state=ReconcileRun.State.FAILED,
            finished_at=timezone.now(),
            report={"error": message, "code": code or "database_error"},
        )
        raise
    report = ReconcileReport(
        node=config.node,
        peer=peer,
        table=table.table,
        level=level,
        started_at=started,
        seconds=clock() - begun,
        rows_source=found.rows_source,
        rows_peer=found.rows_peer,
        rounds=found.rounds,
        segments_checked=found.segments_checked,
        rows_fetched=found.rows_fetched,
        algorithm=found.algorithm,
        key_order=found.order,
        differences=tuple(differences),
        repaired=repaired,
        repair_stale=stale,
        run_id=run.pk,
        preferred=(peer if prefer == "peer" else config.node) if repair else "",
    )
    document = report.as_json()
    ReconcileRun.objects.filter(pk=run.pk).update(
        state=report.state,
        rows_source=report.rows_source,
        rows_peer=report.rows_peer,
        diverged=document["labels"]["diverged"],
        in_flight=document["labels"]["in_flight"],
        converged=document["labels"]["converged"],
        repaired=repaired,
        report=document,
        finished_at=timezone.now(),
    )
    return report


def _peer_sends(table: SendTable, peer: str) -> None:
    """Refuse, before any work, to prefer a peer whose copy of ``table`` cannot come here."""
    inbound = sync_settings().inbound
    if not any(e.source == peer and e.model.lower() == table.entry.model.lower() for e in inbound):
        raise NotSent(
            f"{table.entry.model} does not come from {peer} here (no inbound registration): "
            f"{peer}'s copy cannot be preferred"
        )


def _repair(
    shape: TableShape,
    table: SendTable,
    client: OpsClient,
    differences: Sequence[Difference],
    *,
    peer: str,
    prefer: Prefer,
) -> tuple[list[Difference], int, int]:
    """Settle the diverged rows (``repair``); the differences with their new versions."""
    diverged = [d for d in differences if d.label == "diverged"]
    if prefer == "peer":
        ours = {d.pk: d.source_version for d in diverged}
        result = rows_repair_from_peer(table, client, peer=peer, versions=ours)
    else:
        peer_versions = {d.pk: d.peer_version for d in diverged}
        result = rows_repair(shape, table, client, peer_versions=peer_versions)
    updated = [
        replace(d, repaired_version=result.versions[d.pk]) if d.pk in result.versions else d
        for d in differences
    ]
    return updated, result.applied, result.stale
