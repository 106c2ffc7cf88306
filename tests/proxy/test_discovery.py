"""Endpoints from DNS: reading SRV answers (pure), and resolving against a real DNS server
(dnsmasq, ``tests.proxy.dns_server``) the way Consul's DNS interface and a Kubernetes
headless Service answer."""

from __future__ import annotations

import asyncio

import dns.message
import pytest
from prometheus_client import REGISTRY

from strangler.proxy.discovery import (
    Address,
    DiscoveryFailed,
    DnsDiscovery,
    DnsResolver,
    addresses_from_srv,
    next_resolution_in,
)
from strangler.proxy.upstream_config import DiscoveryConfig
from tests.proxy.conftest import wait_for
from tests.proxy.dns_server import DnsServer, SrvRecord

SRV_ANSWER = """id 1
opcode QUERY
rcode NOERROR
flags QR AA RD RA
;QUESTION
catalog.service.consul. IN SRV
;ANSWER
catalog.service.consul. 30 IN SRV 1 1 8201 a.node.consul.
catalog.service.consul. 30 IN SRV 1 1 8202 b.node.consul.
catalog.service.consul. 30 IN SRV 2 1 8203 backup.node.consul.
;AUTHORITY
;ADDITIONAL
a.node.consul. 5 IN A 10.0.0.5
a.node.consul. 5 IN A 10.0.0.15
backup.node.consul. 30 IN A 10.0.0.7
"""


def srv_config(**fields: object) -> DiscoveryConfig:
    return DiscoveryConfig.model_validate(
        {"dns": "catalog.service.consul", "type": "SRV", **fields}
    )


def test_an_srv_answer_gives_the_addresses_of_its_additional_section_and_the_targets_left() -> None:
    message = dns.message.from_text(SRV_ANSWER)

    found, missing, ttl = addresses_from_srv(message.answer[0], message.additional, scheme="http")

    assert found == [Address("http://10.0.0.5:8201"), Address("http://10.0.0.15:8201")]
    assert [(name.to_text(), port) for name, port in missing] == [("b.node.consul.", 8202)]
    assert ttl == 5  # the shortest-lived record used


def test_only_the_lowest_srv_priority_is_used_the_others_are_backups() -> None:
    message = dns.message.from_text(SRV_ANSWER)

    found, missing, _ = addresses_from_srv(message.answer[0], message.additional, scheme="http")

    assert "10.0.0.7" not in str(found)
    assert all(port != 8203 for _, port in missing)


def test_https_addresses_carry_the_name_their_certificate_is_checked_against() -> None:
    message = dns.message.from_text(SRV_ANSWER)

    found, _, _ = addresses_from_srv(message.answer[0], message.additional, scheme="https")

    assert found[0] == Address("https://10.0.0.5:8201", server_hostname="a.node.consul")


@pytest.mark.parametrize(("ttl", "expected"), [(0, 1.0), (30, 30), (86_400, 300)])
def test_the_next_resolution_follows_the_ttl_within_its_bounds(ttl: float, expected: float) -> None:
    assert next_resolution_in(ttl, srv_config()) == expected


# --- against a real DNS server -----------------------------------------------------------------


@pytest.fixture
def consul_like(dns_server: DnsServer) -> DnsServer:
    """SRV records as Consul's DNS interface publishes a service of three instances."""
    dns_server.publish(
        a={"a.node.consul": ["127.0.0.2"], "b.node.consul": ["127.0.0.3"]},
        srv=[
            SrvRecord("catalog.service.consul", "a.node.consul", 8201),
            SrvRecord("catalog.service.consul", "b.node.consul", 8202),
            SrvRecord("catalog.service.consul", "c.node.consul", 8203),
        ],
        unglued={"c.node.consul": "127.0.0.4"},
    )
    dns_server.start()
    return dns_server


async def test_srv_records_resolve_to_every_instance_with_its_port(consul_like) -> None:
    resolver = DnsResolver(srv_config(nameserver=consul_like.nameserver))

    resolution = await resolver.resolve()

    assert resolution.addresses == (
        Address("http://127.0.0.2:8201"),
        Address("http://127.0.0.3:8202"),
        Address("http://127.0.0.4:8203"),
    )
    assert resolution.ttl == 1


async def test_an_srv_target_missing_from_the_additional_section_is_resolved_on_its_own(
    consul_like,
) -> None:
    answer = consul_like.query("catalog.service.consul", "SRV")
    glued = {rrset.name.to_text() for rrset in answer.additional}
    assert "c.node.consul." not in glued  # dnsmasq gives no glue for an address= record

    resolution = await DnsResolver(srv_config(nameserver=consul_like.nameserver)).resolve()

    assert Address("http://127.0.0.4:8203") in resolution.addresses


async def test_a_records_resolve_to_every_address_on_the_port_the_table_names(
    dns_server,
) -> None:
    dns_server.publish(a={"catalog.shop.svc.cluster.local": ["127.0.0.2", "127.0.0.3"]})
    dns_server.start()
    config = DiscoveryConfig(
        dns="catalog.shop.svc.cluster.local", type="A", port=8200, nameserver=dns_server.nameserver
    )

    resolution = await DnsResolver(config).resolve()

    assert resolution.addresses == (
        Address("http://127.0.0.2:8200"),
        Address("http://127.0.0.3:8200"),
    )


async def test_an_unknown_name_fails_naming_it(consul_like) -> None:
    resolver = DnsResolver(
        srv_config(dns="orders.service.consul", nameserver=consul_like.nameserver)
    )

    with pytest.raises(DiscoveryFailed, match=r"SRV orders\.service\.consul"):
        await resolver.resolve()


async def test_a_failed_resolution_keeps_the_endpoints_already_known(consul_like) -> None:
    config = srv_config(nameserver=consul_like.nameserver, min_ttl=0.1)
    discovery = DnsDiscovery("catalog", config, resolver=DnsResolver(config, timeout=0.3))
    applied: list[tuple[Address, ...]] = []
    before = _failed_resolutions("catalog")
    follower = asyncio.create_task(
        discovery.run(lambda addresses: applied.append(tuple(addresses)))
    )
    try:
        await wait_for(lambda: len(applied) == 1, deadline=5, what="the first answer")

        await asyncio.to_thread(consul_like.stop)
        await wait_for(lambda: discovery.last_error is not None, deadline=10, what="a failure")

        assert _failed_resolutions("catalog") > before
        assert applied == [discovery.addresses]  # nothing applied since: the three are kept
        assert len(discovery.addresses) == 3
    finally:
        follower.cancel()


def _failed_resolutions(upstream: str) -> float:
    labels = {"upstream": upstream, "outcome": "failed"}
    return REGISTRY.get_sample_value("strangler_proxy_discovery_resolutions_total", labels) or 0
