"""Benchmark: how many slow clients one worker tolerates, ours against nginx, in one run.

    .venv/bin/python bench/bench_slowloris.py [--steps 0,100,250,500,1000,2000,4000]
                                              [--hold 18] [--budget 600] [--json PATH]

A slow client (slowloris) opens a connection, sends part of a request and then one more byte
every ``--interval`` seconds (2), so that a server waiting for the rest holds the connection.
Two kinds: ``head``, a request head never finished (one more header byte each time), and
``body``, a whole head with ``Content-Length: 300000`` and then the body one byte at a time.
Like a real attacker, the swarm keeps N connections: one the server closed is opened again at
its next turn (its bytes are spread over the interval, not sent in bursts).

At each N of a ramp, while N slow connections are held for ``--hold`` seconds, a normal
client (a process of its own with blocking sockets: the swarm's event loop cannot delay it)
sends ``--probes`` GETs spread over the hold, each on a new connection with ``Connection:
close``; a GET counts as answered when a 200 arrives within ``--probe-timeout`` (1 s). The
figure: the largest N at which the p99 of those GETs is under 100 ms (a GET not answered
counts as infinitely slow). A server's ramp stops after its first N over the line.

Servers, each with 1 worker and its default limits, behind them the nginx backend of
``proxy_backend.py``:

- ours: ``python -m strangler.proxy --workers 1`` with the edge's defaults
  (``strangler/proxy/edge_limits.py``:
  head within 15 s of the connection's opening, 1024 client connections per worker, the
  longest-waiting evicted at the cap; a body within 30 s between reads and 60 s in all);
- nginx with its defaults: ``worker_connections`` 512 (counting its upstream connections),
  ``client_header_timeout`` and ``client_body_timeout`` 60 s (the body's between two reads);
- nginx with ``worker_connections 1024``, ours' per-worker cap.

Only loopback addresses: the slow connections come from 127.0.0.2-127.0.0.251 (more source
ports than one address has), the probes from 127.0.0.1. Everything is bounded in time: a step
that would end past ``--budget`` seconds is skipped and reported so. It reports and never
asserts; the exit status is 2 when something is missing or did not start, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import re
import resource
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench_proxy import ensure_tools, machine, tree_cpu_seconds
from proxy_backend import (
    BENCH_PATH,
    REPO,
    BenchError,
    Servers,
    Target,
    backend_body,
    fetch,
    free_port,
    local_sockets,
    routes_yaml,
    wait_ready,
)

THRESHOLD_MS = 100.0
DEFAULT_STEPS = (0, 100, 250, 500, 1000, 2000, 4000)
# The issue's attack: a 300 KB body trickling in; below our 1 MiB buffer and nginx's 1 MiB
# client_max_body_size, so both read it whole before asking the backend.
BODY_LENGTH = 300_000
# Connections being opened at once: the open is bounded in time, not the count in flight.
CONNECTS_IN_FLIGHT = 256
CONNECT_TIMEOUT_SECONDS = 3.0
# Opening the swarm before the probes start: past this, the rest is opened during the hold
# (a full nginx lets connections wait in its accept queue, then stops completing them).
OPEN_SECONDS = 10.0
# How often the swarm looks for connections whose turn it is.
TICK_SECONDS = 0.05
# After a step, the server's side of the slow connections must be gone before the next.
DRAIN_SECONDS = 15.0
# A step's time beyond its hold: opening, draining, a server's start.
STEP_OVERHEAD_SECONDS = 4.0
# File descriptors besides the swarm's: the probes, the servers' pipes, Python's own.
SPARE_FILES = 512
SOURCE_ADDRESSES = [f"127.0.0.{n}" for n in range(2, 252)]
_CLOSED_SAMPLE = re.compile(
    r'^strangler_proxy_connections_closed_total\{reason="(?P<reason>\w+)"\} (?P<value>\S+)$'
)


# --- the slow clients --------------------------------------------------------------------


def first_bytes(kind: str, number: int) -> bytes:
    if kind == "head":
        return (
            f"GET {BENCH_PATH}?slow={number} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "User-Agent: bench-slowloris\r\nX-Slow: "
        ).encode()
    return (
        f"POST {BENCH_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench-slowloris\r\n"
        f"Content-Type: application/json\r\nContent-Length: {BODY_LENGTH}\r\n\r\n{{"
    ).encode()


class SlowConnection(asyncio.Protocol):
    """One slow client's connection; tells the swarm when the server closes it."""

    def __init__(self, swarm: Swarm) -> None:
        self.swarm = swarm
        self.transport: asyncio.Transport | None = None
        self.answer = b""
        self.closing = False  # closed by us

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if len(self.answer) < 16:
            self.answer += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closing:
            self.swarm.closed_by_server(self.answer)

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()


