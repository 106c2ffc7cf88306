"""The control store's connections across a partition: a host whose store link goes silent
learns it within seconds, whether its connection was idle (the listener) or waiting for an
answer (a heartbeat, a read), instead of the kernel's minutes of retransmissions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from strangler.control import open_control
from tests.fleet.conftest import Fleet
from tests.fleet.replicas import store_url_via

# The store's link timeouts (strangler.control.postgres.LINK_TIMEOUTS) notice a silent peer
# in about 5 s; twice that is a connection left to the kernel's defaults.
NOTICED_WITHIN_SECONDS = 10.0

# Runs inside a host: connects, says so, waits for the cut, then times one store call.
_CALL = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from strangler.control import StoreUnavailable, open_control
    from strangler.control.listen import ChangeListener
    url, kind = sys.argv[1], sys.argv[2]

    async def listen():
        listener = ChangeListener(url)
        await listener.connect()
        print("ready", flush=True)
        sys.stdin.readline()
        began = time.monotonic()
        try:
            while time.monotonic() - began < 60:
                await listener.wait(timeout=30)
            return {"error": None, "seconds": time.monotonic() - began}
        except StoreUnavailable as exc:
            return {"error": exc.message, "seconds": time.monotonic() - began}

    def call():
        store = open_control(url)
        store.read_table()
        print("ready", flush=True)
        sys.stdin.readline()
        began = time.monotonic()
        try:
            store.read_holds()
            return {"error": None, "seconds": time.monotonic() - began}
        except StoreUnavailable as exc:
            return {"error": exc.message, "seconds": time.monotonic() - began}

    result = asyncio.run(listen()) if kind == "listen" else call()
    print(json.dumps(result), flush=True)
    """
)


@pytest.mark.parametrize("kind", ["call", "listen"])
def test_a_store_connection_learns_of_a_partition_within_seconds(
    fleet: Fleet, store_url: str, kind: str
) -> None:
    open_control(store_url).close()  # the schema, made once from here
    host = fleet.hosts[0]
    url = store_url_via(store_url, host.store_gateway)
    with subprocess.Popen(
        host.command([sys.executable, "-c", _CALL, url, kind]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as probe:
        assert probe.stdin is not None
        assert probe.stdout is not None
        try:
            assert probe.stdout.readline().strip() == "ready"
            fleet.cut_off(host, "partition")
            try:
                output, _ = probe.communicate("go\n", timeout=3 * NOTICED_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(
                    f"the {kind} still waited {3 * NOTICED_WITHIN_SECONDS:g} s into the partition"
                )
            result = json.loads(output)
        finally:
            fleet.reconnect(host)
            probe.kill()
    assert result["error"] is not None, result
    assert result["seconds"] < NOTICED_WITHIN_SECONDS, result
