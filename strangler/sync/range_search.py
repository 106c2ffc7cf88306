"""Finding the rows two sides disagree on: checksums over key ranges, bisected down to rows.

The whole key span is cut into chunks of about ``CHUNK_ROWS`` rows, each checksummed in
``FANOUT`` segments on both sides at once (the peer over HTTP in a worker thread while this
node's database answers in the calling thread). Segments whose row count and hash sums agree
are done; the others are cut again, until a segment holds at most ``ROW_THRESHOLD`` rows,
whose rows are then fetched from both sides and compared value by value. With nothing
different this is one scan of each table; with a few rows different, a few index range scans
more per round (data-diff's method).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from strangler.sync.checksums import Algorithm, SegmentChecksum
from strangler.sync.ops_client import Level, RangeRequest
from strangler.sync.row_states import RowState
from strangler.sync.sides import Side

__all__ = [
    "CHUNK_ROWS",
    "FANOUT",
    "ROW_THRESHOLD",
    "RowDifference",
    "Search",
    "row_differences",
    "search",
]

# Segments per range and round. data-diff's default bisection factor; 32 keeps a round's
# answer small (32 sums) while dividing the rows to look at by 32 each round.
FANOUT = 32
# A segment at or below this many rows is compared row by row: reading 1,000 rows with their
# versions and values took 22 ms here (SQLite), cheaper than another checksum round.
ROW_THRESHOLD = 1000
# Rows one checksum call covers: 250,000 rows took ~0.3 s on PostgreSQL (its own hash) and
# 0.9 s (keys) to 1.7 s (rows) on SQLite here, far inside the transport's 10 s read timeout.
CHUNK_ROWS = 250_000

Kind = Literal["missing", "extra", "version", "content"]


@dataclass(frozen=True)
class RowDifference:
    """A key the sides disagree on: ``missing`` on the peer, ``extra`` there, or changed."""

    pk: str
    kind: Kind
    source: RowState
    peer: RowState
    columns: tuple[str, ...] = ()


@dataclass
class Search:
    """What a search looked at, for the report."""

    rows_source: int = 0
    rows_peer: int = 0
    algorithm: Algorithm = "md5"
    rounds: int = 0
    segments_checked: int = 0
    rows_fetched: int = 0
    differences: list[RowDifference] = field(default_factory=list)


def search(
    source: Side,
    peer: Side,
    *,
    level: Level,
    progress: Callable[[str], None] = lambda _: None,
    fanout: int = FANOUT,
    row_threshold: int = ROW_THRESHOLD,
    chunk_rows: int = CHUNK_ROWS,
) -> Search:
    found = Search()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-peer") as pool:
        peer_bounds = pool.submit(peer.bounds)
        ours = source.bounds()
        theirs = peer_bounds.result()
        found.rows_source, found.rows_peer = ours.count, theirs.count  # until round 1 counts
        # The cheapest hash both sides compute (PostgreSQL's own when both are PostgreSQL).
        shared = [a for a in ours.algorithms if a in theirs.algorithms]
        algorithm: Algorithm = shared[0] if shared else "md5"
        found.algorithm = algorithm
        lows = [b.low for b in (ours, theirs) if b.low is not None]
        highs = [b.high for b in (ours, theirs) if b.high is not None]
        if not lows or not highs:
            return found
        low, high = min(lows), max(highs) + 1
        chunks = max(1, math.ceil(max(ours.count, theirs.count) / chunk_rows))
        width = math.ceil((high - low) / chunks)
        pending = [
            (RangeRequest(start, min(start + width, high), min(fanout, width)), chunk_rows)
            for start in range(low, high, width)
        ]
        to_fetch: list[tuple[SegmentChecksum, SegmentChecksum]] = []
        while pending:
            found.rounds += 1
            differing, counted = _round(source, peer, pending, level, algorithm, pool, chunk_rows)
            if found.rounds == 1:  # the first round covers every key of both sides
                found.rows_source, found.rows_peer = counted
            found.segments_checked += sum(request.segments for request, _ in pending)
            pending = []
            for mine, theirs_ in differing:
                rows = max(mine.count, theirs_.count)
                span = mine.high - mine.low
                if rows <= row_threshold or span <= 1:
                    to_fetch.append((mine, theirs_))
                else:
                    pending.append((RangeRequest(mine.low, mine.high, min(fanout, span)), rows))
            progress(
                f"round {found.rounds}: {len(differing)} range(s) differ, "
                f"{len(to_fetch)} to compare row by row"
            )
        for mine, theirs_ in to_fetch:
            peer_rows: Future[list[RowState]] | None = None
            if theirs_.count:
                peer_rows = pool.submit(peer.rows, mine.low, mine.high)
            source_rows = source.rows(mine.low, mine.high) if mine.count else []
            their_rows = peer_rows.result() if peer_rows is not None else []
            found.rows_fetched += len(source_rows) + len(their_rows)
            found.differences.extend(row_differences(source_rows, their_rows))
    return found


def _round(
    source: Side,
    peer: Side,
    pending: Sequence[tuple[RangeRequest, int]],
    level: Level,
    algorithm: Algorithm,
    pool: ThreadPoolExecutor,
    chunk_rows: int,
) -> tuple[list[tuple[SegmentChecksum, SegmentChecksum]], tuple[int, int]]:
    """Checksum every pending range on both sides: the segment pairs that differ, and the
    rows each side holds in the ranges."""
    groups = _groups(pending, chunk_rows)
    # All of the peer's calls are queued first, so they run while our database works.
    remote = [pool.submit(peer.checksums, group, level, algorithm) for group in groups]
    differing = []
    ours = theirs_rows = 0
    for group, answer in zip(groups, remote, strict=True):
        local = source.checksums(group, level, algorithm)
        for mine_list, theirs_list in zip(local, answer.result(), strict=True):
            for mine, theirs in zip(mine_list, theirs_list, strict=True):
                ours += mine.count
                theirs_rows += theirs.count
                if (mine.count, mine.keys, mine.rows) != (theirs.count, theirs.keys, theirs.rows):
                    differing.append((mine, theirs))
    return differing, (ours, theirs_rows)


def _groups(
    pending: Sequence[tuple[RangeRequest, int]], chunk_rows: int
) -> list[list[RangeRequest]]:
    """Ranges packed into calls of at most ``chunk_rows`` expected rows (at least one each)."""
    groups: list[list[RangeRequest]] = []
    current: list[RangeRequest] = []
    rows = 0
    for request, expected in pending:
        if current and rows + expected > chunk_rows:
            groups.append(current)
            current, rows = [], 0
        current.append(request)
        rows += expected
    if current:
        groups.append(current)
    return groups


def row_differences(
    source_rows: Sequence[RowState], peer_rows: Sequence[RowState]
) -> list[RowDifference]:
    """Keys whose live rows differ: absent on one side, another version, other values."""
    ours = {row.pk: row for row in source_rows if row.data is not None}
    theirs = {row.pk: row for row in peer_rows if row.data is not None}
    differences = []
    for pk in sorted(ours.keys() | theirs.keys(), key=_key_order):
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


def _key_order(pk: str) -> tuple[int, str]:
    return (int(pk), pk) if pk.lstrip("-").isdigit() else (0, pk)
