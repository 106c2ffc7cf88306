"""Recording a sampled share of each route's requests to a JSONL file, for offline replay
(``strangler compare --requests FILE``).

The request path only decides (``wants``: a dict lookup and one random draw) and queues
(``submit``); one background thread per process redacts and writes through
``strangler.compare.capture_writer.CaptureWriter``, so no file I/O runs on the event loop.
A full queue drops the record and counts it; a failed write is counted and logged, never
raised into a request. The settings follow the route table: ``follow`` rebuilds them each
time the table store installs a new table.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from strangler.compare.capture_writer import (
    CaptureSettings,
    CaptureSettingsInvalid,
    CaptureWriteFailed,
    CaptureWriter,
)
from strangler.compare.model import HttpRequest, headers_of
from strangler.proxy.config import TableConfig
from strangler.proxy.headers import decoded
from strangler.proxy.metrics import CAPTURE_RECORDS

if TYPE_CHECKING:
    from strangler.proxy.table_store import TableStore

__all__ = ["CAPTURE_QUEUE_SIZE", "RequestCapture", "capture_settings"]

logger = logging.getLogger(__name__)

# Records waiting for the writer thread. A write is ~20 us (redaction, one locked append),
# so 1,000 records absorb a burst of several thousand sampled req/s for a disk that stalls
# briefly, at ~1-20 KB each; a longer stall drops records rather than memory or latency.
CAPTURE_QUEUE_SIZE = 1000
# A failing disk fails every write: one log line per this many seconds says so.
FAILURE_LOG_SECONDS = 60.0
# Shutdown waits this long for the thread to write what is queued.
CLOSE_SECONDS = 10.0

RawHeaders = Sequence[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class _Pending:
    writer: CaptureWriter
    route: str
    method: str
    target: str
    headers: RawHeaders
    body: bytes


_STOP = object()


def capture_settings(config: TableConfig, var_dir: Path) -> CaptureSettings | None:
    """The writer's settings for this table; ``None`` when the table records nothing."""
    capture = config.capture
    if capture is None:
        return None
    return CaptureSettings(
        path=var_dir / capture.path,
        share=capture.sample_rate,
        route_shares={
            route.name: route.capture.sample_rate
            for route in config.routes
            if route.capture is not None
        },
        redact_names=frozenset(capture.redact),
        max_body_bytes=capture.max_body_bytes,
        max_file_bytes=capture.max_file_bytes,
        backups=capture.backups,
    )


class RequestCapture:
    """One per proxy process. ``enabled`` is the request path's one check when it is off."""

    def __init__(self, var_dir: Path, *, queue_size: int = CAPTURE_QUEUE_SIZE) -> None:
        self.var_dir = var_dir
        self.enabled = False
        self._writer: CaptureWriter | None = None
        self._config: TableConfig | None = None
        self._queue: queue.Queue[_Pending | object] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._last_failure_log = float("-inf")

    def configure(self, config: TableConfig) -> None:
        """Follow a (new) table: rebuild the writer only when its settings changed."""
        if config is self._config:
            return
        self._config = config
        try:
            settings = capture_settings(config, self.var_dir)
        except CaptureSettingsInvalid as exc:
            logger.error("capture off: the table's capture section is unusable: %s", exc)
            settings = None
        current = self._writer.settings if self._writer is not None else None
        if settings == current:
            return
        # The thread closes the old writer after its queued records (see _run).
        self._writer = CaptureWriter(settings) if settings is not None else None
        self.enabled = settings is not None
        if settings is not None:
            logger.info("capturing requests to %s (share %g)", settings.path, settings.share)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="proxy-capture", daemon=True)
                self._thread.start()
        elif current is not None:
            logger.info("request capture off")

    async def follow(self, store: TableStore) -> None:
        """Reconfigure at every table the store installs (file edit, admin API)."""
        while True:
            await store.changed()
            self.configure(store.current.config)

    def wants(self, route: str) -> bool:
        """Whether to record this request of ``route``: the sampling draw, no I/O."""
        writer = self._writer
        return writer is not None and writer.sampled(route)

    def submit(
        self, route: str, method: str, target: str, headers: RawHeaders, body: bytes
    ) -> None:
        """Queue the request for the writer thread; a full queue drops it (counted)."""
        writer = self._writer
        if writer is None:
            return
        limit = writer.settings.max_body_bytes
        # One byte past the limit is enough for the writer to mark the body truncated.
        pending = _Pending(writer, route, method, target, headers, body[: limit + 1])
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            CAPTURE_RECORDS.labels(route, "dropped").inc()

    def record(
        self,
        route: str,
        method: str,
        target: str,
        headers: RawHeaders,
        body: bytes | AsyncIterable[bytes] | None,
    ) -> bytes | AsyncIterable[bytes] | None:
        """Capture a request; returns the body to forward, unchanged. A whole body is
        submitted at once; a streamed one is copied (up to the limit) as it passes and
        submitted when it has been read to its end."""
        if body is None or isinstance(body, bytes):
            self.submit(route, method, target, headers, body or b"")
            return body
        return self._copying(body, route, method, target, headers)

    async def _copying(
        self,
        body: AsyncIterable[bytes],
        route: str,
        method: str,
        target: str,
        headers: RawHeaders,
    ) -> AsyncIterator[bytes]:
        writer = self._writer
        keep = (writer.settings.max_body_bytes if writer is not None else 0) + 1
        kept = bytearray()
        async for chunk in body:
            if len(kept) < keep:
                kept += chunk[: keep - len(kept)]
            yield chunk
        # Only a body read to its end is a request a replay can send.
        self.submit(route, method, target, headers, bytes(kept))

    def _run(self) -> None:
        last: CaptureWriter | None = None
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            assert isinstance(item, _Pending)
            if last is not item.writer:
                if last is not None:
                    last.close()
                last = item.writer
            self._write(item)
        if last is not None:
            last.close()

    def _write(self, item: _Pending) -> None:
        request = HttpRequest(
            item.method,
            item.target,
            headers_of(decoded(item.headers).items()),
            item.body,
        )
        try:
            item.writer.write(item.route, request)
        except CaptureWriteFailed as exc:
            CAPTURE_RECORDS.labels(item.route, "failed").inc()
            now = time.monotonic()
            if now - self._last_failure_log >= FAILURE_LOG_SECONDS:
                self._last_failure_log = now
                logger.error("request capture failing (logged once a minute): %s", exc)
        else:
            CAPTURE_RECORDS.labels(item.route, "written").inc()

    def close(self) -> None:
        """Write what is queued and stop the thread (blocking: call it off the loop)."""
        self.enabled = False
        self._writer = None
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=CLOSE_SECONDS)
        except queue.Full:
            logger.error("request capture: the writer is stuck; queued records are lost")
            return
        thread.join(CLOSE_SECONDS)