@dataclass
class Swarm:
    """N slow connections kept open: each sends a byte at its turn, once per interval, and
    is opened again at its turn when the server closed it."""

    port: int
    kind: str
    size: int
    interval: float
    connections: dict[int, SlowConnection] = field(default_factory=dict)
    opening: set[int] = field(default_factory=set)
    opened: int = 0
    connect_failures: int = 0
    closures: Counter[str] = field(default_factory=Counter)
    _next: int = 0  # whose turn it is
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONNECTS_IN_FLIGHT))

    def closed_by_server(self, answer: bytes) -> None:
        status = answer[9:12].decode(errors="replace") if answer.startswith(b"HTTP/") else "silent"
        self.closures[status] += 1

    @property
    def alive(self) -> int:
        return sum(1 for c in self.connections.values() if c.transport is not None)

    async def _open(self, number: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self._slots:
                source = SOURCE_ADDRESSES[number % len(SOURCE_ADDRESSES)]
                async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                    _, connection = await loop.create_connection(
                        lambda: SlowConnection(self), "127.0.0.1", self.port, local_addr=(source, 0)
                    )
        except (OSError, TimeoutError):
            self.connect_failures += 1
        else:
            assert connection.transport is not None
            connection.transport.write(first_bytes(self.kind, number))
            self.connections[number] = connection
            self.opened += 1
        finally:
            self.opening.discard(number)

    def open(self, number: int) -> None:
        self.opening.add(number)
        task = asyncio.get_running_loop().create_task(self._open(number))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def open_all(self, deadline: float) -> None:
        for number in range(self.size):
            self.open(number)
        loop = asyncio.get_running_loop()
        while self.opening and loop.time() < deadline:
            await asyncio.sleep(TICK_SECONDS)

    async def keep(self, stop: asyncio.Event) -> None:
        """Until ``stop``: each connection's byte at its turn, or its reopening."""
        if not self.size:
            await stop.wait()
            return
        per_tick = self.size * TICK_SECONDS / self.interval
        cursor = 0.0
        while not stop.is_set():
            cursor += per_tick
            while cursor >= 1:
                cursor -= 1
                self._turn()
            await asyncio.sleep(TICK_SECONDS)

    def _turn(self) -> None:
        number = self._next
        self._next = (number + 1) % self.size
        connection = self.connections.get(number)
        if connection is not None and connection.transport is not None:
            connection.transport.write(b"a" if self.kind == "head" else b" ")
        elif number not in self.opening:
            self.open(number)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in self.connections.values():
            connection.close()


# --- the normal client -------------------------------------------------------------------


def probe_once(port: int, timeout: float) -> float | None:
    """Seconds for a GET on a new connection to be answered 200 whole; None if it was not
    within ``timeout``."""
    request = f"GET {BENCH_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    started = time.monotonic()
    deadline = started + timeout
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request.encode())
            received = bytearray()
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
    except OSError:  # refused, reset, timed out
        return None
    if not received.startswith(b"HTTP/1.1 200"):
        return None
    return time.monotonic() - started


