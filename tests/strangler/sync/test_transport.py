"""The relay's client against a scripted HTTP server on a real socket."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from strangler.sync.errors import CursorMismatch, ReceiverError, ReceiverUnreachable
from strangler.sync.models import Stream
from strangler.sync.position import Position
from strangler.sync.relay import relay_stream
from strangler.sync.signing import SIGNATURE_HEADER, verify_sync_call
from strangler.sync.transport import ReceiverClient
from tests.monolith.processes import free_port
from tests.strangler.sync.scripted_receiver import Script, receiver
from tests.sync_project.widgets.models import Widget

SECRET = "transport-test-secret"


def client_for(url: str) -> ReceiverClient:
    return ReceiverClient(base_url=url, secret=SECRET, sender="alpha", receiver="beta")


# Imported for pytest to find it here: scripted_receiver says why it is not in conftest.
FIXTURES = (receiver,)


def test_calls_are_signed_for_their_method_path_nodes_and_body(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(200, {"cursor": [3, 4]})]

    cursor = client_for(url).cursor(source="alpha")

    method, path, headers, body = script.received[0]
    assert (cursor, path) == (Position(3, 4), "/internal/sync/cursor")
    call = verify_sync_call(
        secret=SECRET, method=method, path=path, body=body, headers=headers, receiver="beta",
        now=time.time(),
    )  # fmt: skip
    assert call.sender == "alpha"
    assert json.loads(body) == {"source": "alpha"}


def test_a_post_answered_503_is_retried_until_it_goes_through(receiver: tuple[str, Script]) -> None:
    url, script = receiver
    script.answers = [(503, {}), (503, {}), (200, {"cursor": [0, 1]})]

    cursor = client_for(url).cursor(source="alpha")

    assert cursor == Position(0, 1)
    assert [r[0] for r in script.received] == ["POST", "POST", "POST"]
    # Each try is signed afresh: the receiver refuses a signature it has already seen.
    assert len({r[2][SIGNATURE_HEADER] for r in script.received}) == 3


def test_a_cursor_mismatch_answer_carries_the_receivers_cursor(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(409, {"code": "cursor_mismatch", "message": "m", "cursor": [7, 8]})]

    with pytest.raises(CursorMismatch) as raised:
        client_for(url).cursor(source="alpha")

    assert raised.value.cursor == Position(7, 8)


def test_an_answer_without_json_is_a_receiver_error_with_its_status(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(500, b"<html>oops</html>")]

    with pytest.raises(ReceiverError) as raised:
        client_for(url).cursor(source="alpha")

    assert (raised.value.http_status, raised.value.code) == (500, "http_error")


def test_nobody_listening_is_receiver_unreachable_after_the_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ReceiverUnreachable, match="cursor"):
        client_for(url).cursor(source="alpha")


@pytest.mark.django_db(transaction=True)
def test_a_receiver_refusing_our_columns_pauses_the_stream(receiver: tuple[str, Script]) -> None:
    url, script = receiver
    drift = {"code": "schema_drift", "message": "widgets_widget: column(s) price unknown"}
    script.answers = [(200, {"cursor": [0, 0]}), (409, drift)]
    Widget.objects.create(sku="S", name="n", price=Decimal(1))

    result = relay_stream("beta", client=client_for(url))

    assert result.stopped == "paused"
    assert Stream.objects.get(peer="beta").paused_reason == drift["message"]
