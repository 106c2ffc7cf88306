"""The signed client's status read against a scripted node on a real socket."""

from __future__ import annotations

import time

import pytest

from strangler.sync.errors import MalformedStatus, ReceiverError, ReceiverUnreachable
from strangler.sync.signed_client import RETRIES, SignedClient
from strangler.sync.signing import verify_sync_call
from tests.monolith.processes import free_port
from tests.strangler.sync.scripted_receiver import Script, receiver
from tests.strangler.sync.status_factories import stream_status, sync_status

# Imported for pytest to find it here: scripted_receiver says why it is not in conftest.
FIXTURES = (receiver,)

SECRET = "signed-client-test-secret"


def client_for(url: str, *, retries: int = RETRIES) -> SignedClient:
    return SignedClient(
        base_url=url, secret=SECRET, sender="catalog", receiver="monolith", retries=retries
    )


def test_the_status_is_a_signed_get_read_into_the_typed_document(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    document = sync_status(streams=[stream_status("catalog", backlog=4)])
    script.answers = [(200, document.to_json())]

    status = client_for(url).status()

    assert status == document
    method, path, headers, body = script.received[0]
    assert (method, path, body) == ("GET", "/internal/sync/status", b"")
    call = verify_sync_call(
        secret=SECRET, method=method, path=path, body=body, headers=headers,
        receiver="monolith", now=time.time(),
    )  # fmt: skip
    assert call.sender == "catalog"


def test_a_malformed_status_is_refused_naming_the_node_and_the_field(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(200, {**sync_status().to_json(), "streams": [{"peer": "catalog"}]})]

    with pytest.raises(MalformedStatus) as refused:
        client_for(url).status()

    assert refused.value.message == (
        f"GET {url}/internal/sync/status: malformed sync status: streams[0].state is missing"
    )


def test_a_status_answer_that_is_not_json_is_malformed(receiver: tuple[str, Script]) -> None:
    url, script = receiver
    script.answers = [(200, b"<html>a login page</html>")]

    with pytest.raises(MalformedStatus, match="the document must be an object"):
        client_for(url).status()


def test_a_client_without_retries_asks_once(receiver: tuple[str, Script]) -> None:
    url, script = receiver
    script.answers = [(503, {"code": "busy", "message": "try later"}), (200, {})]

    with pytest.raises(ReceiverError) as refused:
        client_for(url, retries=0).status()

    assert (refused.value.http_status, len(script.received)) == (503, 1)


def test_a_client_without_retries_gives_up_on_a_silent_node_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()

    with pytest.raises(ReceiverUnreachable, match="GET"):
        client_for(url, retries=0).status()

    # With retries the backoff alone sleeps over 3.5 s (0.5 + 1 + 2, plus jitter).
    assert time.monotonic() - started < 3.0
