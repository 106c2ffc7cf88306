"""Finding the rows two sides disagree on: checksums over key ranges, bisected down to rows.

The whole key span is cut into chunks of about ``CHUNK_ROWS`` rows, each in ``FANOUT``
segments, by boundary keys read from the side holding more rows (``key_splits``: every
``CHUNK_ROWS / FANOUT``-th key, a chunk a call). Both sides checksum every segment at once
(the peer over HTTP in a worker thread while this node's database answers in the calling
thread), comparing keys in the order they share (``keys``). Segments whose row count and hash
sums agree are done; each other is cut again into ``FANOUT`` parts by the keys of the side
that holds more of its rows, until a segment holds at most ``ROW_THRESHOLD`` rows on either
side, whose rows are then fetched from both sides and compared value by value. With nothing
different this is one pass along the key index and one scan of each table; with a few rows
different, a few index range scans more per round (data-diff's method, by ranks of keys rather
than arithmetic on them, so UUID and text keys bisect as integers do).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from strangler.sync.checksums import Level, SegmentChecksum
from strangler.sync.key_splits import SplitRequest
from strangler.sync.keys import KeyOrder, shared_order
from strangler.sync.row_compare import RowDifference, row_differences
from strangler.sync.row_hash import Algorithm
from strangler.sync.row_states import RowState
from strangler.sync.sides import Side

__all__ = [
    "CHUNK_ROWS",
    "FANOUT",
    "ROW_THRESHOLD",
    "SEGMENTS_PER_CALL",
    "Search",
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
# Segments, or boundary keys, asked for in one call: the peer answers at most 4,096
# (``views_ops.MAX_SEGMENTS``).
SEGMENTS_PER_CALL = 2048

_T = TypeVar("_T")


@dataclass
class Search:
    """What a search looked at, for the report."""

    rows_source: int = 0
    rows_peer: int = 0
    algorithm: Algorithm = "md5"
    order: KeyOrder = "native"
    rounds: int = 0
    segments_checked: int = 0
    rows_fetched: int = 0
    differences: list[RowDifference] = field(default_factory=list)


@dataclass(frozen=True)
class _Range:
    """Boundaries of a range's segments, and the rows expected in it (to size the calls)."""

    boundaries: tuple[str | None, ...]
    rows: int


@dataclass(frozen=True)
class _Plan:
    """What both sides were asked to compare by."""

    level: Level
    algorithm: Algorithm
    order: KeyOrder
    fanout: int
    chunk_rows: int


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
    """The rows ``source`` and ``peer`` disagree on; ``UnsupportedKey`` when their keys are
    not comparable, any ``SyncError`` of the peer's calls."""
    found = Search()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-peer") as pool:
        peer_bounds = pool.submit(peer.bounds)
        ours = source.bounds()
        theirs = peer_bounds.result()
        found.rows_source, found.rows_peer = ours.count, theirs.count  # until round 1 counts
        # The cheapest hash both sides compute (PostgreSQL's own when both are PostgreSQL).
        shared = [a for a in ours.algorithms if a in theirs.algorithms]
        found.algorithm = shared[0] if shared else "md5"
        found.order = shared_order(ours.order, theirs.order)
        plan = _Plan(level, found.algorithm, found.order, fanout, chunk_rows)
        pending = _chunks(source if ours.count >= theirs.count else peer, plan)
        to_fetch: list[tuple[SegmentChecksum, SegmentChecksum]] = []
        while pending:
            found.rounds += 1
            differing, counted = _round(source, peer, pending, plan, pool)
            if found.rounds == 1:  # the first round covers every key of both sides
                found.rows_source, found.rows_peer = counted
            found.segments_checked += sum(len(r.boundaries) - 1 for r in pending)
            large: list[tuple[SegmentChecksum, SegmentChecksum]] = []
            for pair in differing:
                (large if max(p.count for p in pair) > row_threshold else to_fetch).append(pair)
            pending, whole = _cut(source, peer, large, plan, pool)
            to_fetch.extend(whole)
            progress(
                f"round {found.rounds}: {len(differing)} range(s) differ, "
                f"{len(to_fetch)} to compare row by row"
            )
        for mine, theirs_ in to_fetch:
            peer_rows: Future[list[RowState]] | None = None
            if theirs_.count:
                peer_rows = pool.submit(peer.rows, mine.low, mine.high, found.order)
            source_rows = source.rows(mine.low, mine.high, found.order) if mine.count else []
            their_rows = peer_rows.result() if peer_rows is not None else []
            found.rows_fetched += len(source_rows) + len(their_rows)
            found.differences.extend(row_differences(source_rows, their_rows))
    return found


