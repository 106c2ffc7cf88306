"""One poll, one read of each source: an HTTP session that answers a repeated ``GET`` of the
same URL from the first answer until :meth:`PollSession.new_poll`.

The overview reads the proxy's ``/metrics`` for the traffic table and again for the figures
of every plan; with ten plans that is eleven reads of the same document, each costing the
proxy a render of every series. Within one poll they are one read, and every part of the
overview is then judged on the same snapshot.

``keep`` holds some answers across polls: ``{"/metrics": 5.0}`` reads a URL ending in
``/metrics`` at most every 5 s however often the dashboard polls. The proxy renders
``/metrics`` on its event loop (3 MB with a thousand routes), so that read is what a poll
costs it; ``/routes`` stays fresh every poll, so a route change shows at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import requests

__all__ = ["PollSession"]


class PollSession(requests.Session):
    """A ``requests.Session`` whose successful ``GET`` answers are kept for one poll, or for
    ``keep[suffix]`` seconds for a URL ending in ``suffix``."""

    def __init__(self, keep: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self._keep = dict(keep or {})
        self._answers: dict[str, tuple[float, requests.Response]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _kept_for(self, url: str) -> float:
        path = url.split("?", 1)[0]
        return max((s for suffix, s in self._keep.items() if path.endswith(suffix)), default=0.0)

    def new_poll(self) -> None:
        """Forget the answers, but those still inside their ``keep`` time."""
        now = time.monotonic()
        with self._guard:
            self._answers = {
                url: (at, answer)
                for url, (at, answer) in self._answers.items()
                if now - at < self._kept_for(url)
            }

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if method != "GET" or not isinstance(url, str):
            return super().request(method, url, *args, **kwargs)
        with self._guard:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:  # a second reader of the same URL waits for the first answer
            kept = self._answers.get(url)
            if kept is not None:
                return kept[1]
            response = super().request(method, url, *args, **kwargs)
            if response.ok:
                response.content  # noqa: B018 (read the body now: it is read again)
                with self._guard:
                    self._answers[url] = (time.monotonic(), response)
            return response
