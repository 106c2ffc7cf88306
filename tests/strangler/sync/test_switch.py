"""An operator (or a migration plan) switches a stream at run time, over its registration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from strangler.sync.changelog import heartbeat_write
from strangler.sync.relay import relay_stream
from strangler.sync.switch import stream_enabled
from tests.monolith.processes import free_port
from tests.strangler.sync.conftest import Node, manage
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def to_beta(beta: Node, alpha_to: Any) -> Node:
    alpha_to(beta.url)
    return beta


def switch(*args: str) -> str:
    out = StringIO()
    call_command("sync_stream", *args, stdout=out)
    return out.getvalue().strip()


def test_a_disabled_stream_sends_nothing_and_keeps_its_changes(to_beta: Node) -> None:
    assert switch("beta", "--disable") == "stream to beta: disabled (operator)"
    Widget.objects.create(id=1, sku="S-1", name="kept", price=Decimal(1))

    assert relay_stream("beta").stopped == "disabled"
    assert to_beta.db.widgets() == {}

    assert switch("beta", "--enable") == "stream to beta: enabled (operator)"
    assert relay_stream("beta").stopped == "caught_up"
    assert to_beta.db.widgets() == {1: ("S-1", "kept", "1.00")}


def test_following_settings_again_drops_the_operators_choice(settings: Any) -> None:
    switch("beta", "--disable")
    assert stream_enabled("beta") is False
    assert switch("beta", "--follow-settings") == "stream to beta: enabled (settings)"
    assert stream_enabled("beta") is True


def test_a_stream_to_an_unknown_peer_is_refused() -> None:
    with pytest.raises(CommandError, match="'nowhere' is not a peer"):
        switch("nowhere", "--enable")


def _receiver_status(receiver: Node) -> tuple[int, str]:
    """``sync_status`` as an operator runs it on the receiver: exit status and output."""
    done = manage(receiver.env, "sync_status")
    return done.returncode, done.stdout


def _delivered_long_ago(receiver: Node) -> None:
    """Alpha's stream reached beta once, and its last heartbeat there is 75 s old."""
    heartbeat_write()
    relay_stream("beta")
    receiver.db.execute(
        "UPDATE strangler_sync_cursor SET heartbeat_at = %s WHERE source = 'alpha'",
        [receiver.db.time(timezone.now() - dt.timedelta(seconds=75))],
    )


def test_a_stream_disabled_on_purpose_is_disabled_at_its_receiver_not_stuck(
    to_beta: Node,
) -> None:
    _delivered_long_ago(to_beta)
    before = _receiver_status(to_beta)

    switch("beta", "--disable")
    after = _receiver_status(to_beta)

    assert before[0] == 1
    assert "stream from alpha is stuck" in before[1]
    assert after[0] == 0, after[1]
    assert after[1].startswith("node beta: healthy")
    assert "  alpha   disabled" in after[1]


def test_a_receiver_down_at_the_switch_is_told_by_the_next_relay_pass(
    to_beta: Node, alpha_to: Any
) -> None:
    _delivered_long_ago(to_beta)
    alpha_to(f"http://127.0.0.1:{free_port()}")
    switch("beta", "--disable")
    assert _receiver_status(to_beta)[0] == 1

    alpha_to(to_beta.url)
    relay_stream("beta")

    assert _receiver_status(to_beta)[0] == 0


def test_a_stream_enabled_again_is_watched_for_lag_again(to_beta: Node) -> None:
    _delivered_long_ago(to_beta)
    switch("beta", "--disable")

    switch("beta", "--enable")

    status, out = _receiver_status(to_beta)
    assert status == 1
    assert "stream from alpha is stuck" in out
