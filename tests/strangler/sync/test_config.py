"""The registration is read once and a malformed entry is refused naming entry and field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from strangler.sync.config import resolve_models, sync_settings

GOOD: dict[str, Any] = {
    "node": "alpha",
    "secret": "s3cret",
    "peers": {"beta": {"url": "http://127.0.0.1:8200/"}},
    "outbound": [
        {"model": "widgets.Widget", "to": "beta", "fields": ["id", "sku"], "exclude": ["name"]},
    ],
    "inbound": [{"from": "beta", "table": "widgets_widget", "model": "widgets.Widget"}],
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def _outbound(**changes: Any) -> dict[str, Any]:
    return _with(outbound=[{**GOOD["outbound"][0], **changes}])


def test_a_good_registration_becomes_frozen_dataclasses(settings: Any) -> None:
    settings.STRANGLER_SYNC = GOOD

    config = sync_settings()

    assert config.node == "alpha"
    assert config.peer("beta").url == "http://127.0.0.1:8200"
    assert config.outbound[0].fields == ("id", "sku")
    assert config.stream_enabled("beta")
    assert config.inbound_for("beta", "widgets_widget").model == "widgets.Widget"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.node = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("registration", "message"),
    [
        (_with(node=""), "STRANGLER_SYNC['node']: expected a name"),
        (_with(secret=""), "STRANGLER_SYNC['secret']: set a non-empty string"),
        (_with(peers={"beta": {"url": "ftp://x"}}), "STRANGLER_SYNC['peers']['beta']['url']"),
        (_with(peers={"alpha": {"url": "http://x"}}), "a peer is another node's name"),
        (_outbound(to="gamma"), "STRANGLER_SYNC['outbound'][0]['to']: 'gamma' is not in"),
        (_outbound(fields=[]), "STRANGLER_SYNC['outbound'][0]['fields']: list the columns"),
        (_outbound(exclude=["sku"]), "STRANGLER_SYNC['outbound'][0]['exclude']: sku also in"),
        (_outbound(enabled="yes"), "STRANGLER_SYNC['outbound'][0]['enabled']: expected true"),
        (_outbound(model="Widget"), "STRANGLER_SYNC['outbound'][0]['model']: expected 'app"),
        (_with(outbound=[*GOOD["outbound"], {**GOOD["outbound"][0]}]),
         "STRANGLER_SYNC['outbound'][1]['model']: widgets.Widget to beta is already"),
        (_with(outbound=[GOOD["outbound"][0], {"model": "widgets.Part", "to": "beta",
                                               "fields": ["id"], "enabled": False}]),
         "STRANGLER_SYNC['outbound'][1]['enabled']: differs from STRANGLER_SYNC['outbound'][0]"),
        (_with(inbound=[{"from": "gamma", "table": "t", "model": "widgets.Widget"}]),
         "STRANGLER_SYNC['inbound'][0]['from']"),
        (_with(inbound=[{"from": "beta", "table": "t", "model": "widgets.Widget",
                         "field_map": {"a": 1}}]), "STRANGLER_SYNC['inbound'][0]['field_map']"),
        (_with(retention_seconds=-1), "STRANGLER_SYNC['retention_seconds']"),
    ],
)  # fmt: skip
def test_a_malformed_entry_is_refused_naming_it(
    settings: Any, registration: dict[str, Any], message: str
) -> None:
    settings.STRANGLER_SYNC = registration

    with pytest.raises(ImproperlyConfigured) as refused:
        sync_settings()

    assert message in str(refused.value)


def test_a_missing_registration_is_refused_naming_the_setting(settings: Any) -> None:
    del settings.STRANGLER_SYNC

    with pytest.raises(ImproperlyConfigured, match="STRANGLER_SYNC is not set"):
        sync_settings()


def test_a_model_that_is_not_installed_is_refused_at_start(settings: Any) -> None:
    settings.STRANGLER_SYNC = _outbound(model="widgets.Gadget")

    with pytest.raises(
        ImproperlyConfigured, match=r"\['outbound'\]\[0\]\['model'\]: 'widgets.Gadget'"
    ):
        resolve_models()
