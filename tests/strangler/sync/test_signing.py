"""The sync call's signature: what it covers, and the stable code of each refusal."""

from __future__ import annotations

from typing import Any

import pytest

from strangler.sync.errors import Unauthenticated
from strangler.sync.signing import sign_sync_call, verify_sync_call

SECRET = "signing-test-secret"
NOW = 1_700_000_000.0
CALL: dict[str, Any] = {"method": "POST", "path": "/internal/sync/apply", "body": b"{}"}


def signed(**changes: Any) -> dict[str, str]:
    call = {**CALL, "sender": "monolith", "receiver": "catalog", **changes}
    return sign_sync_call(secret=SECRET, now=NOW, **call)


def verify(headers: dict[str, str], **changes: Any) -> Any:
    call = {**CALL, "receiver": "catalog", "now": NOW, **changes}
    return verify_sync_call(secret=SECRET, headers=headers, **call)


def code_of(headers: dict[str, str], **changes: Any) -> str:
    with pytest.raises(Unauthenticated) as refused:
        verify(headers, **changes)
    return refused.value.code


def test_a_call_verifies_as_signed_and_names_its_sender() -> None:
    assert verify(signed()).sender == "monolith"


def test_two_signatures_of_the_same_call_differ_by_their_nonce() -> None:
    assert signed()["X-Strangler-Sync-Signature"] != signed()["X-Strangler-Sync-Signature"]


@pytest.mark.parametrize(
    "changes",
    [{"method": "GET"}, {"path": "/internal/sync/rows/apply"},
     {"path": "/internal/sync/apply?x=1"}, {"body": b"{ }"}],
    ids=["method", "path", "query", "body"],
)  # fmt: skip
def test_the_signature_covers_the_call(changes: dict[str, Any]) -> None:
    assert code_of(signed(), **changes) == "bad_signature"


@pytest.mark.parametrize("header", ["X-Strangler-Sync-From", "X-Strangler-Sync-Nonce"])
def test_the_signature_covers_the_sender_and_the_nonce(header: str) -> None:
    headers = signed()
    headers[header] = "catalog" if header.endswith("From") else "0" * 32

    assert code_of(headers) == "bad_signature"


def test_a_call_for_another_node_is_refused_by_name() -> None:
    assert code_of(signed(receiver="monolith")) == "wrong_receiver"


def test_a_timestamp_outside_the_window_is_stale() -> None:
    assert code_of(signed(), now=NOW + 31) == "stale_timestamp"
    assert verify(signed(), now=NOW + 30).sender == "monolith"


def test_another_secret_is_a_bad_signature() -> None:
    with pytest.raises(Unauthenticated) as refused:
        verify_sync_call(secret="other", headers=signed(), receiver="catalog", now=NOW, **CALL)

    assert refused.value.code == "bad_signature"


def test_missing_headers_are_unauthenticated_naming_them() -> None:
    headers = signed()
    del headers["X-Strangler-Sync-Nonce"]

    with pytest.raises(Unauthenticated, match="X-Strangler-Sync-Nonce") as refused:
        verify(headers)

    assert refused.value.code == "unauthenticated"
