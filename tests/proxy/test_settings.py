"""The proxy's process settings, read once from the environment."""

from __future__ import annotations

import pytest

from proxy.edge_limits import HEADER_TIMEOUT_SECONDS, MAX_HEADER_BYTES
from proxy.settings import ProxySettings, SettingsError


def test_the_edge_limits_default_to_the_named_constants() -> None:
    settings = ProxySettings.from_env({})

    assert settings.header_timeout == HEADER_TIMEOUT_SECONDS
    assert settings.max_header_bytes == MAX_HEADER_BYTES


def test_the_edge_limits_are_read_from_the_environment() -> None:
    settings = ProxySettings.from_env(
        {"PROXY_HEADER_TIMEOUT": "5", "PROXY_KEEPALIVE_TIMEOUT": "30",
         "PROXY_MAX_CONNECTIONS": "200", "PROXY_MAX_HEADER_BYTES": "16384",
         "PROXY_MAX_HEADERS": "50"}
    )  # fmt: skip

    assert (settings.header_timeout, settings.keepalive_timeout) == (5.0, 30.0)
    assert (settings.max_connections, settings.max_header_bytes, settings.max_headers) == (
        200,
        16384,
        50,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("PROXY_HEADER_TIMEOUT", "0"), ("PROXY_KEEPALIVE_TIMEOUT", "soon"),
     ("PROXY_MAX_CONNECTIONS", "0"), ("PROXY_MAX_HEADER_BYTES", "100"),
     ("PROXY_MAX_HEADERS", "5000")],
)  # fmt: skip
def test_an_unusable_edge_limit_stops_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ProxySettings.from_env({name: value})
