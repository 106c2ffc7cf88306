"""Benchmark: a fleet of proxies on the shared control store (STRANGLER_STORE_URL).

    .venv/bin/python bench/bench_fleet_propagation.py [--replicas 3] [--changes 50]
        [--duration 10] [--rounds 2] [--server postgres://postgres@127.0.0.1:5432]

On this machine, with real processes and a real PostgreSQL (a database of its own, dropped
at the end), it measures:

1. propagation: ``--changes`` route changes, each a PATCH through one replica in turn; for
   each, the time from the change's commit in the store (``strangler_table.updated_at``) to
   each member's acknowledgement (the first row of ``strangler_replicas`` showing the new
   version: its ``seen_at``), both on the database's clock, read by polling the rows every
   few milliseconds; and the client's view: from sending the PATCH to every member's
   acknowledgement. p50, p99 and max over every (change, member);
2. the proxy's throughput with the shared store against the file store, in the same run, on
   the same backend (nginx serving a fixed body), with wrk as bench_proxy.py runs it: the
   request path never touches the store, so the ratio should be 1 within the noise;
   ``--rounds`` alternating runs, medians;
3. changes under load: wrk through one replica while the changes go through another, and
   what wrk saw fail (the target: nothing), with the propagation figures under that load.

It prints markdown tables and asserts nothing. Exit status 2: something missing or not
started.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
from bench_proxy import WARMUP_SECONDS, WrkFigures, parse_wrk, wrk
from proxy_backend import BENCH_PATH, BenchError, Servers, Target, backend_body, free_port

from strangler.servicekit.secret_settings import PROXY_ADMIN_TOKEN

# How often the store's rows are read while waiting for acknowledgements: a few ms of
# resolution, a few hundred cheap queries a second on the store.
POLL_SECONDS = 0.003
# A change not acknowledged by every member in this long is reported as missing.
ACK_DEADLINE_SECONDS = 10.0
CONCURRENCY = 50


def table_yaml(backend_port: int) -> str:
    """Everything to the monolith, under one route whose ``fallback`` the changes flip."""
    return (
        "version: 1\nlegacy: monolith\nupstreams:\n"
        f'  monolith: {{url: "http://127.0.0.1:{backend_port}"}}\n'
        f'  catalog: {{url: "http://127.0.0.1:{backend_port}"}}\n'
        "routes:\n  - {name: everything, prefix: /, owner: catalog, mode: monolith}\n"
    )


def patch(admin_url: str, fallback: bool) -> int:
    request = urllib.request.Request(
        f"{admin_url}/routes/everything",
        data=json.dumps({"fallback": fallback}).encode(),
        method="PATCH",
        headers={
            "Authorization": f"Bearer {PROXY_ADMIN_TOKEN.demo_value}",
            "Content-Type": "application/json",
            "X-Strangler-Actor": "bench",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(json.load(response)["table_version"])


@dataclass
class Propagation:
    commit_to_ack: list[float]  # seconds, every (change, member)
    client_to_all: list[float]  # seconds, every change: PATCH sent to the last member's ack
    missing: int


def measure_propagation(url: str, admins: list[str], changes: int) -> Propagation:
    commit_to_ack: list[float] = []
    client_to_all: list[float] = []
    missing = 0
    with psycopg.connect(url, autocommit=True) as conn:
        members = len(conn.execute("SELECT 1 FROM strangler_replicas").fetchall())
        for n in range(changes):
            sent = time.monotonic()
            version = patch(admins[n % len(admins)], fallback=n % 2 == 0)
            (committed,) = conn.execute(
                "SELECT updated_at FROM strangler_table WHERE version = %s", (version,)
            ).fetchone() or (None,)
            acked: dict[str, float] = {}
            deadline = sent + ACK_DEADLINE_SECONDS
            while len(acked) < members and time.monotonic() < deadline:
                for replica, seen_at in conn.execute(
                    "SELECT replica, seen_at FROM strangler_replicas WHERE table_version >= %s",
                    (version,),
                ):
                    acked.setdefault(replica, seen_at)
                if len(acked) < members:
                    time.sleep(POLL_SECONDS)
            if committed is None or len(acked) < members:
                missing += members - len(acked)
                continue
            client_to_all.append(time.monotonic() - sent)
            commit_to_ack += [max(0.0, seen - committed) for seen in acked.values()]
    return Propagation(commit_to_ack, client_to_all, missing)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def propagation_row(label: str, figures: Propagation) -> str:
    ms = [v * 1000 for v in figures.commit_to_ack]
    client = [v * 1000 for v in figures.client_to_all]
    return (
        f"| {label} | {len(ms)} | {percentile(ms, 0.5):.1f} | {percentile(ms, 0.99):.1f} | "
        f"{max(ms, default=float('nan')):.1f} | {percentile(client, 0.5):.1f} | "
        f"{percentile(client, 0.99):.1f} | {figures.missing} |"
    )


def run_wrk(target: Target, seconds: int) -> WrkFigures:
    wrk(target.url, CONCURRENCY, WARMUP_SECONDS, cpus="")
    return parse_wrk(wrk(target.url, CONCURRENCY, seconds, cpus=""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    database = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    url = f"{args.server}/{database}"
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fleet-")))
            return run(args, url, Servers(tmp, stack, backend_body(), sys.executable))
    except BenchError as exc:
        print(f"bench_fleet_propagation: {exc}", file=sys.stderr)
        return 2
    finally:
        with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(args: argparse.Namespace, url: str, servers: Servers) -> int:
    backend_port = free_port()
    servers.backend([backend_port])
    table = table_yaml(backend_port)
    fleet = [
        servers.ours(f"replica {n}", f"r{n}", 1, table,
                     env={"STRANGLER_STORE_URL": url, "PROXY_REPLICA_ID": f"r{n}"})
        for n in range(args.replicas)
    ]  # fmt: skip
    file_proxy = servers.ours("file store", "file", 1, table)
    admins = [t.admin_url for t in fleet]
    print(
        f"{args.replicas} proxy processes (1 worker each) on {url.rsplit('/', 1)[0]}/…; nginx "
        f"backend; wrk c{CONCURRENCY}, {args.duration} s, {args.rounds} rounds\n"
    )

    idle = measure_propagation(url, admins, args.changes)

    rates: dict[str, list[float]] = {"file store": [], "shared store": []}
    for _ in range(args.rounds):
        for label, target in (("file store", file_proxy), ("shared store", fleet[0])):
            figures = run_wrk(target, args.duration)
            rates[label].append(figures.requests_per_s)

    # Changes through replica 1 while wrk loads replica 0 (and the rest of the machine).
    loaded: dict[str, object] = {}
    target = fleet[0]

    def load() -> None:
        loaded["figures"] = parse_wrk(wrk(target.url, CONCURRENCY, args.duration, cpus=""))

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(1)  # wrk connected and loading before the first change
    under_load = measure_propagation(url, admins[1:] or admins, args.changes // 2)
    thread.join()
    figures = loaded["figures"]
    assert isinstance(figures, WrkFigures)

    print("| propagation | acks | commit→ack p50 ms | p99 ms | max ms | PATCH sent→all acked "
          "p50 ms | p99 ms | missing |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print(propagation_row(f"{args.changes} changes, idle", idle))
    print(propagation_row(f"{args.changes // 2} changes, replica 0 under wrk c50", under_load))
    file_rps, store_rps = (statistics.median(rates[k]) for k in ("file store", "shared store"))
    print(f"\n| {BENCH_PATH} c{CONCURRENCY}, 1 worker | req/s (median) | rounds |")
    print("|---|---|---|")
    for label, values in rates.items():
        print(f"| {label} | {statistics.median(values):.0f} | "
              f"{', '.join(f'{v:.0f}' for v in values)} |")  # fmt: skip
    print(f"\nshared store / file store: {store_rps / file_rps:.3f}")
    print(f"\nunder changes: {figures.requests} requests through replica 0 at "
          f"{figures.requests_per_s:.0f} req/s; failed: {figures.errors or 'none'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