def probe(port: int, count: int, seconds: float, timeout: float) -> list[float | None]:
    """``count`` GETs spread evenly over ``seconds``."""
    spacing = seconds / count
    results: list[float | None] = []
    next_at = time.monotonic()
    for _ in range(count):
        results.append(probe_once(port, timeout))
        next_at += spacing
        if (wait := next_at - time.monotonic()) > 0:
            time.sleep(wait)  # pacing the probes, not waiting for a condition
    return results


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


# --- a step ------------------------------------------------------------------------------


@dataclass
class Step:
    server: str
    kind: str
    size: int
    p50_ms: float
    p99_ms: float  # inf when more than 1% of the GETs went unanswered
    max_ms: float
    unanswered: int
    probes: int
    opened: int  # connections the swarm opened, reopenings included
    connect_failures: int
    closed_by_server: dict[str, int]  # by the status the server sent first ("silent": none)
    alive_at_end: int
    edge_closed: dict[str, int]  # ours: the proxy's own count, by reason
    server_cpu: float  # % of one core, the server's process tree over the step
    seconds: float

    @property
    def passed(self) -> bool:
        return self.p99_ms < THRESHOLD_MS


def server_connections(port: int) -> int:
    """Connections the server on ``port`` holds (established, or closed by the peer and
    not yet by the server), from the kernel's tables."""
    return local_sockets(port, ("01", "08"))


def edge_counts(target: Target) -> Counter[str]:
    """Our proxy's count of connections closed at its edge, by reason (proxy's metrics.py)."""
    counts: Counter[str] = Counter()
    if not target.admin_url:
        return counts
    _, raw = fetch(f"{target.admin_url}/metrics")
    for line in raw.decode().splitlines():
        if match := _CLOSED_SAMPLE.match(line):
            counts[match.group("reason")] += int(float(match.group("value")))
    return counts


