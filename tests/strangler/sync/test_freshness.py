"""The label both nodes give a synced row in X-Strangler-Data-Versions, from the registration.

The answers themselves are tested where serializers render them: tests/monolith and
tests/extracted (catalog/api/test_product_data_versions.py in each), including one cross-node test.
"""

from __future__ import annotations

from typing import Any

from strangler.sync.freshness import sync_label
from tests.sync_project.widgets.models import Part, Widget

_BASE: dict[str, Any] = {
    "node": "alpha",
    "secret": "s3cret",
    "peers": {"beta": {"url": "http://b"}},
}
_WIDGET_OUT = {"model": "widgets.Widget", "to": "beta", "fields": ["id"], "exclude": []}


def test_an_outbound_model_is_named_by_its_own_table(settings: Any) -> None:
    settings.STRANGLER_SYNC = {**_BASE, "outbound": [_WIDGET_OUT], "inbound": []}

    assert sync_label(Widget) == "widgets_widget"


def test_an_inbound_model_is_named_by_the_senders_table(settings: Any) -> None:
    settings.STRANGLER_SYNC = {
        **_BASE,
        "outbound": [],
        "inbound": [{"from": "beta", "table": "shop_gadget", "model": "widgets.Widget"}],
    }

    assert sync_label(Widget) == "shop_gadget"


def test_a_model_registered_both_ways_under_two_names_takes_the_smaller(settings: Any) -> None:
    # Each node sees both names (its own table and the peer's), so both pick the same one.
    settings.STRANGLER_SYNC = {
        **_BASE,
        "outbound": [_WIDGET_OUT],
        "inbound": [{"from": "beta", "table": "shop_gadget", "model": "widgets.Widget"}],
    }

    assert sync_label(Widget) == "shop_gadget"


def test_a_model_not_registered_has_no_label(settings: Any) -> None:
    settings.STRANGLER_SYNC = {**_BASE, "outbound": [_WIDGET_OUT], "inbound": []}

    assert sync_label(Part) is None
