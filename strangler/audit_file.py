"""The file store's audit trail: who changed the route table or a hold, when, through what,
and the values before and after, in an append-only JSON-lines file beside the table.

The shared control store keeps its trail in a table of its own (``strangler_audit``); one
host's table file keeps it in ``<table>.audit.jsonl`` (beside the table's target, like its
holds file), written by the proxy's admin API, ``strangler routes set`` and plans. Each line
is one entry in :class:`~strangler.control.records.AuditRecord`'s shape plus ``prev``, the
SHA-256 of the line before it (:data:`GENESIS` for the first), and ``sha256``, its own
fields' (so the newest line, which no line follows yet, is checked too): a reader that
recomputes the chain finds a line edited, removed or inserted, the head of the trail cut
off, or a line cut short, and says at which line. The chain is a seal against mistakes and
careless edits, not a signature: whoever can write the file can recompute it. (Whole lines
cut from the end leave a shorter valid chain; it cannot tell those from a trail that was
never longer.)

Writers append with ``O_APPEND`` under an exclusive ``flock`` on the trail itself, so the
proxy's workers and the CLI never interleave, and each entry's id and ``prev`` follow the
line actually before it. This module imports nothing of the proxy: both it and the CLI use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strangler.control.records import AuditRecord

__all__ = [
    "GENESIS",
    "AuditTrail",
    "append",
    "audit_path",
    "read_trail",
]

GENESIS = "0" * 64
"""The ``prev`` of the first line: no line before it."""
# Enough of the file's end to hold its last line: an entry is a route's few fields.
_TAIL_BYTES = 64 * 1024
_FIELDS = ("id", "at", "actor", "via", "action", "subject", "before", "after")


def audit_path(table_path: Path) -> Path:
    """Beside the table (through a symlink: beside its target, as its holds file is)."""
    resolved = table_path.resolve()
    return resolved.with_name(resolved.name + ".audit.jsonl")


def _digest(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@contextlib.contextmanager
def _locked_for_append(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _last_line(path: Path) -> bytes | None:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return None
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read()
        if len(tail) == size or b"\n" in tail.rstrip(b"\n"):
            return tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        handle.seek(0)  # a last line longer than the tail: read it all
        return handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]


def append(
    table_path: Path,
    *,
    actor: str,
    via: str,
    action: str,
    subject: str,
    before: object,
    after: object,
) -> AuditRecord:
    """Append one entry to ``table_path``'s trail, chained to the line before it.

    Blocking (lock, fsync): the proxy runs it in a thread. ``OSError`` when the trail cannot
    be written."""
    path = audit_path(table_path)
    with _locked_for_append(path) as fd:
        last = _last_line(path)
        previous_id = 0
        if last:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                previous_id = int(json.loads(last)["id"])
        record = AuditRecord(
            id=previous_id + 1,
            at=time.time(),
            actor=actor,
            via=via,
            action=action,
            subject=subject,
            before=before,
            after=after,
        )
        entry = {**record.as_json(), "prev": _digest(last) if last else GENESIS}
        entry = json.loads(_canonical(entry))  # what a reader parses, values as written
        line = _canonical({**entry, "sha256": _own_digest(entry)})
        # A line cut short by a crash stays broken (the reader names it); the next starts anew.
        lead = b"\n" if last is not None and not _ends_with_newline(path) else b""
        os.write(fd, lead + line.encode("utf-8") + b"\n")
        os.fsync(fd)
    return record


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)


def _own_digest(entry: dict[str, Any]) -> str:
    fields = {key: value for key, value in entry.items() if key != "sha256"}
    return hashlib.sha256(_canonical(fields).encode("utf-8")).hexdigest()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


@dataclass(frozen=True)
class AuditTrail:
    """A trail as read: its newest entries, and what is wrong with it (``None``: intact)."""

    path: Path
    entries: list[AuditRecord]
    problem: str | None
    total: int

    def as_json(self) -> dict[str, Any]:
        return {
            "store": str(self.path),
            "entries": [entry.as_json() for entry in self.entries],
            "problem": self.problem,
            "total": self.total,
        }


def read_trail(table_path: Path, *, limit: int = 100) -> AuditTrail:
    """The trail's newest ``limit`` entries, oldest first, with the whole chain checked.

    A missing trail is an empty one (no change made yet). ``OSError``: it cannot be read."""
    path = audit_path(table_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return AuditTrail(path, [], None, 0)
    entries: list[AuditRecord] = []
    problem: str | None = None
    expected_prev = GENESIS
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        problem = f"line {len(lines)} is cut short (no end of line): the trail was truncated"
    for number, raw in enumerate(lines, start=1):
        entry = _parse(raw)
        if entry is None:
            problem = problem or f"line {number} is not an audit entry: the trail was edited"
            expected_prev = _digest(raw)
            continue
        record, prev, intact = entry
        if not intact and problem is None:
            problem = (
                f"line {number} (entry #{record.id}) does not match its own hash: it was edited"
            )
        if prev != expected_prev and problem is None:
            what = "the trail's head was cut off" if number == 1 else "a line before it was "
            if number > 1:
                what += "edited, removed or inserted"
            problem = (
                f"line {number} (entry #{record.id}) does not follow the line before it "
                f"(hash chain broken): {what}"
            )
        entries.append(record)
        expected_prev = _digest(raw)
    total = len(entries)
    return AuditTrail(path, entries[-limit:] if limit > 0 else [], problem, total)


def _parse(raw: bytes) -> tuple[AuditRecord, str, bool] | None:
    """The entry, its ``prev``, and whether its own hash matches its fields."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or not set(_FIELDS) <= set(data):
            return None
        record = AuditRecord(
            id=int(data["id"]),
            at=float(data["at"]),
            actor=str(data["actor"]),
            via=str(data["via"]),
            action=str(data["action"]),
            subject=str(data["subject"]),
            before=data["before"],
            after=data["after"],
        )
        return record, str(data.get("prev", "")), data.get("sha256") == _own_digest(data)
    except (ValueError, TypeError):
        return None
