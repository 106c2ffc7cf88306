"""The signed HTTP client of a node's ``/internal/sync/`` endpoints, and its status read.

One ``requests.Session`` per process (connection reuse across calls). Retries, with
exponential backoff and jitter, on connection failures, read failures and 502/503/504. POSTs
are retried too, because every endpoint's work is idempotent: a batch the receiver already
applied comes back as a duplicate, and one it half-received was rolled back with its
transaction.

Every attempt is signed afresh for its method, path, sender and receiver, with a new nonce
(``strangler.sync.signing``): the receiver refuses a signature it has seen, so resending the
first attempt's would be refused as a replay whenever that attempt had reached it. That is why
the retries live here and not in urllib3, which resends the same headers. Errors are
``strangler.sync.errors``: ``ReceiverUnreachable`` when no answer came, ``CursorMismatch`` /
``SchemaDrift`` when the receiver said so, ``ReceiverError`` for any other refusal,
``MalformedStatus`` for a status document that is not one.

No Django here: the plans (from the CLI) and the proxy's write guard read a node's status
through ``SignedClient.status``; the relay's calls with bodies are ``transport``'s.
"""

from __future__ import annotations

import functools
import json
import random
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from strangler.sync.errors import (
    CursorMismatch,
    MalformedStatus,
    ReceiverError,
    ReceiverUnreachable,
    SchemaDrift,
)
from strangler.sync.position import Position
from strangler.sync.signing import sign_sync_call
from strangler.sync.status_document import SyncStatus

__all__ = [
    "BACKOFF_FACTOR_SECONDS",
    "BACKOFF_JITTER_SECONDS",
    "CONNECT_TIMEOUT_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "RETRIES",
    "SignedClient",
    "session_make",
]

# A little over 3 s, the first TCP SYN retransmission: a lost SYN is retried once by the
# kernel before we give up on the attempt (the value requests' docs suggest).
CONNECT_TIMEOUT_SECONDS = 3.05
# A full batch (BATCH_SIZE rows) took 0.1-0.25 s end to end here, and ~0.6 s when a failing
# row sends it down the row-by-row path (relay.py has the figures); 10 s is over 15x the worst
# of those for a receiver busy with its own traffic, and two tries fit the 30 s signature window.
READ_TIMEOUT_SECONDS = 10.0
# 3 retries after the first try: sleeps of ~0.5, 1, 2 s (plus up to 0.5 s jitter) ride out a
# receiver restart (gunicorn boots in ~1 s here) without holding a worker long.
RETRIES = 3
BACKOFF_FACTOR_SECONDS = 0.25
BACKOFF_JITTER_SECONDS = 0.5
_BACKOFF_MAX_SECONDS = 4.0
# A read timeout costs 10 s a try, so it is retried once only: a pass stays short enough for
# its time budget (relay.py); connection failures end quickly and get all the retries.
_READ_RETRIES = 1
_RETRY_STATUSES = frozenset({502, 503, 504})


def session_make() -> requests.Session:
    """A plain session: connection reuse; retries are ``SignedClient``'s, each re-signed."""
    return requests.Session()


def _backoff(retry: int) -> float:
    """Seconds before retry number ``retry`` (1, 2, ...): exponential, capped, with jitter."""
    delay = min(_BACKOFF_MAX_SECONDS, BACKOFF_FACTOR_SECONDS * 2.0**retry)
    return delay + random.uniform(0, BACKOFF_JITTER_SECONDS)  # noqa: S311 - not for secrets


@functools.cache
def _shared_session() -> requests.Session:
    return session_make()


class SignedClient:
    """Calls the node ``receiver`` as the node ``sender``; ``base_url`` is the receiver's URL.

    ``retries`` and ``timeout`` (connect, read) default to the relay's; a caller that must
    answer quickly (``strangler plan status``) asks once, with its own timeouts."""

    def __init__(
        self,
        *,
        base_url: str,
        secret: str,
        sender: str,
        receiver: str,
        session: requests.Session | None = None,
        retries: int = RETRIES,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self.receiver = receiver
        self._secret = secret
        self._session = session or _shared_session()
        self._retries = retries
        self._timeout = timeout

    def status(self) -> SyncStatus:
        """The receiver's sync status document (``GET /internal/sync/status``)."""
        answer = self._send("GET", "status", None)
        try:
            return SyncStatus.from_json(answer)
        except MalformedStatus as exc:
            url = f"{self.base_url}/internal/sync/status"
            raise MalformedStatus(f"GET {url}: {exc.message}") from None

    def _send(self, method: str, endpoint: str, body: bytes | None) -> Any:
        """The receiver's JSON answer (``None`` if it sent none) to a 200; an error otherwise."""
        url = f"{self.base_url}/internal/sync/{endpoint}"
        target = urlsplit(url)
        path = target.path + (f"?{target.query}" if target.query else "")
        retries = read_retries = 0
        while True:
            headers = sign_sync_call(
                secret=self._secret, method=method, path=path, body=body or b"",
                sender=self.sender, receiver=self.receiver, now=time.time(),
            )  # fmt: skip
            headers["Content-Type"] = "application/json"
            try:
                response = self._session.request(
                    method, url, data=body, headers=headers, timeout=self._timeout
                )
            except requests.RequestException as exc:
                retryable = isinstance(exc, requests.ConnectionError | requests.Timeout)
                is_read = isinstance(exc, requests.ReadTimeout)
                if (
                    not retryable
                    or retries >= self._retries
                    or (is_read and read_retries >= _READ_RETRIES)
                ):
                    raise ReceiverUnreachable(f"{method} {url}: {exc}") from exc
                retries, read_retries = retries + 1, read_retries + is_read
                time.sleep(_backoff(retries))
                continue
            if response.status_code in _RETRY_STATUSES and retries < self._retries:
                retries += 1
                time.sleep(_backoff(retries))
                continue
            break
        try:
            answer = response.json()
        except (ValueError, json.JSONDecodeError):
            answer = None
        if response.status_code == 200:
            return answer
        _raise_for(url, response.status_code, answer)


def _raise_for(url: str, status: int, answer: Any) -> Any:
    code = answer.get("code") if isinstance(answer, dict) else None
    message = answer.get("message") if isinstance(answer, dict) else None
    text = f"{url} answered {status}: {message or 'no JSON error body'}"
    if status == 409 and code == "cursor_mismatch":
        cursor = Position.from_json(answer.get("cursor") if isinstance(answer, dict) else None)
        if cursor is not None:
            raise CursorMismatch(text, cursor=cursor)
    if status == 409 and code == "schema_drift":
        raise SchemaDrift(str(message or text))
    raise ReceiverError(text, code=str(code or "http_error"), http_status=status)
