"""The relay's HTTP client for a receiver's ``/internal/sync/`` endpoints.

``ReceiverClient`` is the ``SignedClient`` (``strangler.sync.signed_client``: the session, a
fresh signature per attempt, retries and error mapping) with the relay's calls: cursor, apply
and switch, their bodies written by ``wire.dumps`` (lossless times, base64 bytes).
"""

from __future__ import annotations

from typing import Any

from strangler.sync.errors import BadRequest, ReceiverError
from strangler.sync.position import Position
from strangler.sync.signed_client import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    SignedClient,
)
from strangler.sync.wire import ApplyRequest, ApplyResult, apply_result_parse, dumps

# The relay's timeouts, which its tasks' time limits are set against (``schedule``).
__all__ = ["CONNECT_TIMEOUT_SECONDS", "READ_TIMEOUT_SECONDS", "ReceiverClient"]


class ReceiverClient(SignedClient):
    """Calls the node ``receiver`` as the node ``sender``; ``base_url`` is the receiver's URL
    from the registration."""

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

    def _call(self, method: str, endpoint: str, payload: Any) -> Any:
        return self._send(method, endpoint, None if payload is None else dumps(payload))
