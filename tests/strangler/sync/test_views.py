"""The ``/internal/sync/`` endpoints: HMAC, codes and messages, nothing applied on refusal."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from strangler.sync.models import RowVersion
from strangler.sync.signing import SIGNATURE_HEADER
from strangler.sync.wire import dumps
from tests.strangler.sync.factories import (
    WIDGET,
    WIDGET_COLUMNS,
    batch,
    signed_get,
    signed_post,
    sync_headers,
    widget,
)
from tests.sync_project.widgets.models import Widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(settings: Any) -> str:
    return str(settings.STRANGLER_SYNC["secret"])


def _apply(client: Client, secret: str, payload: Any, **kwargs: Any) -> Any:
    return signed_post(client, "/internal/sync/apply", payload, secret=secret, **kwargs)


def test_the_cursor_starts_at_zero_and_follows_applied_batches(client: Client, secret: str) -> None:
    before = signed_post(client, "/internal/sync/cursor", {"source": "beta"}, secret=secret)
    _apply(client, secret, batch(widget(1, 1), end=4).as_json())
    after = signed_post(client, "/internal/sync/cursor", {"source": "beta"}, secret=secret)

    assert before.json() == {"cursor": [0, 0]}
    assert after.json() == {"cursor": [0, 4]}


def test_an_applied_batch_answers_its_counts(client: Client, secret: str) -> None:
    response = _apply(client, secret, batch(widget(1, 1), widget(2, 1)).as_json())

    assert response.status_code == 200
    assert response.json() == {
        "cursor": [0, 2], "applied": 2, "stale": 0, "dead_lettered": 0,
        "duplicate": False, "heartbeat_at": None,
    }  # fmt: skip


def test_a_wrong_signature_is_401_and_applies_nothing(client: Client) -> None:
    response = _apply(client, "not-the-secret", batch(widget(1, 1)).as_json())

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not Widget.objects.exists()


def test_a_stale_timestamp_is_401_and_applies_nothing(client: Client, secret: str) -> None:
    response = _apply(
        client, secret, batch(widget(1, 1)).as_json(), timestamp=int(time.time()) - 120
    )

    assert response.status_code == 401
    assert response.json()["code"] == "stale_timestamp"
    assert not Widget.objects.exists()


def test_a_call_without_the_headers_is_401_saying_which_to_send(client: Client) -> None:
    response = client.post("/internal/sync/cursor", data=b"{}", content_type="application/json")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert SIGNATURE_HEADER in response.json()["message"]


def test_a_signed_body_that_is_not_json_is_400(client: Client, secret: str) -> None:
    response = _apply(client, secret, b"not json")

    assert response.status_code == 400
    assert response.json() == {"code": "bad_request", "message": "The body is not JSON."}


def test_a_malformed_change_is_400_naming_the_field(client: Client, secret: str) -> None:
    payload = batch(widget(1, 1)).as_json()
    payload["changes"][0]["version"] = "three"

    response = _apply(client, secret, payload)

    assert response.status_code == 400
    assert "changes[0]['version']" in response.json()["message"]


def test_a_gap_is_409_cursor_mismatch_with_the_stored_cursor(client: Client, secret: str) -> None:
    response = _apply(client, secret, batch(widget(1, 1), start=3).as_json())

    assert response.status_code == 409
    assert response.json()["code"] == "cursor_mismatch"
    assert response.json()["cursor"] == [0, 0]
    assert not Widget.objects.exists()


def test_unknown_columns_are_409_schema_drift_naming_table_and_columns(
    client: Client, secret: str
) -> None:
    payload = batch(widget(1, 1)).as_json()
    payload["columns"][WIDGET].append("colour")

    response = _apply(client, secret, payload)

    assert response.status_code == 409
    assert response.json()["code"] == "schema_drift"
    assert "widgets_widget: column(s) colour" in response.json()["message"]
    assert not Widget.objects.exists()


def test_apply_takes_only_post(client: Client) -> None:
    assert client.get("/internal/sync/apply").status_code == 405


def test_status_answers_the_nodes_cursors_and_dead_letters(client: Client, secret: str) -> None:
    _apply(client, secret, batch(widget(1, 1)).as_json())
    status = signed_get(client, "/internal/sync/status", secret=secret).json()

    assert status["node"] == "alpha"
    assert [(c["source"], c["cursor"]) for c in status["cursors"]] == [("beta", [0, 1])]
    assert status["dead_letters"]["parked"] == 0
    assert [s["peer"] for s in status["streams"]] == ["beta"]
    assert dumps(status)  # JSON all the way down


def _resend(client: Client, secret: str, versions: Any) -> Any:
    body = {
        "source": "beta",
        "table": "widgets_widget",
        "columns": list(WIDGET_COLUMNS),
        "versions": versions,
    }
    return signed_post(client, "/internal/sync/rows/resend", body, secret=secret)


@pytest.mark.django_db(transaction=True)
def test_a_resend_raises_this_nodes_version_above_the_callers_and_answers_its_copy(
    client: Client, secret: str
) -> None:
    Widget.objects.create(id=1, sku="S-1", name="ours", price=Decimal("2.50"))  # captured: v1

    response = _resend(client, secret, {"1": 3, "2": 0})

    assert response.status_code == 200
    answer = response.json()
    assert answer["columns"] == {"widgets_widget": list(WIDGET_COLUMNS)}
    [ours, absent] = answer["changes"]
    assert (ours["pk"], ours["version"], ours["deleted"], ours["data"]["name"]) == (
        "1", 4, False, "ours"
    )  # fmt: skip
    assert (absent["pk"], absent["version"], absent["deleted"]) == ("2", 1, True)
    assert RowVersion.objects.get(table_name="widgets_widget", row_pk="1").version == 4


def test_a_resend_with_versions_that_are_not_numbers_is_400(client: Client, secret: str) -> None:
    response = _resend(client, secret, {"1": "three"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request",
        "message": "'versions' must map keys written as text to versions.",
    }


def test_a_resend_of_a_table_this_node_does_not_send_back_is_409(
    client: Client, secret: str, settings: Any
) -> None:
    config = dict(settings.STRANGLER_SYNC)
    config["outbound"] = [e for e in config["outbound"] if e["model"] != "widgets.Widget"]
    settings.STRANGLER_SYNC = config

    response = _resend(client, secret, {"1": 1})

    assert response.status_code == 409
    assert response.json()["code"] == "not_sent"


def _post(client: Client, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, data=body, content_type="application/json", headers=headers)


def test_a_replayed_call_is_401_replayed_and_applies_nothing_again(
    client: Client, secret: str
) -> None:
    body = dumps(batch(widget(1, 1)).as_json())
    headers = sync_headers("POST", "/internal/sync/apply", body, secret=secret)
    first = _post(client, "/internal/sync/apply", body, headers)
    Widget.objects.all().delete()

    replayed = _post(client, "/internal/sync/apply", body, headers)

    assert first.status_code == 200
    assert (replayed.status_code, replayed.json()["code"]) == (401, "replayed")
    assert not Widget.objects.exists()


def test_a_signature_made_for_one_endpoint_is_refused_on_another(
    client: Client, secret: str
) -> None:
    body = dumps(batch(widget(1, 1)).as_json())
    headers = sync_headers("POST", "/internal/sync/cursor", body, secret=secret)

    response = _post(client, "/internal/sync/apply", body, headers)

    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")
    assert not Widget.objects.exists()


def test_a_signature_made_for_a_post_is_refused_on_a_get(client: Client, secret: str) -> None:
    headers = sync_headers("POST", "/internal/sync/status", b"", secret=secret)

    response = client.get("/internal/sync/status", headers=headers)

    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")


def test_a_call_signed_for_another_node_is_refused(client: Client, secret: str) -> None:
    body = dumps(batch(widget(1, 1)).as_json())
    headers = sync_headers("POST", "/internal/sync/apply", body, secret=secret, receiver="gamma")

    response = _post(client, "/internal/sync/apply", body, headers)

    assert (response.status_code, response.json()["code"]) == (401, "wrong_receiver")
    assert "'gamma'" in response.json()["message"]
    assert not Widget.objects.exists()


def test_a_call_readdressed_to_this_node_no_longer_verifies(client: Client, secret: str) -> None:
    body = dumps(batch(widget(1, 1)).as_json())
    headers = sync_headers("POST", "/internal/sync/apply", body, secret=secret, receiver="gamma")
    headers["X-Strangler-Sync-To"] = "alpha"

    response = _post(client, "/internal/sync/apply", body, headers)

    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")


def test_a_sender_that_is_not_a_peer_is_refused(client: Client, secret: str) -> None:
    body = dumps({"source": "gamma"})
    headers = sync_headers("POST", "/internal/sync/cursor", body, secret=secret, sender="gamma")

    response = _post(client, "/internal/sync/cursor", body, headers)

    assert (response.status_code, response.json()["code"]) == (401, "unknown_sender")


def test_a_body_speaking_for_another_source_than_the_signed_sender_is_refused(
    client: Client, secret: str, settings: Any
) -> None:
    settings.STRANGLER_SYNC = {
        **settings.STRANGLER_SYNC,
        "peers": {**settings.STRANGLER_SYNC["peers"], "gamma": {"url": "http://127.0.0.1:9"}},
    }
    body = dumps(batch(widget(1, 1)).as_json())  # source: beta
    headers = sync_headers("POST", "/internal/sync/apply", body, secret=secret, sender="gamma")

    response = _post(client, "/internal/sync/apply", body, headers)

    assert (response.status_code, response.json()["code"]) == (401, "sender_mismatch")
    assert not Widget.objects.exists()


def test_metrics_without_credentials_are_401_saying_what_to_send(client: Client) -> None:
    response = client.get("/internal/sync/metrics")

    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")
    assert "Authorization: Bearer" in response.json()["message"]


def test_metrics_with_a_wrong_bearer_token_are_401(client: Client) -> None:
    response = client.get("/internal/sync/metrics", headers={"Authorization": "Bearer guess"})

    assert (response.status_code, response.json()["code"]) == (401, "bad_token")


def test_metrics_answer_the_nodes_bearer_token(client: Client, settings: Any) -> None:
    token = settings.STRANGLER_SYNC["metrics_token"]

    response = client.get("/internal/sync/metrics", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert b"strangler_sync_up" in response.content


def test_metrics_answer_a_signed_call_when_no_token_is_set(
    client: Client, secret: str, settings: Any
) -> None:
    settings.STRANGLER_SYNC = {**settings.STRANGLER_SYNC, "metrics_token": ""}

    unsigned = client.get("/internal/sync/metrics", headers={"Authorization": "Bearer x"})
    signed = signed_get(client, "/internal/sync/metrics", secret=secret)

    assert unsigned.status_code == 401
    assert signed.status_code == 200
