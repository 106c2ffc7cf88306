"""An upstream's entry: one URL, a list of endpoints, or DNS discovery; refused entries name
the file, the upstream and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler.proxy.config import load_table_config, parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.upstream_config import nameserver_address

MONOLITH = {"url": "http://127.0.0.1:8100"}


def catalog(entry: dict[str, object]) -> dict[str, object]:
    return {"upstreams": {"monolith": MONOLITH, "catalog": entry}}


def test_a_table_of_one_url_each_loads_as_it_always_did(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("upstreams:\n  monolith: {url: 'http://127.0.0.1:8100/', pool_size: 7}\n")

    upstream = load_table_config(path).upstreams["monolith"]

    assert (upstream.url, upstream.endpoints, upstream.discovery) == (
        "http://127.0.0.1:8100",
        None,
        None,
    )
    assert upstream.static_urls == ["http://127.0.0.1:8100"]
    assert (upstream.pool_size, upstream.balance) == (7, "least_request")


def test_a_list_of_endpoints_loads_with_the_outlier_defaults() -> None:
    config = parse_table_config(
        catalog({"endpoints": ["http://10.0.0.5:8200/", "http://10.0.0.6:8200"]}), source="t"
    )

    upstream = config.upstreams["catalog"]
    assert upstream.static_urls == ["http://10.0.0.5:8200", "http://10.0.0.6:8200"]
    assert upstream.outlier.model_dump() == {
        "consecutive_failures": 5,
        "ejection_seconds": 30.0,
        "max_ejection_seconds": 300.0,
        "max_ejection_percent": 50,
    }


def test_consul_srv_discovery_loads_with_its_nameserver() -> None:
    config = parse_table_config(
        catalog(
            {
                "discovery": {
                    "dns": "catalog.service.consul",
                    "type": "SRV",
                    "nameserver": "127.0.0.1:8600",
                },
                "outlier": {"consecutive_failures": 3, "ejection_seconds": 10},
            }
        ),
        source="t",
    )

    discovery = config.upstreams["catalog"].discovery
    assert discovery is not None
    assert (discovery.type, discovery.port, discovery.scheme) == ("SRV", None, "http")
    assert (discovery.min_ttl, discovery.max_ttl) == (1.0, 300.0)
    assert config.upstreams["catalog"].static_urls == []
    assert config.upstreams["catalog"].source == "dns SRV catalog.service.consul"


def test_kubernetes_headless_a_discovery_loads_with_its_port() -> None:
    config = parse_table_config(
        catalog(
            {"discovery": {"dns": "catalog.shop.svc.cluster.local", "type": "A", "port": 8200}}
        ),
        source="t",
    )

    discovery = config.upstreams["catalog"].discovery
    assert discovery is not None
    assert (discovery.port, discovery.nameserver) == (8200, None)


@pytest.mark.parametrize(
    ("entry", "field", "reason"),
    [
        (
            {"url": "http://a:1", "endpoints": ["http://b:1"]},
            "endpoints",
            "exactly one of 'url', 'endpoints' and 'discovery'",
        ),
        ({"health_path": "/h"}, "url", "exactly one of 'url', 'endpoints' and 'discovery'"),
        ({"endpoints": []}, "endpoints", "at least one base URL"),
        (
            {"endpoints": ["http://b:1", "http://b:1/"]},
            "endpoints",
            "[1] 'http://b:1/' is named twice",
        ),
        (
            {"endpoints": ["http://b:1", "http://b:1/x"]},
            "endpoints",
            "[1] 'http://b:1/x' must be a base URL",
        ),
        ({"discovery": {"dns": "c.test", "type": "A"}}, "discovery.port", "required with type A"),
        (
            {"discovery": {"dns": "c.test", "type": "SRV", "port": 80}},
            "discovery.port",
            "only with type A",
        ),
        (
            {"discovery": {"dns": "c.test", "type": "AAAA", "port": 80}},
            "discovery.type",
            "'A' or 'SRV'",
        ),
        ({"discovery": {"dns": "c test", "type": "SRV"}}, "discovery.dns", "not a DNS name"),
        (
            {"discovery": {"dns": "c.test", "type": "SRV", "nameserver": "consul:8600"}},
            "discovery.nameserver",
            "not an address like 127.0.0.1:8600",
        ),
        (
            {"discovery": {"dns": "c.test", "type": "SRV", "nameserver": "127.0.0.1:99999"}},
            "discovery.nameserver",
            "the port must be 1-65535",
        ),
        (
            {"discovery": {"dns": "c.test", "type": "SRV", "min_ttl": 60, "max_ttl": 5}},
            "discovery.min_ttl",
            "larger than max_ttl",
        ),
        (
            {"discovery": {"dns": "c.test", "type": "SRV", "scheme": "ftp"}},
            "discovery.scheme",
            "'http' or 'https'",
        ),
        ({"url": "http://a:1", "balance": "round_robin"}, "balance", "'least_request'"),
        (
            {"url": "http://a:1", "outlier": {"consecutive_failures": 0}},
            "outlier.consecutive_failures",
            "greater than or equal to 1",
        ),
        (
            {"url": "http://a:1", "outlier": {"max_ejection_percent": 101}},
            "outlier.max_ejection_percent",
            "less than or equal to 100",
        ),
        (
            {"url": "http://a:1", "outlier": {"ejection_seconds": 600}},
            "outlier.ejection_seconds",
            "larger than max_ejection_seconds",
        ),
        ({"url": "http://a:1", "outlier": {"eject": True}}, "outlier.eject", "Extra inputs"),
    ],
)
def test_a_bad_upstream_is_refused_naming_file_upstream_and_field(
    entry: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_table_config(catalog(entry), source="routes.yaml")

    message = str(caught.value)
    assert message.startswith(f"routes.yaml: upstreams.catalog, field '{field}': "), message
    assert reason in message


def test_a_nameserver_without_a_port_is_asked_on_the_dns_port() -> None:
    assert nameserver_address("10.96.0.10") == ("10.96.0.10", 53)
    assert nameserver_address("[::1]:8600") == ("::1", 8600)
