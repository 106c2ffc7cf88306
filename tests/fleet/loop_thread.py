"""An event loop on a thread of its own, for the servers of the root namespace (the store
relays, the upstreams): they keep answering while a test blocks (a ``subprocess.run`` of the
CLI, a ``time.sleep``-free wait on a condition) or runs its own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")

# Starting or stopping a local server takes milliseconds; ten seconds means a hung loop.
CALL_TIMEOUT_SECONDS = 10.0


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        """Run ``coroutine`` on the thread's loop; its result (or its exception)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CALL_TIMEOUT_SECONDS)
        self.loop.close()