async def run_step(
    target: Target, kind: str, size: int, args: argparse.Namespace, prober: Executor
) -> Step:
    port = int(target.url.split(":")[2].split("/")[0])
    loop = asyncio.get_running_loop()
    started = loop.time()
    edge_before = edge_counts(target)
    cpu_before = tree_cpu_seconds(target.server.pid)
    swarm = Swarm(port, kind, size, args.interval)
    await swarm.open_all(started + OPEN_SECONDS)
    stop = asyncio.Event()
    keeper = loop.create_task(swarm.keep(stop))
    # No slow connections: the baseline, probed quickly.
    hold = args.hold if size else min(args.hold, args.probes * 0.02)
    held = loop.time()
    latencies = await loop.run_in_executor(
        prober, probe, port, args.probes, hold, args.probe_timeout
    )
    stop.set()
    await keeper
    cpu = 100 * (tree_cpu_seconds(target.server.pid) - cpu_before) / (loop.time() - started)
    held = loop.time() - held
    alive = swarm.alive
    await swarm.close()
    drained_by = loop.time() + DRAIN_SECONDS
    while server_connections(port) and loop.time() < drained_by:
        await asyncio.sleep(TICK_SECONDS)
    edge_after = edge_counts(target)
    answered = [1000 * s for s in latencies if s is not None]
    every = answered + [math.inf] * (len(latencies) - len(answered))
    step = Step(
        server=target.label,
        kind=kind,
        size=size,
        p50_ms=nearest_rank(every, 0.50),
        p99_ms=nearest_rank(every, 0.99),
        max_ms=max(every),
        unanswered=len(latencies) - len(answered),
        probes=len(latencies),
        opened=swarm.opened,
        connect_failures=swarm.connect_failures,
        closed_by_server=dict(swarm.closures),
        alive_at_end=alive,
        edge_closed={k: v - edge_before[k] for k, v in edge_after.items() if v - edge_before[k]},
        server_cpu=cpu,
        seconds=held,
    )
    print(
        f"  {kind:<4} {target.label:<22} N={size:<5} p50 {step.p50_ms:8.1f} ms  "
        f"p99 {step.p99_ms:8.1f} ms  unanswered {step.unanswered:>3}/{step.probes}  "
        f"opened {step.opened:>5}  connect failures {step.connect_failures:>5}  "
        f"closed by server {sum(step.closed_by_server.values()):>5} {step.closed_by_server}  "
        f"alive {alive}  server CPU {cpu:.0f}%  {step.seconds:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return step


# --- the run -----------------------------------------------------------------------------


@contextmanager
def enough_files(needed: int) -> Iterator[int]:
    """Raise this process's open-files limit (the servers inherit it) to ``needed``, or as
    far as the hard limit allows; yields the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if limit > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield max(limit, soft)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass(frozen=True)
class Contender:
    label: str
    worker_connections: int | None  # nginx; None: its default (512). Ours: 0


CONTENDERS = (
    Contender("ours (defaults)", 0),
    Contender("nginx (defaults, 512)", None),
    Contender("nginx (1024 connections)", 1024),
)


def start(servers: Servers, contender: Contender, name: str, monolith: int) -> Target:
    if contender.worker_connections == 0:
        return servers.ours(contender.label, name, 1, routes_yaml(monolith))
    return servers.reference(
        contender.label, 1, monolith, name=name, worker_connections=contender.worker_connections
    )


async def ramp(
    servers: Servers,
    monolith: int,
    kind: str,
    args: argparse.Namespace,
    ends: float,
    prober: Executor,
) -> list[Step | str]:
    """Every contender at each N in turn (so a drift of the machine's load touches all);
    a contender leaves the ramp after its first N over the line."""
    targets = [start(servers, c, f"{kind}-{i}", monolith) for i, c in enumerate(CONTENDERS)]
    results: list[Step | str] = []
    ramping = list(targets)
    for size in args.steps:
        for target in list(ramping):
            if time.monotonic() + args.hold + STEP_OVERHEAD_SECONDS > ends:
                results.append(f"{kind}, {target.label}, N={size}: skipped (time budget)")
                continue
            step = await run_step(target, kind, size, args, prober)
            results.append(step)
            if not step.passed and not args.keep_going:
                ramping.remove(target)
    for target in targets:
        target.server.stop()
    return results


def run_all(args: argparse.Namespace, tmp: Path) -> list[Step | str]:
    body = backend_body()
    ends = time.monotonic() + args.budget
    results: list[Step | str] = []
    with ExitStack() as stack:
        # Spawned, not forked: a fork would copy the swarm's sockets.
        spawn = multiprocessing.get_context("spawn")
        prober = stack.enter_context(ProcessPoolExecutor(1, mp_context=spawn))
        servers = Servers(tmp, stack, body, args.python)
        monolith = free_port()
        backend = servers.backend([monolith])
        wait_ready(backend, f"http://127.0.0.1:{monolith}{BENCH_PATH}", body)
        for kind in args.kinds:
            print(f"{kind}: slow connections, then GETs beside them:", file=sys.stderr)
            results += asyncio.run(ramp(servers, monolith, kind, args, ends, prober))
    return results


# --- the report --------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "none" if math.isinf(value) else f"{value:.1f}"


def report(results: list[Step | str], info: dict[str, str], args: argparse.Namespace) -> str:
    steps = [r for r in results if isinstance(r, Step)]
    lines = [
        "### Slow clients: one worker each, ours against nginx",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}, load average "
        f"{info['load_average']} at the start. Python {info['python']}, aiohttp "
        f"{info['aiohttp']}, nginx {info['nginx']}; commit {info['commit']}. At each N: N slow "
        f"connections (one byte every {args.interval:g} s each, reopened when closed) held "
        f"{args.hold:g} s while {args.probes} GETs on new connections are spread over the hold; "
        f"a GET not answered 200 within {args.probe_timeout:g} s counts as infinitely slow "
        "('none' below). 'closed' counts the slow connections the server closed, by the "
        "status it sent first; 'edge' is our proxy's own count by reason; 'opened' counts "
        "reopenings too; 'server CPU %' is over the step (100 = one core).",
        "",
        "| slow part | server | N | p50 ms | p99 ms | max ms | unanswered | opened "
        "| connect failures | closed by server | alive at end | edge (ours) | server CPU % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for s in steps:
        closed = ", ".join(f"{k}: {v}" for k, v in sorted(s.closed_by_server.items())) or "-"
        edge = ", ".join(f"{k}: {v}" for k, v in sorted(s.edge_closed.items())) or "-"
        lines.append(
            f"| {s.kind} | {s.server} | {s.size} | {_ms(s.p50_ms)} | {_ms(s.p99_ms)} "
            f"| {_ms(s.max_ms)} | {s.unanswered}/{s.probes} | {s.opened} | {s.connect_failures} "
            f"| {closed} | {s.alive_at_end} | {edge} | {s.server_cpu:.0f} |"
        )
    lines += [
        "",
        f"Largest N with the GETs' p99 under {THRESHOLD_MS:g} ms (of those tried; "
        "'>= N' when the ramp ended without a miss):",
        "",
        "| slow part | server | largest N | first N over the line |",
        "|---|---|---:|---|",
    ]
    for kind in args.kinds:
        for contender in CONTENDERS:
            mine = [s for s in steps if s.kind == kind and s.server == contender.label]
            passed = [s.size for s in mine if s.passed]
            missed = [s for s in mine if not s.passed]
            first_miss = (
                f"{missed[0].size} (p99 {_ms(missed[0].p99_ms)} ms)" if missed else "none tried"
            )
            largest = max(passed) if passed else "none"
            prefix = ">= " if not missed and passed else ""
            lines.append(f"| {kind} | {contender.label} | {prefix}{largest} | {first_miss} |")
    if skipped := [r for r in results if isinstance(r, str)]:
        lines += ["", "Not run:", "", *(f"- {s}" for s in skipped)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    venv_python = REPO / ".venv" / "bin" / "python"
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--steps",
        type=lambda text: [int(n) for n in text.split(",")],
        default=list(DEFAULT_STEPS),
        help="slow connections at each step (0,100,250,500,1000,2000,4000)",
    )
    parser.add_argument(
        "--kinds",
        type=lambda text: text.split(","),
        default=["head", "body"],
        help="which slow part: head, body or both (head,body)",
    )
    parser.add_argument("--hold", type=float, default=18.0, help="seconds per step (18)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between bytes (2)")
    parser.add_argument("--probes", type=int, default=100, help="GETs per step (100)")
    parser.add_argument("--probe-timeout", type=float, default=1.0, help="seconds (1)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds in all (600)")
    parser.add_argument(
        "--keep-going", action="store_true", help="ramp on past a server's first miss"
    )
    parser.add_argument(
        "--python",
        default=str(venv_python) if venv_python.exists() else sys.executable,
        help="the interpreter that runs `-m strangler.proxy` (default: the repo's .venv)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--no-install", action="store_true", help="fail if nginx or wrk is missing")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir: configs, logs")
    args = parser.parse_args(argv)
    if unknown := set(args.kinds) - {"head", "body"}:
        parser.error(f"--kinds: unknown {', '.join(sorted(unknown))}; say head, body or both")

    tmp = Path(tempfile.mkdtemp(prefix="bench-slowloris-"))
    try:
        ensure_tools(install=not args.no_install)
        with enough_files(max(args.steps) + CONNECTS_IN_FLIGHT + SPARE_FILES) as limit:
            if (room := limit - CONNECTS_IN_FLIGHT - SPARE_FILES) < max(args.steps):
                print(f"open-files limit {limit}: steps cut at {room}", file=sys.stderr)
                args.steps = [n for n in args.steps if n <= room]
            info = machine(args.python)
            results = run_all(args, tmp)
    except BenchError as exc:
        print(f"bench_slowloris: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"bench_slowloris: configs and logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(report(results, info, args))
    if args.json:
        steps = [asdict(r) if isinstance(r, Step) else r for r in results]
        args.json.write_text(json.dumps({"machine": info, "steps": steps}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
