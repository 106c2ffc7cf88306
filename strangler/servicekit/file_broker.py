"""The embedded Celery broker: kombu's file-system transport, with every file written whole.

kombu's own transport creates a message file and then writes into it, and rewrites an
exchange's binding table in place. A reader that lists the spool between the two steps
reads an empty or half-written file, and ``json.loads`` fails inside the worker's consumer:
Celery calls that an unrecoverable error and the worker exits (seen in the stack within
minutes of start, ``JSONDecodeError('Expecting value: line 1 column 1 (char 0)')``).

Here a file only ever appears under its final name complete: it is written beside the spool
under a name no reader looks at, then renamed into place (``rename`` is atomic on POSIX
within one file system). A consumer claims a message by renaming it into its own claim
folder, so of two consumers exactly one gets it, where kombu's ``shutil.move`` into the
system temporary directory copies across file systems. A file that still cannot be decoded
(a spool left by an older version, a disk that filled up) is moved aside to ``rejected/``
and logged; it never stops the worker, because a message here is only a nudge (the sync's
durable state is its changelog, docs/sync.md).

Selected by ``broker_transport`` (``strangler.servicekit.celery_config``); the URL stays
``filesystem://`` and the transport options are kombu's.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps, loads

__all__ = ["TRANSPORT_PATH", "Channel", "Transport"]

TRANSPORT_PATH = "strangler.servicekit.file_broker:Transport"

logger = logging.getLogger(__name__)

# A reader only handles names ``<stamp>_<uuid>.<queue>.msg``; a name that starts with a dot
# has nothing before its first dot, so kombu's filters (``_get``, ``_size``, ``_purge``) never
# match it while it is being written.
_PARTIAL_PREFIX = ".partial-"
_REJECTED = "rejected"
_CLAIMED = "claimed"
# Milliseconds of the monotonic clock: 15 digits last 31,000 years of uptime.
_STAMP_DIGITS = 15


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a part of it."""
    partial = path.with_name(f"{_PARTIAL_PREFIX}{uuid.uuid4().hex}")
    try:
        with partial.open("wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Serialise read-modify-write of one exchange table across processes."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class Channel(filesystem.Channel):
    """kombu's file-system channel whose files appear under their names only when whole."""

    # kombu's own signature, which kombu-stubs marks incompatible with the base class too.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        # Readers take names in sorted order: the stamp is zero-padded so that the order of
        # names is the order of stamps (unpadded, 999_... sorted after 1000_...).
        name = f"{round(monotonic() * 1000):0{_STAMP_DIGITS}d}_{uuid.uuid4()}.{queue}.msg"
        path = Path(self.data_folder_out) / name
        try:
            _write_whole(path, dumps(payload).encode())
        except OSError as exc:
            raise ChannelError(f"Cannot add file {str(path)!r} to directory") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        wanted = f"{queue}.msg"
        folder = Path(self.data_folder_in)
        claimed = folder.parent / _CLAIMED
        claimed.mkdir(exist_ok=True)
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            mine = claimed / f"{os.getpid()}-{name}"
            try:
                os.rename(folder / name, mine)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            try:
                payload = loads(mine.read_bytes())
            except (OSError, ValueError) as exc:
                self._reject(mine, exc)
                continue
            if self.store_processed:
                os.replace(mine, Path(self.processed_folder) / name)
            else:
                mine.unlink()
            return payload
        raise Empty()

    def _reject(self, path: Path, exc: Exception) -> None:
        rejected = path.parent.parent / _REJECTED
        rejected.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):
            os.replace(path, rejected / path.name)
        logger.warning(
            "embedded broker: message file %s could not be read (%s); moved to %s, "
            "the worker goes on",
            path.name,
            exc,
            rejected,
        )

    def _table_file(self, exchange: str) -> Path:
        # kombu's check that the exchange's name makes a file inside the control folder
        # (not in kombu-stubs).
        file: Path = self._exchange_file(exchange)  # type: ignore[attr-defined]
        return file

    def get_table(self, exchange: str) -> list[Any]:
        file = self._table_file(exchange)
        try:
            table = loads(file.read_bytes())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ChannelError(f"Cannot read {file}") from exc
        return [filesystem.exchange_queue_t(*entry) for entry in table]

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._edit_table(exchange, lambda table: table if entry in table else [entry, *table])

    def _delete(
        self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any
    ) -> None:
        # The virtual channel's own bookkeeping, without kombu's in-place rewrite of the file.
        super(filesystem.Channel, self)._delete(
            queue, exchange, routing_key, pattern, *args, **kwargs
        )
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._edit_table(exchange, lambda table: [e for e in table if e != entry])

    def _edit_table(self, exchange: str, change: Any) -> None:
        file = self._table_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        try:
            with _exclusive(file.with_suffix(".lock")):
                table = self.get_table(exchange)
                changed = change(table)
                if changed != table or not file.exists():
                    _write_whole(file, dumps([list(e) for e in changed]).encode())
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    # The file-system state is per process; a class of its own keeps it apart from kombu's.
    global_state = virtual.BrokerState()
