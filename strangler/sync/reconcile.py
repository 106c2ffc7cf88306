"""Reconcile: compare a synced table with a peer, label each difference, repair on request.

Run on the sending node (docs/sync.md, "Backfill, reconcile, status"):

1. ``range_search`` finds the keys whose rows differ, by checksums over key ranges: ``keys``
   level hashes key and version only (cheap), ``rows`` level the column values too (finds a
   write on the peer that bypassed capture).
2. Each key is labelled. ``in_flight``: this node has a change to it after the peer's cursor
   (the relay has not delivered it yet), or a running backfill has not reached it. Otherwise
   ``diverged``. A second look re-reads every differing row on both sides (after waiting up to
   ``settle`` seconds for the peer's cursor to pass the changes in flight); a row that now
   agrees is ``converged``.
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

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from django.db.models import Q
from django.utils import timezone

from strangler.sync.changelog import SendTable
from strangler.sync.checksums import TableShape
from strangler.sync.config import sync_settings
from strangler.sync.errors import NotSent, SyncError
from strangler.sync.models import Change
from strangler.sync.ops_client import Level, OpsClient, peer_client
from strangler.sync.position import Position
from strangler.sync.range_search import RowDifference, search, state_difference
from strangler.sync.repair import rows_repair, rows_repair_from_peer
from strangler.sync.row_states import RowState, row_states
from strangler.sync.runs import BackfillProgress, ReconcileRun
from strangler.sync.sides import LocalSide, RemoteSide, source_shape

__all__ = [
    "Difference",
    "Label",
    "Prefer",
    "ReconcileReport",
    "reconcile_table",
]

Label = Literal["diverged", "in_flight", "converged"]
# Whose copy a repair keeps: this node's (the sender's) or the peer's.
Prefer = Literal["source", "peer"]
# Keys per call when the second look reads rows and changes: within the peer's 20,000 a call
# and SQLite's variable limit, and one relay batch's size (relay.BATCH_SIZE).
_KEYS_PER_CALL = 500
# How often the second look asks the peer's cursor while waiting for rows in flight.
SETTLE_POLL_SECONDS = 0.2
# Differences listed one by one in the JSON report; the counts always cover them all.
MAX_REPORTED = 10_000


@dataclass(frozen=True)
class Difference:
    """One key that differed, how, and what it turned out to be."""

    pk: str
    kind: str  # missing (on the peer) | extra (on the peer) | version | content
    label: Label
    first_label: Label
    source_version: int
    peer_version: int
    columns: tuple[str, ...] = ()
    repaired_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "pk": self.pk,
            "kind": self.kind,
            "label": self.label,
            "first_label": self.first_label,
            "source_version": self.source_version,
            "peer_version": self.peer_version,
            "columns": list(self.columns),
            "repaired_version": self.repaired_version,
        }


@dataclass(frozen=True)
class ReconcileReport:
    node: str
    peer: str
    table: str
    level: Level
    started_at: dt.datetime
    seconds: float
    rows_source: int
    rows_peer: int
    rounds: int
    segments_checked: int
    rows_fetched: int
    algorithm: str = "md5"
    differences: tuple[Difference, ...] = ()
    repaired: int = 0
    repair_stale: int = 0
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    preferred: str = ""  # the node whose copy a repair kept; empty without repair

    @property
    def diverged(self) -> int:
        return sum(
            1 for d in self.differences if d.label == "diverged" and d.repaired_version is None
        )

    @property
    def state(self) -> str:
        if self.diverged:
            return ReconcileRun.State.DIVERGED
        if self.repaired:
            return ReconcileRun.State.REPAIRED
        return ReconcileRun.State.CLEAN

    def as_json(self) -> dict[str, Any]:
        labels: dict[str, int] = {"diverged": 0, "in_flight": 0, "converged": 0}
        for difference in self.differences:
            labels[difference.label] += 1
        listed = self.differences[:MAX_REPORTED]
        return {
            "node": self.node,
            "peer": self.peer,
            "table": self.table,
            "level": self.level,
            "state": str(self.state),
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "rows": {"source": self.rows_source, "peer": self.rows_peer},
            "rows_per_second": round(max(self.rows_source, self.rows_peer) / self.seconds)
            if self.seconds > 0
            else None,
            "search": {
                "hash": self.algorithm,
                "rounds": self.rounds,
                "segments_checked": self.segments_checked,
                "rows_fetched": self.rows_fetched,
            },
            "labels": labels,
            "repaired": self.repaired,
            "repair_stale": self.repair_stale,
            "preferred": self.preferred or None,
            "differences": [d.as_json() for d in listed],
            "differences_truncated": len(self.differences) > len(listed),
        }


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
    """Compare ``table`` with ``peer`` (see the module's docstring); raises ``SyncError``."""
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
        differences = _second_look(
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
    except SyncError as exc:
        ReconcileRun.objects.filter(pk=run.pk).update(
            state=ReconcileRun.State.FAILED,
            finished_at=timezone.now(),
            report={"error": exc.message, "code": exc.code},
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


def _second_look(
    shape: TableShape,
    remote: RemoteSide,
    client: OpsClient,
    found: Sequence[RowDifference],
    *,
    peer: str,
    settle: float,
    clock: Callable[[], float],
    progress: Callable[[str], None],
) -> list[Difference]:
    if not found:
        return []
    source = sync_settings().node
    pks = [d.pk for d in found]
    first = _in_flight(shape, pks, peer=peer, cursor=client.cursor(source=source))
    progress(f"{len(found)} row(s) differ, {len(first)} in flight; second look")
    if first and settle > 0:
        _settle(client, source=source, until=max(first.values()), seconds=settle, clock=clock)
    ours = {s.pk: s for s in row_states(shape, pks)}
    theirs = {s.pk: s for s in _remote_states(remote, pks)}
    now_in_flight = _in_flight(shape, pks, peer=peer, cursor=client.cursor(source=source))
    result = []
    for before in found:
        first_label: Label = "in_flight" if before.pk in first else "diverged"
        after = state_difference(ours[before.pk], theirs[before.pk])
        if after is None:
            label: Label = "converged"
            after = before
        else:
            label = "in_flight" if before.pk in now_in_flight else "diverged"
        result.append(
            Difference(
                pk=before.pk,
                kind=after.kind,
                label=label,
                first_label=first_label,
                source_version=after.source.version,
                peer_version=after.peer.version,
                columns=after.columns,
            )
        )
    return result


def _remote_states(remote: RemoteSide, pks: Sequence[str]) -> list[RowState]:
    states: list[RowState] = []
    for start in range(0, len(pks), _KEYS_PER_CALL):
        states.extend(remote.states(pks[start : start + _KEYS_PER_CALL]))
    return states


def _in_flight(
    shape: TableShape, pks: Sequence[str], *, peer: str, cursor: Position
) -> dict[str, Position]:
    """Keys with a change after ``cursor`` (its last position), or beyond a running backfill."""
    pending: dict[str, Position] = {}
    after = Q(xid__gt=cursor.xid) | Q(xid=cursor.xid, id__gt=cursor.seq)
    for start in range(0, len(pks), _KEYS_PER_CALL):
        changes = Change.objects.filter(
            after, table_name=shape.sync_name, row_pk__in=pks[start : start + _KEYS_PER_CALL]
        ).values_list("row_pk", "xid", "id")
        for pk, xid, seq in changes:
            position = Position(xid=xid, seq=seq)
            pending[pk] = max(pending.get(pk, position), position)
    backfill = BackfillProgress.objects.filter(
        peer=peer, table_name=shape.sync_name, state=BackfillProgress.State.RUNNING
    ).first()
    if backfill is not None:
        reached = int(backfill.position) if backfill.position else None
        for pk in pks:
            if reached is None or int(pk) > reached:
                pending.setdefault(pk, cursor)
    return pending


def _settle(
    client: OpsClient, *, source: str, until: Position, seconds: float, clock: Callable[[], float]
) -> None:
    """Wait until the peer's cursor reaches ``until``, or ``seconds`` pass."""
    deadline = clock() + seconds
    while clock() < deadline:
        if client.cursor(source=source) >= until:
            return
        time.sleep(SETTLE_POLL_SECONDS)


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
