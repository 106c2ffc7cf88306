"""A sync node's status read for a plan's figures: signed, typed, and None with a reason."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from strangler.plans.sources import stream_from_status, stream_state
from strangler.sync.signing import verify_sync_call
from tests.strangler.sync.scripted_receiver import Script, receiver
from tests.strangler.sync.status_factories import reconcile_record, stream_status, sync_status

# Imported for pytest to find it here: scripted_receiver says why it is not in conftest.
FIXTURES = (receiver,)

SECRET = "sources-test-sync-secret"


def test_a_nodes_status_document_gives_the_streams_figures():
    status = sync_status(
        streams=[stream_status("catalog", enabled=True, backlog=3, lag_seconds=1.5)],
        parked={"catalog": 2},
        reconciles=[
            reconcile_record("catalog", "a", diverged=1,
                             finished_at=dt.datetime.fromisoformat("2026-11-22T05:00:00+00:00")),
            reconcile_record("catalog", "b", diverged=2,
                             finished_at=dt.datetime.fromisoformat("2026-11-22T06:00:00+00:00")),
        ],
    )  # fmt: skip
    stream = stream_from_status(status, "catalog")
    assert stream is not None
    assert (stream.backlog, stream.lag_seconds, stream.dead_letters) == (3, 1.5, 2)
    assert stream.reconcile_diverged == 3
    assert stream.reconcile_finished_at == pytest.approx(1795323600.0)  # the older of the two


def test_a_reconcile_still_running_on_one_table_gives_no_figure():
    status = sync_status(
        streams=[stream_status("catalog", enabled=True)],
        reconciles=[reconcile_record("catalog", "a", diverged=0, finished_at=None)],
    )
    stream = stream_from_status(status, "catalog")
    assert stream is not None
    assert stream.reconcile_diverged is None


def test_the_stream_is_read_from_the_node_signed_as_its_peer(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(200, sync_status(streams=[stream_status("catalog", backlog=4)]).to_json())]
    errors: list[str] = []

    with requests.Session() as session:
        stream = stream_state(url, "monolith", "catalog", session, errors, secret=SECRET)

    assert (stream is not None and stream.backlog, errors) == (4, [])
    method, path, headers, body = script.received[0]
    call = verify_sync_call(
        secret=SECRET, method=method, path=path, body=body, headers=headers,
        receiver="monolith", now=time.time(),
    )  # fmt: skip
    assert (path, call.sender) == ("/internal/sync/status", "catalog")


def test_a_node_without_a_stream_to_the_peer_gives_none_and_no_error(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(200, sync_status(streams=[stream_status("orders")]).to_json())]
    errors: list[str] = []

    with requests.Session() as session:
        stream = stream_state(url, "monolith", "catalog", session, errors, secret=SECRET)

    assert (stream, errors) == (None, [])


def test_a_malformed_status_gives_none_and_says_which_field(
    receiver: tuple[str, Script],
) -> None:
    url, script = receiver
    script.answers = [(200, {**sync_status().to_json(), "streams": "none"})]
    errors: list[str] = []

    with requests.Session() as session:
        stream = stream_state(url, "monolith", "catalog", session, errors, secret=SECRET)

    assert stream is None
    assert errors == [
        f"GET {url}/internal/sync/status: malformed sync status: streams must be a list, not 'none'"
    ]


def test_without_a_sync_secret_nothing_is_asked_and_the_error_names_the_variable(
    receiver: tuple[str, Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = receiver
    monkeypatch.delenv("STRANGLER_SYNC_SECRET", raising=False)
    errors: list[str] = []

    with requests.Session() as session:
        stream = stream_state(url, "monolith", "catalog", session, errors)

    assert (stream, script.received) == (None, [])
    assert "STRANGLER_SYNC_SECRET" in errors[0]
