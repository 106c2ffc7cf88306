"""An upstream's entry in the route table: where its instances are, how requests spread over
them, when one is taken out.

```yaml
upstreams:
  monolith: {url: "http://127.0.0.1:8100"}                        # one instance
  catalog:
    endpoints: ["http://10.0.0.5:8200", "http://10.0.0.6:8200"]   # a fixed list
  orders:
    discovery:                              # Consul's DNS interface: SRV, one port each
      {dns: "orders.service.consul", type: SRV, nameserver: "127.0.0.1:8600"}
  payments:
    discovery:                              # a Kubernetes headless Service: A, one port
      {dns: "payments.shop.svc.cluster.local", type: A, port: 8300}
    balance: least_request
    outlier: {consecutive_failures: 5, ejection_seconds: 30, max_ejection_percent: 50}
```
Exactly one of ``url``, ``endpoints`` and ``discovery``. The rest (timeouts, the pool, the
health path) applies to each endpoint; ``strangler.proxy.endpoints`` says how one is chosen
and ejected, ``strangler.proxy.discovery`` how DNS is followed.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from strangler.proxy.route_config import StrictModel

__all__ = ["DiscoveryConfig", "OutlierConfig", "Timeouts", "UpstreamConfig", "base_url"]

_BASE_URL = re.compile(r"^https?://[^/\s?#]+/?$")
_BASE_URL_HINT = "must be a base URL like http://127.0.0.1:8100 (no path, no query)"
_NAMESERVER = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>\d+))?$")
# The DNS port when a nameserver is given without one.
DNS_PORT = 53


def base_url(value: str) -> str:
    """``value`` as a base URL (``scheme://host[:port]``, no trailing slash), or ValueError."""
    if not _BASE_URL.match(value):
        raise ValueError(_BASE_URL_HINT)
    return value.rstrip("/")


class Timeouts(StrictModel):
    # Connecting on loopback or a LAN takes well under 100 ms; 2 s means the peer is gone.
    connect: Annotated[float, Field(gt=0, le=60)] = 2.0
    # Between bytes of the answer: the slowest monolith page we know of renders in ~5 s.
    read: Annotated[float, Field(gt=0, le=3600)] = 30.0
    total: Annotated[float, Field(gt=0, le=3600)] = 60.0


class DiscoveryConfig(StrictModel):
    """Instances from DNS: A records (a Kubernetes headless Service: every ready pod's
    address, one port for all) or SRV records (Consul's DNS interface,
    ``<service>.service.consul``: each healthy instance's host and port)."""

    dns: Annotated[str, Field(min_length=1, max_length=253)]
    type: Literal["A", "SRV"]
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # type A only: SRV names its own
    scheme: Literal["http", "https"] = "http"
    # "host:port" ("[::1]:53" for IPv6); unset: the system's resolvers (/etc/resolv.conf).
    nameserver: str | None = None
    # Re-resolved when the answer's TTL runs out, within these bounds: Consul answers with
    # TTL 0 unless told otherwise, and one small query a second per worker is cheap; an
    # answer cached for hours would miss every scale-up and deploy in between.
    min_ttl: Annotated[float, Field(ge=0.1, le=3600)] = 1.0
    max_ttl: Annotated[float, Field(ge=0.1, le=86_400)] = 300.0

    @field_validator("dns")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$", value):
            raise ValueError(f"{value!r} is not a DNS name")
        return value

    @field_validator("nameserver")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            nameserver_address(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DiscoveryConfig:
        if self.type == "A" and self.port is None:
            raise ValueError("field 'port': required with type A (the port every address serves)")
        if self.type == "SRV" and self.port is not None:
            raise ValueError("field 'port': only with type A (SRV records name each port)")
        if self.min_ttl > self.max_ttl:
            raise ValueError("field 'min_ttl': larger than max_ttl")
        return self


def nameserver_address(value: str) -> tuple[str, int]:
    """``"host:port"`` (the host an IP address, IPv6 in brackets) as ``(host, port)``."""
    match = _NAMESERVER.match(value)
    host = (match["v6"] or match["host"]) if match else ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an address like 127.0.0.1:8600 (an IP address, then a port)"
        ) from None
    assert match is not None
    port = int(match["port"]) if match["port"] else DNS_PORT
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r}: the port must be 1-65535")
    return host, port


class OutlierConfig(StrictModel):
    """Passive ejection: an endpoint failing ``consecutive_failures`` requests in a row (no
    connection, a timeout, a broken answer, a 5xx) is taken out for ``ejection_seconds``,
    twice as long each time it is ejected again soon after, up to ``max_ejection_seconds``."""

    # Envoy's default (consecutive_5xx: 5): past a restart's blip, short of many failures.
    consecutive_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    # Envoy's base_ejection_time is 30 s and its max_ejection_time 300 s.
    ejection_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    max_ejection_seconds: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    # At most half the endpoints out at once: a fault of the caller's (a bad deploy of the
    # proxy, a shared database down) must not eject them all. 0 turns ejection off.
    max_ejection_percent: Annotated[int, Field(ge=0, le=100)] = 50

    @model_validator(mode="after")
    def _consistent(self) -> OutlierConfig:
        if self.ejection_seconds > self.max_ejection_seconds:
            raise ValueError("field 'ejection_seconds': larger than max_ejection_seconds")
        return self


class UpstreamConfig(StrictModel):
    url: str | None = None
    endpoints: list[str] | None = None
    discovery: DiscoveryConfig | None = None
    # Power of two random choices on outstanding requests (strangler.proxy.endpoints): the
    # one policy; the field is there so a table says what it relies on.
    balance: Literal["least_request"] = "least_request"
    outlier: OutlierConfig = OutlierConfig()
    health_path: str = "/healthz"
    # Keep-alive connections per endpoint and worker; 100 covers a concurrency of 100
    # without queueing inside the proxy.
    pool_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    timeouts: Timeouts = Timeouts()
    # A scratch copy whose writes nobody reads and no sync carries (a dry-run deployment of
    # a service): the only kind of target a shadowed write may go to.
    sandbox: bool = False

    @field_validator("url")
    @classmethod
    def _http_base_url(cls, value: str | None) -> str | None:
        return None if value is None else base_url(value)

    @field_validator("endpoints")
    @classmethod
    def _base_urls(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one base URL")
        urls: list[str] = []
        for index, url in enumerate(value):
            try:
                urls.append(base_url(url))
            except ValueError as exc:
                raise ValueError(f"[{index}] {url!r} {exc}") from None
            if urls[-1] in urls[:-1]:
                raise ValueError(f"[{index}] {url!r} is named twice")
        return urls

    @field_validator("health_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> UpstreamConfig:
        given = [f for f in ("url", "endpoints", "discovery") if getattr(self, f) is not None]
        if len(given) != 1:
            found = f"found {' and '.join(repr(f) for f in given)}" if given else "found none"
            raise ValueError(
                f"field '{given[-1] if given else 'url'}': give exactly one of 'url', "
                f"'endpoints' and 'discovery' ({found})"
            )
        return self

    @property
    def static_urls(self) -> list[str]:
        """The base URLs the table names (``url`` or ``endpoints``); none for discovery."""
        if self.url is not None:
            return [self.url]
        return list(self.endpoints or ())

    @property
    def source(self) -> str:
        """Where the endpoints come from, for people: a URL, a list, a DNS name."""
        if self.discovery is not None:
            return f"dns {self.discovery.type} {self.discovery.dns}"
        return ", ".join(self.static_urls)
