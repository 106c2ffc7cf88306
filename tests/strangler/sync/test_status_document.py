"""The typed status document: its JSON form, read back exactly, and refused when malformed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strangler.sync.errors import MalformedStatus, SyncError
from strangler.sync.position import Position
from strangler.sync.status_document import (
    STREAM_STATES,
    RegisteredTable,
    Registration,
    SyncStatus,
)
from tests.strangler.sync.status_factories import (
    AT,
    cursor_status,
    reconcile_record,
    stream_status,
    sync_status,
)


def _document(**overrides: Any) -> dict[str, Any]:
    status = sync_status(
        streams=[stream_status("beta", lag_seconds=None, heartbeat_at=None)],
        cursors=[cursor_status("beta")],
        parked={"beta": 2},
        reconciles=[reconcile_record("beta", "widgets_widget", finished_at=None)],
        problems=["2 dead letter(s) from beta parked"],
    )
    return {**status.to_json(), **overrides}


def test_the_json_form_has_the_wire_keys_in_order_with_times_as_text_and_positions_as_lists():
    document = _document()

    assert list(document) == [
        "node", "at", "healthy", "problems", "thresholds", "streams", "cursors",
        "dead_letters", "backfills", "last_reconcile",
    ]  # fmt: skip
    assert document["at"] == AT.isoformat()
    assert document["thresholds"] == {"lagging_after_seconds": 30.0, "stuck_after_seconds": 60.0}
    assert document["streams"][0]["acked"] == [0, 7]
    assert document["streams"][0]["heartbeat_at"] is None
    assert document["cursors"][0]["cursor"] == [0, 12]
    assert document["dead_letters"] == {"parked": 2, "by_source": {"beta": 2}}


def test_a_document_read_back_writes_the_same_json_byte_for_byte():
    text = json.dumps(_document(), indent=2)

    status = SyncStatus.from_json(json.loads(text))

    assert json.dumps(status.to_json(), indent=2) == text
    assert status.streams[0].acked == Position(0, 7)
    assert status.at == AT
    assert status.last_reconcile[0].finished_at is None


def test_whole_numbers_are_read_as_numbers_and_written_back_as_they_came():
    document = _document(thresholds={"lagging_after_seconds": 30, "stuck_after_seconds": 60})

    status = SyncStatus.from_json(document)

    assert (status.thresholds.lagging_after, status.thresholds.stuck_after) == (30, 60)
    assert status.to_json()["thresholds"] == {
        "lagging_after_seconds": 30,
        "stuck_after_seconds": 60,
    }


def test_keys_a_reader_does_not_know_are_ignored():
    document = _document(added_by_a_newer_node={"x": 1})

    assert SyncStatus.from_json(document) == SyncStatus.from_json(_document())


def test_the_stream_to_a_peer_and_its_reconciles_are_found_by_name():
    status = SyncStatus.from_json(_document())

    assert status.stream_to("beta") == status.streams[0]
    assert status.stream_to("gamma") is None
    assert [run.table for run in status.reconciles_with("beta")] == ["widgets_widget"]


def test_the_stream_states_are_the_ones_the_metrics_have_always_labelled():
    assert STREAM_STATES == ("disabled", "paused", "stuck", "lagging", "syncing", "idle", "unknown")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "malformed sync status: the document must be an object, not None"),
        ([], "malformed sync status: the document must be an object, not []"),
        (_document(node=None), "malformed sync status: node must be text, not None"),
        (
            _document(at="yesterday"),
            "malformed sync status: at must be an ISO 8601 time, not 'yesterday'",
        ),
        (
            _document(healthy="yes"),
            "malformed sync status: healthy must be true or false, not 'yes'",
        ),
        (_document(problems="none"), "malformed sync status: problems must be a list, not 'none'"),
        (
            _document(streams=[{**_document()["streams"][0], "lag_seconds": "1.5"}]),
            "malformed sync status: streams[0].lag_seconds must be a number or null, not '1.5'",
        ),
        (
            _document(streams=[{**_document()["streams"][0], "backlog": True}]),
            "malformed sync status: streams[0].backlog must be a whole number, not True",
        ),
        (
            _document(streams=[{**_document()["streams"][0], "state": "asleep"}]),
            "malformed sync status: streams[0].state must be one of 'disabled', 'paused'",
        ),
        (
            _document(cursors=[{**_document()["cursors"][0], "cursor": [0, -1]}]),
            "malformed sync status: cursors[0].cursor must be [xid, seq] of whole numbers",
        ),
        (
            _document(dead_letters={"parked": 2, "by_source": {"beta": "2"}}),
            "malformed sync status: dead_letters.by_source.beta must be a whole number, not '2'",
        ),
        (
            _document(dead_letters={"parked": 2}),
            "malformed sync status: dead_letters.by_source is missing",
        ),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field(document: Any, message: str):
    with pytest.raises(MalformedStatus) as refused:
        SyncStatus.from_json(document)

    assert refused.value.message.startswith(message)
    assert isinstance(refused.value, SyncError)
    assert refused.value.code == "malformed_status"


def test_a_document_from_a_node_older_than_the_registration_reads_without_it():
    document = _document()
    assert "registration" not in document

    assert SyncStatus.from_json(document).registration is None


def test_the_registration_is_read_back_as_written():
    registration = Registration(
        peers=("catalog",),
        sends=(RegisteredTable("catalog", "catalog_product", "catalog.Product"),),
        receives=(),
    )
    document = {**_document(), "registration": {
        "peers": ["catalog"],
        "sends": [{"peer": "catalog", "table": "catalog_product", "model": "catalog.Product"}],
        "receives": [],
    }}  # fmt: skip

    status = SyncStatus.from_json(document)

    assert status.registration == registration
    assert status.to_json() == document
