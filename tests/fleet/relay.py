"""A TCP relay from one host's store gateway to the real PostgreSQL on 127.0.0.1.

PostgreSQL here listens on the loopback only and is not reconfigured; a host in a namespace
reaches it through the relay listening on the root side of the host's store link
(``tests.fleet.netns``). One relay a host, so each host can be cut off on its own:

- a partition (:meth:`Network.partition`, the link down) drops packets silently;
- :meth:`StoreRelay.refuse` is the other failure, the store going away loudly (a restart, a
  failover): every connection of the host is reset and new ones are refused (the listening
  socket is closed, so the kernel answers a SYN with RST); :meth:`StoreRelay.accept` listens
  again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field

__all__ = ["StoreRelay"]

# Copy buffer: PostgreSQL's own socket buffers are 8 KiB messages; 64 KiB moves any of ours.
_CHUNK_BYTES = 64 * 1024


@dataclass(eq=False)
class _Pair:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def reset(self) -> None:
        """Abort both ends: RST to the client (SO_LINGER 0), not an orderly FIN."""
        sock = self.client.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.client.transport.abort()
        self.server.transport.abort()


class StoreRelay:
    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.listen = listen
        self.target = target
        self.accepted = 0
        """Connections accepted since the relay started (every reconnect counts)."""
        self._server: asyncio.Server | None = None
        self._pairs: set[_Pair] = set()

    @property
    def open_connections(self) -> int:
        return len(self._pairs)

    async def accept(self) -> None:
        """Listen (again)."""
        if self._server is None:
            host, port = self.listen
            self._server = await asyncio.start_server(
                self._connected, host, port, reuse_address=True
            )

    async def refuse(self) -> None:
        """Reset every connection and refuse new ones until :meth:`accept`."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for pair in list(self._pairs):
            pair.reset()
        self._pairs.clear()

    async def close(self) -> None:
        await self.refuse()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = _Pair(writer, upstream_writer)
        self._pairs.add(pair)
        pair.tasks = [
            asyncio.ensure_future(self._pump(reader, upstream_writer)),
            asyncio.ensure_future(self._pump(upstream_reader, writer)),
        ]
        try:
            await asyncio.wait(pair.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pair.tasks:
                task.cancel()
            self._pairs.discard(pair)
            for end in (writer, upstream_writer):
                end.close()  # an orderly FIN: one side ended, the other is told so

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(_CHUNK_BYTES):
                writer.write(chunk)
                await writer.drain()
