"""An operator (or a migration plan) switches a stream at run time, over its registration."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from strangler.sync.relay import relay_stream
from strangler.sync.switch import stream_enabled
from tests.strangler.sync.conftest import Node
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
