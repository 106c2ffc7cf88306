"""Three simulated hosts (``tests.fleet.netns``), each with a relay to the real PostgreSQL,
and the upstreams on the LAN; then, per test, a fresh store database and three proxies.

The network, relays and upstreams live for the module (seconds to build); every test gets
its own database and its own replicas, so no route change or hold leaks into the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest

from tests.fleet.loop_thread import LoopThread
from tests.fleet.netns import Host, Network, network
from tests.fleet.relay import StoreRelay
from tests.fleet.replicas import Replica, start_replicas, stop_replicas
from tests.fleet.upstreams import RecordingUpstream
from tests.postgres_server import fresh_database, server_url

HOSTS = 3
# What a store cut looks like: the network drops the host's packets silently, or the store
# resets its connections and refuses new ones (a restart, a failover).
CutOff = Literal["partition", "refused"]


@dataclass
class Fleet:
    network: Network
    loop: LoopThread
    relays: dict[str, StoreRelay]
    monolith: RecordingUpstream
    catalog: RecordingUpstream

    @property
    def hosts(self) -> list[Host]:
        return self.network.hosts

    def cut_off(self, host: Host, how: CutOff = "partition") -> None:
        """``host`` loses the store (only the store: clients and upstreams still reach it)."""
        if how == "partition":
            self.network.partition(host)
        else:
            self.loop.run(self.relays[host.name].refuse())

    def reconnect(self, host: Host) -> None:
        self.network.heal(host)
        self.loop.run(self.relays[host.name].accept())

    def table(
        self, *, mode: str = "monolith", legacy: str = "monolith", service: str = "catalog"
    ) -> str:
        """A seed table: route ``products`` moving from the ``monolith`` recorder (upstream
        ``legacy``) to the ``catalog`` recorder (upstream ``service``), in ``mode``."""
        return f"""\
legacy: {legacy}
upstreams:
  {legacy}: {{url: "{self.monolith.url}"}}
  {service}: {{url: "{self.catalog.url}", timeouts: {{connect: 1, read: 5, total: 10}}}}
routes:
  - name: products
    prefix: /api/products/
    owner: {service}
    mode: {mode}
"""


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    pg = urlsplit(server_url())
    target = (pg.hostname or "127.0.0.1", pg.port or 5432)
    with network(HOSTS) as net:
        loop = LoopThread("fleet-root-namespace")
        relays = {h.name: StoreRelay((h.store_gateway, target[1]), target) for h in net.hosts}
        monolith = RecordingUpstream("monolith", net.host_of)
        catalog = RecordingUpstream("catalog", net.host_of)
        try:
            for relay in relays.values():
                loop.run(relay.accept())
            loop.run(monolith.start(net.services_address))
            loop.run(catalog.start(net.services_address))
            yield Fleet(net, loop, relays, monolith, catalog)
        finally:
            for relay in relays.values():
                loop.run(relay.close())
            loop.run(monolith.close())
            loop.run(catalog.close())
            loop.close()


@pytest.fixture
def store_url(fleet: Fleet) -> Iterator[str]:
    """A fresh store database for the test (its URL on 127.0.0.1); every host reconnected
    and the upstreams' records forgotten first."""
    for host in fleet.hosts:
        fleet.reconnect(host)
    fleet.monolith.forget()
    fleet.catalog.forget()
    with fresh_database("fleettest") as url:
        yield url


@pytest.fixture
def run_replicas(
    fleet: Fleet, store_url: str, tmp_path: Path
) -> Iterator[Callable[..., list[Replica]]]:
    """Start a proxy on every host, seeded with ``fleet.table(**names)``."""
    started: list[Replica] = []

    def start(*, env: dict[str, str] | None = None, **names: str) -> list[Replica]:
        table = tmp_path / "seed-routes.yaml"
        table.write_text(fleet.table(**names), encoding="utf-8")
        replicas = start_replicas(
            fleet.hosts, table=table, store_url=store_url, logs=tmp_path, env=env
        )
        started.extend(replicas)
        return replicas

    yield start
    for host in fleet.hosts:  # a replica cut off would wait out its store calls to leave
        fleet.reconnect(host)
    stop_replicas(started)
