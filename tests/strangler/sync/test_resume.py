"""``sync_resume`` checks the settings that will relay the stream before it clears the pause;
the worker records it compares; the receiver's ``columns`` endpoint it asks.

The receiver is a scripted server on a real socket (its answers are what is under test here);
real workers and a real receiver are in ``test_workers``.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from strangler.sync.models import Stream, Worker
from strangler.sync.workers import (
    WORKER_SEEN_WINDOW_SECONDS,
    settings_fingerprint,
    this_process,
    worker_gone,
    worker_seen,
    workers_differing,
)
from tests.strangler.sync.factories import signed_post
from tests.strangler.sync.scripted_receiver import Script, receiver

pytestmark = pytest.mark.django_db

# Imported for pytest to find it here: scripted_receiver says why it is not in conftest.
FIXTURES = (receiver,)

ACCEPTED = (200, {"accepted": ["widgets_part", "widgets_widget"]})
DRIFT = (409, {"code": "schema_drift", "message": "widgets_widget: column(s) name have no field"})


def _paused(reason: str = "widgets_widget: drifted") -> None:
    Stream.objects.update_or_create(peer="beta", defaults={"paused_reason": reason})


def _resume(*flags: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_resume", "beta", *flags, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _drop_name(settings: Any) -> None:
    """The registration as it was before 'name' was listed: the widgets table drifts."""
    registered = settings.STRANGLER_SYNC
    settings.STRANGLER_SYNC = {**registered, "outbound": [
        {**registered["outbound"][0], "fields": ["id", "sku", "price", "updated_at"]},
        registered["outbound"][1],
    ]}  # fmt: skip


@pytest.fixture
def scripted_beta(receiver: tuple[str, Script], alpha_to: Any) -> Script:
    url, script = receiver
    alpha_to(url)
    script.answers = [ACCEPTED]
    return script


def test_a_stream_whose_settings_fit_on_both_sides_is_resumed(scripted_beta: Script) -> None:
    _paused()

    out, err = _resume()

    assert (out, err) == ("stream to beta resumed; the next relay pass sends\n", "")
    assert Stream.objects.get(peer="beta").paused_reason == ""
    method, path, _, body = scripted_beta.received[0]
    assert (method, path) == ("POST", "/internal/sync/columns")
    assert json.loads(body)["columns"]["widgets_widget"] == [
        "id", "sku", "name", "price", "updated_at",
    ]  # fmt: skip


def test_resume_refuses_while_this_node_s_registration_still_drifts(
    scripted_beta: Script, settings: Any
) -> None:
    _paused()
    _drop_name(settings)

    with pytest.raises(CommandError) as refused:
        _resume()

    assert "stream to beta stays paused" in str(refused.value)
    assert "still drifting here: widgets_widget: column(s) name in neither" in str(refused.value)
    assert refused.value.returncode == 1
    assert Stream.objects.get(peer="beta").paused_reason
    assert scripted_beta.received == []


def test_resume_refuses_while_the_receiver_still_refuses_the_columns(
    scripted_beta: Script,
) -> None:
    _paused()
    scripted_beta.answers = [DRIFT]

    with pytest.raises(CommandError) as refused:
        _resume()

    assert "beta still refuses the columns: widgets_widget: column(s) name have no field" in str(
        refused.value
    )
    assert "restart its web processes" in str(refused.value)
    assert Stream.objects.get(peer="beta").paused_reason


def test_force_resumes_all_the_same_and_warns_of_each_finding(scripted_beta: Script) -> None:
    _paused()
    scripted_beta.answers = [DRIFT]

    out, err = _resume("--force")

    assert out == "stream to beta resumed; the next relay pass sends\n"
    assert err.startswith("warning: beta still refuses the columns")
    assert Stream.objects.get(peer="beta").paused_reason == ""


def test_a_stream_that_is_not_paused_is_left_alone(scripted_beta: Script) -> None:
    _paused(reason="")

    out, _ = _resume()

    assert out == "stream to beta is not paused; nothing to resume\n"
    assert scripted_beta.received == []


def _other_worker(name: str, *, fingerprint: str, seen_seconds_ago: float) -> None:
    seen = timezone.now() - dt.timedelta(seconds=seen_seconds_ago)
    Worker.objects.create(name=name, fingerprint=fingerprint, started_at=seen, seen_at=seen)


def test_only_workers_seen_lately_with_other_settings_are_named() -> None:
    mine = settings_fingerprint()
    _other_worker("host-a:1", fingerprint="0" * 64, seen_seconds_ago=5)
    _other_worker("host-b:2", fingerprint=mine, seen_seconds_ago=5)
    _other_worker("host-c:3", fingerprint="0" * 64, seen_seconds_ago=WORKER_SEEN_WINDOW_SECONDS + 5)

    assert [worker.name for worker in workers_differing()] == ["host-a:1"]


def test_a_process_records_itself_once_and_goes_when_it_shuts_down(settings: Any) -> None:
    worker_seen()
    _drop_name(settings)
    worker_seen()  # other settings now: recorded at once

    [record] = Worker.objects.all()
    assert (record.name, record.fingerprint) == (this_process(), settings_fingerprint())
    assert workers_differing() == []  # this process is never one to restart
    worker_gone()
    assert not Worker.objects.exists()


def test_the_fingerprint_follows_the_registration_not_the_secret(settings: Any) -> None:
    first = settings_fingerprint()
    settings.STRANGLER_SYNC = {**settings.STRANGLER_SYNC, "secret": "another-secret"}
    same = settings_fingerprint()
    _drop_name(settings)

    assert same == first
    assert settings_fingerprint() != first


def test_the_columns_endpoint_accepts_columns_it_would_apply(client: Client, settings: Any) -> None:
    columns = {"widgets_widget": ["id", "sku", "name", "price", "updated_at"]}

    response = signed_post(
        client, "/internal/sync/columns", {"source": "beta", "columns": columns},
        secret=settings.STRANGLER_SYNC["secret"],
    )  # fmt: skip

    assert (response.status_code, response.json()) == (200, {"accepted": ["widgets_widget"]})


def test_the_columns_endpoint_refuses_columns_it_has_no_field_for(
    client: Client, settings: Any
) -> None:
    columns = {"widgets_widget": ["id", "sku", "name", "price", "updated_at", "colour"]}

    response = signed_post(
        client, "/internal/sync/columns", {"source": "beta", "columns": columns},
        secret=settings.STRANGLER_SYNC["secret"],
    )  # fmt: skip

    assert response.status_code == 409
    assert response.json()["code"] == "schema_drift"
    assert "colour" in response.json()["message"]
