"""The harness itself: hosts talk over the LAN, reach PostgreSQL only through their relay,
and a cut off the store looks as it would on real hosts (silent, or refused)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from tests.fleet import netns
from tests.fleet.conftest import Fleet
from tests.fleet.netns import NAMESPACE_PREFIX, REQUIRE_VARIABLE, network, require_namespaces
from tests.fleet.replicas import store_url_via
from tests.monolith.processes import wait_until

# What a host's probe is given to connect: the keepalive figures of the proxy's store
# listener (strangler/control/listen.py), so a partition is noticed as it would be there.
_PROBE = textwrap.dedent(
    """
    import json, sys, time
    import psycopg
    url, mode = sys.argv[1], sys.argv[2]
    began = time.monotonic()
    try:
        conn = psycopg.connect(url, connect_timeout=2, keepalives=1, keepalives_idle=2,
                               keepalives_interval=1, keepalives_count=3, autocommit=True)
        value = conn.execute("SELECT 1").fetchone()[0]
        if mode == "idle":
            conn.execute("LISTEN harness")
            print(json.dumps({"ready": True}), flush=True)
            began = time.monotonic()
            for _ in conn.notifies(timeout=30):
                pass
            conn.execute("SELECT 1")
        result = {"ok": value == 1}
    except psycopg.Error as exc:
        result = {"ok": False, "error": str(exc)}
    result["seconds"] = round(time.monotonic() - began, 2)
    print(json.dumps(result), flush=True)
    """
)


def _probe(fleet: Fleet, host_name: str, store_url: str) -> dict[str, object]:
    host = fleet.network.host(host_name)
    url = store_url_via(store_url, host.store_gateway)
    done = host.run([sys.executable, "-c", _PROBE, url, "once"], timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_hosts_reach_each_other_the_upstreams_and_the_store_through_their_relay(
    fleet: Fleet, store_url: str
) -> None:
    host1, host2 = fleet.hosts[0], fleet.hosts[1]
    server = subprocess.Popen(
        host1.command([sys.executable, "-m", "http.server", "--bind", host1.address, "8080"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: _get(f"http://{host1.address}:8080/") == 200,
            deadline=30,
            what="an HTTP server on host1",
        )
        fetch = (
            "import sys, urllib.request as u\n"
            "for url in sys.argv[1:]: print(u.urlopen(url, timeout=5).status)"
        )
        done = host2.run(
            [
                sys.executable,
                "-c",
                fetch,
                f"http://{host1.address}:8080/",
                fleet.monolith.url + "/from-host2",
            ]
        )
        assert done.stdout.split() == ["200", "200"], done.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [(s.path, s.host) for s in fleet.monolith.seen()] == [("/from-host2", "host2")]
    before = fleet.relays["host2"].accepted
    assert _probe(fleet, "host2", store_url)["ok"] is True
    assert fleet.relays["host2"].accepted == before + 1
    # The loopback is the host's own: the real server is not there.
    loopback = host2.run([sys.executable, "-c", _PROBE, store_url, "once"])
    assert json.loads(loopback.stdout)["ok"] is False


def test_a_partitioned_host_cannot_reach_the_store_and_is_told_nothing(
    fleet: Fleet, store_url: str
) -> None:
    host = fleet.hosts[0]
    fleet.cut_off(host, "partition")
    try:
        cut = _probe(fleet, host.name, store_url)
        # Nothing answers: the attempt waits out its whole connect timeout (2 s).
        assert cut["ok"] is False, cut
        assert "timeout" in str(cut["error"]), cut
        assert float(cut["seconds"]) >= 1.9  # type: ignore[arg-type]
        # Only the store is cut: the host still serves the LAN and reaches the upstreams.
        assert _probe(fleet, fleet.hosts[1].name, store_url)["ok"] is True
        fetch = "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=5).status)"
        assert (
            host.run([sys.executable, "-c", fetch, fleet.catalog.url + "/"]).stdout.strip() == "200"
        )
    finally:
        fleet.reconnect(host)
    assert _probe(fleet, host.name, store_url)["ok"] is True


def test_an_idle_connection_learns_of_a_partition_by_its_keepalive(
    fleet: Fleet, store_url: str
) -> None:
    host = fleet.hosts[2]
    url = store_url_via(store_url, host.store_gateway)
    with subprocess.Popen(
        host.command([sys.executable, "-c", _PROBE, url, "idle"]), stdout=subprocess.PIPE, text=True
    ) as probe:
        try:
            assert probe.stdout is not None
            assert json.loads(probe.stdout.readline()) == {"ready": True}
            fleet.cut_off(host, "partition")
            result = json.loads(probe.stdout.readline())
        finally:
            fleet.reconnect(host)
            probe.wait(timeout=30)
    # keepalives_idle 2 + 3 probes 1 s apart: about 5 s, never the 30 s of the wait.
    assert result["ok"] is False, result
    assert float(result["seconds"]) < 10, result


def test_a_refusing_store_resets_connections_and_refuses_new_ones_at_once(
    fleet: Fleet, store_url: str
) -> None:
    host = fleet.hosts[1]
    fleet.cut_off(host, "refused")
    try:
        began = time.monotonic()
        refused = _probe(fleet, host.name, store_url)
        assert refused["ok"] is False, refused
        assert "refused" in str(refused["error"]), refused
        assert time.monotonic() - began < 10
    finally:
        fleet.reconnect(host)
    assert _probe(fleet, host.name, store_url)["ok"] is True


def _get(url: str) -> int:
    try:
        return requests.get(url, timeout=1).status_code
    except requests.RequestException:
        return 0


def test_what_a_killed_run_left_is_removed_and_a_live_run_is_not_touched(fleet: Fleet) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=10)
    stale_ns = f"{NAMESPACE_PREFIX}-{dead.pid}-beef-host1"
    subprocess.run(["ip", "netns", "add", stale_ns], check=True)
    subprocess.run(["ip", "link", "add", "stfbeefbr", "type", "bridge"], check=True)
    with network(1):
        assert stale_ns not in _namespace_names()
        assert not Path("/sys/class/net/stfbeefbr").exists()
        # The module's own network (a live run) is intact.
        assert all(h.namespace in _namespace_names() for h in fleet.hosts)
        assert Path(f"/sys/class/net/{fleet.network.bridge}").exists()


def test_a_machine_that_refuses_namespaces_skips_loudly_or_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(netns.shutil, "which", lambda _name: None)
    monkeypatch.delenv(REQUIRE_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"FLEET TESTS NOT RUN.*iproute2"):
        require_namespaces()
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="STRANGLER_REQUIRE_NETNS=1: not skipped"):
        require_namespaces()


def _namespace_names() -> list[str]:
    listed = subprocess.run(
        ["ip", "-j", "netns", "list"], capture_output=True, text=True, check=True
    )
    return [entry["name"] for entry in json.loads(listed.stdout or "[]")]
