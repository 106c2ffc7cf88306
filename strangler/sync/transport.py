"""The relay's HTTP client for a receiver's ``/internal/sync/`` endpoints.

One ``requests.Session`` per process (connection reuse across batches) with urllib3 retries:
exponential backoff with jitter on connection failures, read failures and 502/503/504. POSTs
are retried too, because apply is idempotent: a batch the receiver already applied comes back
as a duplicate, and one it half-received was rolled back with its transaction.

Every call is signed like the identity endpoint (``strangler.identity``): a retry resends the
same signature, so a retry more than ``INTERNAL_AUTH_MAX_SKEW_SECONDS`` after the first try is
refused (401); the pass then ends and the next one signs afresh. The timeouts and retry counts
below keep the worst case of one call under that window. Errors are ``strangler.sync.errors``:
``ReceiverUnreachable`` when no answer came, ``CursorMismatch`` / ``SchemaDrift`` when the
receiver said so, ``ReceiverError`` for any other refusal.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from strangler.identity import (
    INTERNAL_AUTH_HEADER,
    INTERNAL_TIMESTAMP_HEADER,
    sign_internal_request,
)
from strangler.sync.errors import (
    BadRequest,
    CursorMismatch,
    ReceiverError,
    ReceiverUnreachable,
    SchemaDrift,
)
from strangler.sync.position import Position
from strangler.sync.wire import ApplyRequest, ApplyResult, apply_result_parse, dumps

__all__ = [
    "BACKOFF_FACTOR_SECONDS",
    "BACKOFF_JITTER_SECONDS",
    "CONNECT_TIMEOUT_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "RETRIES",
    "ReceiverClient",
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
# The worst case must fit the receiver's 30 s signature window, so a read timeout (10 s) is
# retried once only; connection failures end quickly and get all the retries.
_READ_RETRIES = 1
_RETRY_STATUSES = frozenset({502, 503, 504})


def session_make() -> requests.Session:
    """A session retrying connect, read and 502/503/504 failures, POST included."""
    retry = Retry(
        total=RETRIES,
        connect=RETRIES,
        read=_READ_RETRIES,
        status=RETRIES,
        other=0,
        allowed_methods=frozenset({"GET", "POST"}),
        status_forcelist=_RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR_SECONDS,
        backoff_jitter=BACKOFF_JITTER_SECONDS,
        backoff_max=4.0,
        raise_on_status=False,  # the last answer is read and mapped to an error below
        respect_retry_after_header=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@functools.cache
def _shared_session() -> requests.Session:
    return session_make()


class ReceiverClient:
    """Calls one receiver as ``source``; ``base_url`` is the peer's URL from the registration."""

    def __init__(
        self, *, base_url: str, secret: str, session: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._session = session or _shared_session()

    def cursor(self, *, source: str) -> Position:
        body = self._call("POST", "cursor", {"source": source})
        position = Position.from_json(body.get("cursor") if isinstance(body, dict) else None)
        if position is None:
            raise ReceiverError(
                f"{self.base_url} answered the cursor request without a cursor",
                code="bad_answer",
                http_status=200,
            )
        return position

    def apply(self, request: ApplyRequest) -> ApplyResult:
        body = self._call("POST", "apply", request.as_json())
        try:
            return apply_result_parse(body)
        except BadRequest as exc:
            raise ReceiverError(
                f"{self.base_url}: {exc.message}", code="bad_answer", http_status=200
            ) from None

    def switch(self, *, source: str, enabled: bool) -> None:
        """Tell the receiver that ``source``'s stream to it is now on or off."""
        self._call("POST", "switch", {"source": source, "enabled": enabled})

    def status(self) -> Any:
        return self._call("GET", "status", None)

    def _call(self, method: str, endpoint: str, payload: Any) -> Any:
        url = f"{self.base_url}/internal/sync/{endpoint}"
        body = b"" if payload is None else dumps(payload)
        timestamp = int(time.time())
        headers = {
            INTERNAL_TIMESTAMP_HEADER: str(timestamp),
            INTERNAL_AUTH_HEADER: sign_internal_request(
                body, secret=self._secret, timestamp=timestamp
            ),
            "Content-Type": "application/json",
        }
        try:
            response = self._session.request(
                method,
                url,
                data=body if payload is not None else None,
                headers=headers,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            )
        except requests.RequestException as exc:
            raise ReceiverUnreachable(f"{method} {url}: {exc}") from exc
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
