"""Writing capture records (``strangler.compare.captures``): sampled, redacted, bounded,
rotated. Pure Python, no aiohttp: the proxy decides with ``sampled(route)`` before it keeps
a body, then hands the request to ``write``.

Several proxy worker processes append to one file. Each record is one ``write`` to a file
opened for appending, under an exclusive ``flock`` on ``<file>.lock``, so lines never
interleave; the writer that finds the file full renames it (``capture.jsonl`` becomes
``capture.jsonl.1``, ``.1`` becomes ``.2``, ..., the oldest past ``backups`` is dropped)
while it holds the lock, and every writer reopens the file when its inode changed.

What is redacted before a record reaches the disk: the value of every header, query
parameter, JSON member and form field with a credential name (cookies, authorization,
tokens, sessions, CSRF, passwords, ``X-Strangler-*``; see ``strangler.compare.redact``),
those named in ``CaptureSettings.redact_names``, user-info in the target, and credentials
written inline in other text bodies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from strangler.compare.captures import CaptureRecord, record_line
from strangler.compare.errors import CompareError
from strangler.compare.model import HttpRequest
from strangler.compare.redact import redact_body, redact_headers, redact_target

__all__ = ["CaptureSettings", "CaptureSettingsInvalid", "CaptureWriteFailed", "CaptureWriter"]

# Headers kept per record, in bytes of names and values: browsers send 1-3 KB; the rest of
# an abnormally large set is dropped rather than growing one line without bound.
MAX_HEADER_BYTES = 32 * 1024


class CaptureSettingsInvalid(CompareError, ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"capture.{field}: {message}")


class CaptureWriteFailed(CompareError):
    """The capture file could not be written; the caller counts it and goes on."""


@dataclass(frozen=True, slots=True)
class CaptureSettings:
    path: Path
    # Share of each route's requests recorded, 0 to 1: 1 % of a route at 100 req/s is
    # ~86,000 records a day, ample for a replay, ~1 KB each before rotation.
    share: float = 0.01
    route_shares: Mapping[str, float] = field(default_factory=dict)
    # More header, query and body field names (any case) whose values never reach a file.
    redact_names: frozenset[str] = frozenset()
    # Request bodies beyond this are cut (and marked, so a replay skips them): API writes
    # here are under 1 KB; uploads are not what a replay compares.
    max_body_bytes: int = 16 * 1024
    # A file is rotated before it passes this size; ``backups`` rotated files are kept.
    max_file_bytes: int = 64 * 1024 * 1024
    backups: int = 5

    def __post_init__(self) -> None:
        for name, share in [("share", self.share)] + [
            (f"route_shares.{route}", value) for route, value in self.route_shares.items()
        ]:
            if not 0.0 <= share <= 1.0:
                raise CaptureSettingsInvalid(name, f"must be between 0 and 1, got {share}")
        if self.max_body_bytes < 0:
            raise CaptureSettingsInvalid("max_body_bytes", "must be 0 or more")
        if self.max_file_bytes < 1024:
            raise CaptureSettingsInvalid("max_file_bytes", "must be at least 1024 bytes")
        if self.backups < 0:
            raise CaptureSettingsInvalid("backups", "must be 0 or more")


def _cut(body: bytes, limit: int) -> bytes:
    """At most ``limit`` bytes, never splitting a UTF-8 character of a text body."""
    cut = body[:limit]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return cut
    return cut.decode("utf-8", errors="ignore").encode("utf-8")


class CaptureWriter:
    """Thread-safe; one per process. ``close`` releases the file."""

    def __init__(
        self,
        settings: CaptureSettings,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._names = frozenset(n.lower() for n in settings.redact_names)
        self._rng = rng or random.Random()  # noqa: S311 - sampling, not a secret
        self._clock = clock
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self.written = 0

    def sampled(self, route: str) -> bool:
        share = self.settings.route_shares.get(route, self.settings.share)
        return share > 0 and (share >= 1 or self._rng.random() < share)

    def record(self, route: str, request: HttpRequest) -> CaptureRecord:
        """The record as it would be written: redacted and bounded."""
        headers = []
        size = 0
        for name, value in redact_headers(request.headers, names=self._names):
            size += len(name) + len(value)
            if size > MAX_HEADER_BYTES:
                break
            headers.append((name, value))
        body = request.body
        if body:
            body = redact_body(body, request.header("content-type"), names=self._names)
        limit = self.settings.max_body_bytes
        return CaptureRecord(
            method=request.method.upper(),
            target=redact_target(request.target, names=self._names),
            headers=tuple(headers),
            body=_cut(body, limit),
            route=route,
            at=self._clock(),
            body_truncated=len(body) > limit,
        )

    def write(self, route: str, request: HttpRequest) -> None:
        """Append one record (sampling is the caller's, through ``sampled``)."""
        line = record_line(self.record(route, request)).encode("utf-8")
        with self._lock:
            try:
                self._append(line)
            except OSError as exc:
                self._close_file()
                raise CaptureWriteFailed(
                    f"cannot write the capture file {self.settings.path}: {exc}"
                ) from exc
        self.written += 1

    def _append(self, line: bytes) -> None:
        path = self.settings.path
        if self._lock_fd is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            fd = self._current()
            size = os.fstat(fd).st_size
            if size and size + len(line) > self.settings.max_file_bytes:
                self._rotate()
                fd = self._current()
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _current(self) -> int:
        """The open file, reopened when another process rotated it away."""
        path = self.settings.path
        if self._fd is not None:
            try:
                same = os.stat(path).st_ino == os.fstat(self._fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return self._fd
            os.close(self._fd)
        # Records can hold request details: readable by the owner only.
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def _rotate(self) -> None:
        path = self.settings.path
        backups = self.settings.backups
        if backups == 0:
            path.unlink(missing_ok=True)
            return
        for index in range(backups - 1, 0, -1):
            older = Path(f"{path}.{index}")
            if older.exists():
                older.replace(f"{path}.{index + 1}")
        path.replace(f"{path}.1")

    def _close_file(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = self._lock_fd = None

    def close(self) -> None:
        with self._lock:
            self._close_file()
