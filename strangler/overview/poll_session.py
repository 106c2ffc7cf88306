"""One poll, one read of each source: an HTTP session that answers a repeated ``GET`` of the
same URL from the first answer until :meth:`PollSession.new_poll`.

The overview reads the proxy's ``/metrics`` for the traffic table and again for the figures
of every plan; with ten plans that is eleven reads of the same document, each costing the
proxy a render of every series. Within one poll they are one read, and every part of the
overview is then judged on the same snapshot.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

__all__ = ["PollSession"]


class PollSession(requests.Session):
    """A ``requests.Session`` whose successful ``GET`` answers are kept for one poll."""

    def __init__(self) -> None:
        super().__init__()
        self._answers: dict[str, requests.Response] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def new_poll(self) -> None:
        """Forget the answers: the next ``GET`` of each URL reads it again."""
        with self._guard:
            self._answers.clear()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if method != "GET" or not isinstance(url, str):
            return super().request(method, url, *args, **kwargs)
        with self._guard:
            lock = self._locks.setdefault(url, threading.Lock())
        with lock:  # a second reader of the same URL waits for the first answer
            kept = self._answers.get(url)
            if kept is not None:
                return kept
            response = super().request(method, url, *args, **kwargs)
            if response.ok:
                response.content  # noqa: B018 (read the body now: it is read again)
                with self._guard:
                    self._answers[url] = response
            return response
