"""Reconcile's second look: what each differing key turned out to be.

A key is ``in_flight`` when this node has a change to it after the peer's cursor (the relay
has not delivered it yet) or a running backfill has not reached it, ``diverged`` otherwise.
The second look reads every differing key again, by key, on both sides (after waiting up to
``settle`` seconds for the peer's cursor to pass the changes in flight): a row that now
agrees is ``converged``. Reading by key, not by range, also means a key that only seemed to
differ because the sides placed it in different ranges is never reported as diverged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from django.db import connection
from django.db.models import Q

from strangler.sync.config import sync_settings
from strangler.sync.keys import key_value, version_param
from strangler.sync.models import Change
from strangler.sync.ops_client import OpsClient
from strangler.sync.position import Position
from strangler.sync.reconcile_report import Difference, Label
from strangler.sync.row_compare import RowDifference, state_difference
from strangler.sync.row_states import RowState, row_states
from strangler.sync.runs import BackfillProgress
from strangler.sync.shapes import TableShape
from strangler.sync.sides import RemoteSide

__all__ = ["SETTLE_POLL_SECONDS", "second_look"]

# Keys per call when the second look reads rows and changes: within the peer's 20,000 a call
# and SQLite's variable limit, and one relay batch's size (relay.BATCH_SIZE).
_KEYS_PER_CALL = 500
# How often the second look asks the peer's cursor while waiting for rows in flight.
SETTLE_POLL_SECONDS = 0.2


def second_look(
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
    """``found`` labelled, each key read again on both sides (see the module's docstring)."""
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
        # The changelog holds each key as its capture trigger wrote it.
        texts = {
            str(version_param(shape, pk, connection)): pk
            for pk in pks[start : start + _KEYS_PER_CALL]
        }
        changes = Change.objects.filter(
            after, table_name=shape.sync_name, row_pk__in=list(texts)
        ).values_list("row_pk", "xid", "id")
        for text, xid, seq in changes:
            pk, position = texts[text], Position(xid=xid, seq=seq)
            pending[pk] = max(pending.get(pk, position), position)
    backfill = BackfillProgress.objects.filter(
        peer=peer, table_name=shape.sync_name, state=BackfillProgress.State.RUNNING
    ).first()
    if backfill is not None:
        for pk in _beyond(shape, pks, backfill.position):
            pending.setdefault(pk, cursor)
    return pending


def _beyond(shape: TableShape, pks: Sequence[str], position: str) -> list[str]:
    """The keys a backfill that last sent ``position`` has still to send: the rows here past
    it in this database's key order, the order the backfill reads in (every key, before its
    first batch)."""
    if not position:
        return list(pks)
    beyond: list[str] = []
    manager = shape.model._base_manager
    after = key_value(shape, position)
    for start in range(0, len(pks), _KEYS_PER_CALL):
        values = [key_value(shape, pk) for pk in pks[start : start + _KEYS_PER_CALL]]
        found = manager.filter(pk__in=values, pk__gt=after).values_list("pk", flat=True)
        beyond.extend(str(value) for value in found)
    return beyond


def _settle(
    client: OpsClient, *, source: str, until: Position, seconds: float, clock: Callable[[], float]
) -> None:
    """Wait until the peer's cursor reaches ``until``, or ``seconds`` pass."""
    deadline = clock() + seconds
    while clock() < deadline:
        if client.cursor(source=source) >= until:
            return
        time.sleep(SETTLE_POLL_SECONDS)
