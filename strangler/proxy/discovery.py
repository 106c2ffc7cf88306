"""An upstream's endpoints from DNS: A or SRV records, re-resolved when their TTL runs out.

Two registries publish healthy instances this way, and both are followed the same way:

- a Kubernetes headless Service (``clusterIP: None``): an A record per ready pod under
  ``<service>.<namespace>.svc.cluster.local``, all on the one port the table names
  (``type: A, port: N``);
- Consul, through its DNS interface: an SRV record per healthy instance under
  ``<service>.service.consul`` (host and port each), served on Consul's DNS port
  (``nameserver: "127.0.0.1:8600"`` for the local agent). Consul's HTTP catalog API is not
  used: Consul cannot be installed where this was built and tested, its DNS interface can be
  served by any DNS server (the tests publish SRV records with dnsmasq), and a proxy that
  reads DNS needs no Consul client or token.

SRV targets are read from the answer's additional section, where Consul and dnsmasq put
their A records; a target missing there is resolved on its own. Only the records of the
lowest SRV priority are used (RFC 2782: the others are backups); weights are left to the
balancer, which weighs by outstanding requests instead.

Resolution runs in a task of its own, never on a request's path. A resolution that fails, or
answers no address, keeps the endpoints already known (and says so in the log and
``strangler_proxy_discovery_resolutions_total``): a DNS blip must not take a service's
every instance away, and a dead one is still taken out by its health check and by ejection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver
import dns.rrset

from strangler.proxy.metrics import DISCOVERY_RESOLUTIONS
from strangler.proxy.upstream_config import DiscoveryConfig, nameserver_address

__all__ = [
    "Address",
    "DiscoveryFailed",
    "DnsDiscovery",
    "DnsResolver",
    "Resolution",
    "addresses_from_srv",
    "next_resolution_in",
    "resolve_now",
]

logger = logging.getLogger(__name__)

# One DNS lookup (all its tries): a resolver on the LAN answers in milliseconds; 2 s
# means it is gone, like the upstream connect timeout.
RESOLVE_TIMEOUT_SECONDS = 2.0
# After a failed resolution, ask again this soon (within min_ttl and max_ttl): the endpoints
# already known keep serving meanwhile.
RETRY_SECONDS = 5.0


class DiscoveryFailed(Exception):
    """No usable answer: the name is unknown, has no records, or the server did not answer."""


@dataclass(frozen=True, order=True)
class Address:
    """One instance as the proxy connects to it."""

    base_url: str  # scheme://address:port
    server_hostname: str | None = None  # the TLS name (https): the record's name


@dataclass(frozen=True)
class Resolution:
    addresses: tuple[Address, ...]  # sorted, never empty
    ttl: float  # the smallest TTL of the records used


def _base_url(scheme: str, address: str, port: int) -> str:
    return f"{scheme}://{address}:{port}"


def _hostname(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True)


def addresses_from_srv(
    srv: dns.rrset.RRset, additional: Sequence[dns.rrset.RRset], *, scheme: str
) -> tuple[list[Address], list[tuple[dns.name.Name, int]], float]:
    """The instances an SRV answer names: the addresses found in its additional section,
    the targets (name, port) to resolve still, and the smallest TTL used."""
    records = [r for r in srv if r.target != dns.name.root]  # "." : no service here
    if not records:
        return [], [], float(srv.ttl)
    lowest = min(r.priority for r in records)
    glue = {
        rrset.name: rrset
        for rrset in additional
        if rrset.rdtype == dns.rdatatype.A and rrset.rdclass == srv.rdclass
    }
    found: list[Address] = []
    missing: list[tuple[dns.name.Name, int]] = []
    ttl = float(srv.ttl)
    for record in records:
        if record.priority != lowest:
            continue
        rrset = glue.get(record.target)
        if rrset is None:
            missing.append((record.target, record.port))
            continue
        ttl = min(ttl, rrset.ttl)
        server_hostname = _hostname(record.target) if scheme == "https" else None
        found += [
            Address(_base_url(scheme, a.address, record.port), server_hostname) for a in rrset
        ]
    return found, missing, ttl


class DnsResolver:
    """Resolves one discovery entry into addresses (dnspython's asyncio resolver)."""

    def __init__(self, config: DiscoveryConfig, *, timeout: float = RESOLVE_TIMEOUT_SECONDS):
        self.config = config
        self.timeout = timeout
        self._resolver: dns.asyncresolver.Resolver | None = None

    def _configured(self) -> dns.asyncresolver.Resolver:
        """The resolver, made at the first resolution: reading /etc/resolv.conf can fail,
        and that is a failed resolution (retried), not a table refused."""
        if self._resolver is None:
            if self.config.nameserver is None:
                try:
                    resolver = dns.asyncresolver.Resolver()  # the system's, /etc/resolv.conf
                except dns.exception.DNSException as exc:
                    raise DiscoveryFailed(f"no system resolver to ask: {exc}") from None
            else:
                resolver = dns.asyncresolver.Resolver(configure=False)
                host, port = nameserver_address(self.config.nameserver)
                resolver.nameservers = [host]
                resolver.port = port
            self._resolver = resolver
        return self._resolver

    async def resolve(self) -> Resolution:
        config = self.config
        if config.type == "A":
            assert config.port is not None  # the config's own check
            rrset = await self._records(config.dns, "A")
            server_hostname = config.dns if config.scheme == "https" else None
            found = [
                Address(_base_url(config.scheme, a.address, config.port), server_hostname)
                for a in rrset
            ]
            ttl = float(rrset.ttl)
        else:
            answer = await self._answer(config.dns, "SRV")
            assert answer.rrset is not None
            found, missing, ttl = addresses_from_srv(
                answer.rrset, answer.response.additional, scheme=config.scheme
            )
            for target, port in missing:
                rrset = await self._records(target, "A")
                ttl = min(ttl, rrset.ttl)
                server_hostname = _hostname(target) if config.scheme == "https" else None
                found += [
                    Address(_base_url(config.scheme, a.address, port), server_hostname)
                    for a in rrset
                ]
        if not found:
            raise DiscoveryFailed(f"{config.type} {config.dns}: no address in the answer")
        return Resolution(tuple(sorted(set(found))), ttl)

    async def _records(self, name: str | dns.name.Name, rdtype: str) -> dns.rrset.RRset:
        answer = await self._answer(name, rdtype)
        assert answer.rrset is not None
        return answer.rrset

    async def _answer(self, name: str | dns.name.Name, rdtype: str) -> dns.resolver.Answer:
        try:
            return await self._configured().resolve(
                name, rdtype, lifetime=self.timeout, search=False
            )
        except dns.exception.DNSException as exc:
            # NXDOMAIN, NoAnswer, NoNameservers, LifetimeTimeout: the message says which.
            raise DiscoveryFailed(f"{rdtype} {name}: {exc}") from None


def resolve_now(config: DiscoveryConfig) -> Resolution:
    """One resolution, blocking: for the checks that run in a thread or a command
    (``write_guard``), never in a running event loop."""
    return asyncio.run(DnsResolver(config).resolve())


def next_resolution_in(ttl: float, config: DiscoveryConfig) -> float:
    """Seconds until the next resolution: the records' TTL, within the table's bounds."""
    return min(max(ttl, config.min_ttl), config.max_ttl)


class DnsDiscovery:
    """Follows one upstream's records: ``run`` resolves, hands the addresses to ``apply``,
    sleeps for their TTL, again; what it last saw is kept for the admin view."""

    def __init__(
        self, upstream: str, config: DiscoveryConfig, *, resolver: DnsResolver | None = None
    ):
        self.upstream = upstream
        self.config = config
        self.resolver = resolver or DnsResolver(config)
        self.first_answer = asyncio.Event()  # set once the first resolution ended, either way
        self.addresses: tuple[Address, ...] = ()
        self.resolved_at: float | None = None  # wall clock of the last good answer
        self.next_at: float | None = None
        self.last_error: str | None = None

    async def run(self, apply: Callable[[Sequence[Address]], None]) -> None:
        while True:
            try:
                resolution = await self.resolver.resolve()
            except DiscoveryFailed as exc:
                DISCOVERY_RESOLUTIONS.labels(self.upstream, "failed").inc()
                if self.last_error is None:
                    logger.warning(
                        "upstream %s: DNS discovery failed (%s); keeping its %d endpoints",
                        self.upstream,
                        exc,
                        len(self.addresses),
                    )
                self.last_error = str(exc)
                delay = next_resolution_in(RETRY_SECONDS, self.config)
            else:
                DISCOVERY_RESOLUTIONS.labels(self.upstream, "ok").inc()
                if self.last_error is not None:
                    logger.info("upstream %s: DNS discovery answers again", self.upstream)
                self.last_error = None
                self.resolved_at = time.time()
                if resolution.addresses != self.addresses:
                    logger.info(
                        "upstream %s: endpoints from DNS now %s",
                        self.upstream,
                        ", ".join(a.base_url for a in resolution.addresses),
                    )
                    self.addresses = resolution.addresses
                    apply(resolution.addresses)
                delay = next_resolution_in(resolution.ttl, self.config)
            self.first_answer.set()
            self.next_at = time.time() + delay
            await asyncio.sleep(delay)