def _chunks(side: Side, plan: _Plan) -> list[_Range]:
    """The first round's ranges: chunks of ``fanout`` segments of ``chunk_rows / fanout`` rows
    each, by ``side``'s keys, one chunk a call."""
    step = max(1, plan.chunk_rows // plan.fanout)
    ranges: list[_Range] = []
    start: str | None = None
    while True:
        request = SplitRequest(low=start, high=None, step=step, limit=plan.fanout)
        [keys] = side.splits([request], plan.order)
        last = len(keys) < plan.fanout
        boundaries = (start, *keys, *((None,) if last else ()))
        if len(boundaries) > 1:
            ranges.append(_Range(boundaries, step * (len(boundaries) - 1)))
        if last:
            return ranges
        start = keys[-1]


def _round(
    source: Side,
    peer: Side,
    pending: Sequence[_Range],
    plan: _Plan,
    pool: ThreadPoolExecutor,
) -> tuple[list[tuple[SegmentChecksum, SegmentChecksum]], tuple[int, int]]:
    """Checksum every pending range on both sides: the segment pairs that differ, and the
    rows each side holds in the ranges."""
    groups = [
        [r.boundaries for r in group]
        for group in _groups(pending, lambda r: (r.rows, len(r.boundaries) - 1), plan.chunk_rows)
    ]
    # All of the peer's calls are queued first, so they run while our database works.
    how = (plan.level, plan.algorithm, plan.order)
    remote = [pool.submit(peer.checksums, group, *how) for group in groups]
    differing = []
    ours = theirs_rows = 0
    for group, answer in zip(groups, remote, strict=True):
        local = source.checksums(group, *how)
        for mine_list, theirs_list in zip(local, answer.result(), strict=True):
            for mine, theirs in zip(mine_list, theirs_list, strict=True):
                ours += mine.count
                theirs_rows += theirs.count
                if (mine.count, mine.keys, mine.rows) != (theirs.count, theirs.keys, theirs.rows):
                    differing.append((mine, theirs))
    return differing, (ours, theirs_rows)


def _cut(
    source: Side,
    peer: Side,
    differing: Sequence[tuple[SegmentChecksum, SegmentChecksum]],
    plan: _Plan,
    pool: ThreadPoolExecutor,
) -> tuple[list[_Range], list[tuple[SegmentChecksum, SegmentChecksum]]]:
    """Each differing segment cut into ``fanout`` parts by the keys of the side that holds more
    of its rows; the ones that would not cut (rows gone meanwhile) go whole to row compare."""
    # Per side (ours: True), the requests with the segment each cuts, packed into calls.
    requests: dict[bool, list[tuple[SplitRequest, int]]] = {True: [], False: []}
    for index, (mine, theirs) in enumerate(differing):
        step = math.ceil(max(mine.count, theirs.count) / plan.fanout)
        request = SplitRequest(low=mine.low, high=mine.high, step=step, limit=plan.fanout)
        requests[mine.count >= theirs.count].append((request, index))
    calls = {
        here: _groups(items, lambda i: (i[0].step * plan.fanout, plan.fanout), plan.chunk_rows)
        for here, items in requests.items()
    }
    answers = [pool.submit(peer.splits, [r for r, _ in call], plan.order) for call in calls[False]]
    keys: dict[int, list[str]] = {}
    for call in calls[True]:
        answered = source.splits([r for r, _ in call], plan.order)
        for (_, index), found in zip(call, answered, strict=True):
            keys[index] = found
    for call, answer in zip(calls[False], answers, strict=True):
        for (_, index), found in zip(call, answer.result(), strict=True):
            keys[index] = found
    pending, whole = [], []
    for index, (mine, theirs) in enumerate(differing):
        if not keys[index]:
            whole.append((mine, theirs))
            continue
        rows = max(mine.count, theirs.count)
        pending.append(_Range((mine.low, *keys[index], mine.high), rows))
    return pending, whole


def _groups(
    items: Sequence[_T], size: Callable[[_T], tuple[int, int]], chunk_rows: int
) -> list[list[_T]]:
    """Items packed into calls of at most ``chunk_rows`` expected rows and
    ``SEGMENTS_PER_CALL`` segments (at least one item each); ``size`` gives both of an item."""
    groups: list[list[_T]] = []
    current: list[_T] = []
    rows = segments = 0
    for item in items:
        item_rows, item_segments = size(item)
        if current and (
            rows + item_rows > chunk_rows or segments + item_segments > SEGMENTS_PER_CALL
        ):
            groups.append(current)
            current, rows, segments = [], 0, 0
        current.append(item)
        rows += item_rows
        segments += item_segments
    if current:
        groups.append(current)
    return groups
