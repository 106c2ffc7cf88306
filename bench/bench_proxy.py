"""Benchmark: the strangler proxy against nginx ``proxy_pass``, both in one run on this machine.

    .venv/bin/python bench/bench_proxy.py [--duration 10] [--rounds 1] [--json PATH] [--profile]

wrk measures one path through: the backend directly (the baseline), nginx as a reverse proxy
(the reference: keep-alive upstream, access log off) and our proxy (``python -m strangler.proxy``,
access log off), with 1 worker each at concurrency 1 and 50; aiohttp's low-level server
alone, and two client fetch loops alone (aiohttp's, and the proxy's own upstream client):
the floor of the proxy's design; both proxies with 2 workers at concurrency 50;
then our proxy in shadow mode, off and on, at concurrency 1 and 50. The servers, their
configurations and processes are in ``proxy_backend.py``; ``bench/README.md`` says how to
read the figures.

It prints markdown tables with every figure and the ratios ours / nginx, and with ``--json``
writes the same figures to a file. It reports and never asserts: the targets print PASS or
MISS; the exit status is 2 when something is missing or did not start, 1 when wrk saw
errors, else 0. Each row carries the CPU that the server under test, the backend, wrk, the
rest of the machine and the hypervisor took, so a noisy run shows itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import pstats
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

from proxy_backend import (
    AIOHTTP_CLIENT_ALONE,
    BENCH_PATH,
    LEAN_CLIENT_ALONE,
    REPO,
    BenchError,
    Servers,
    Service,
    Target,
    backend_body,
    fetch,
    free_port,
    routes_yaml,
    wait_ready,
)

INSTALL_COMMAND = "apt-get update && apt-get install -y nginx-light wrk"

# The proxy's targets: a worker of ours serves at least a quarter of what an nginx worker
# does, and adds under 0.3 ms to the median at concurrency 1.
TARGET_THROUGHPUT_SHARE = 0.25
TARGET_ADDED_P50_MS = 0.3

# Fills the keep-alive pools and warms the code paths before each timed run.
WARMUP_SECONDS = 2
# wrk ends on its own at its duration; this much later it is hung.
WRK_GRACE_SECONDS = 30
# Other processes using more than this share of a core during a run make its figures
# suspect (the machine has 2 cores, shared by wrk, the backend and the proxy).
NOISY_OTHER_CPU_PERCENT = 10.0
# Writing the profile of a 10 s run takes well under a second.
PROFILE_WRITE_SECONDS = 20.0
_TICK = os.sysconf("SC_CLK_TCK")
_SHADOW_SAMPLE = re.compile(
    r'^strangler_proxy_shadow_total\{[^}]*outcome="(?P<outcome>\w+)"[^}]*\} (?P<value>\S+)$'
)


# --- CPU accounting ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pinning:
    """Where each side runs in a c50 run (CPU lists for ``taskset -c``; empty: anywhere). The
    load (wrk, the backend) stays off the CPU of a 1-worker server under test, so that the row
    measures one worker with a core of its own: pinned, nginx's worker used 89% of its core at
    c50 here; unpinned, 78%, sharing it with wrk. c1 runs are not pinned: there, each hop
    between CPUs costs a wake-up across virtual CPUs (nginx's added p50 doubled here, 0.08
    to 0.16 ms) that would be charged to the proxy. With 2 CPUs, 2 workers can only share."""

    load: str = ""
    one_worker: str = ""
    two_workers: str = ""

    @classmethod
    def for_this_machine(cls, *, enabled: bool) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if not enabled or len(cpus) < 2:
            return cls()
        two = f"{cpus[1]},{cpus[2]}" if len(cpus) >= 3 else ""
        return cls(load=str(cpus[0]), one_worker=str(cpus[1]), two_workers=two)

    def server(self, workers: int) -> str:
        return self.one_worker if workers == 1 else self.two_workers

    def describe(self) -> str:
        if not self.load:
            return "no CPU pinning"
        two = f"CPUs {self.two_workers}" if self.two_workers else "not pinned (no spare CPUs)"
        return (
            f"at c50, wrk and the backend pinned to CPU {self.load}, a 1-worker server under "
            f"test to CPU {self.one_worker}, 2 workers {two}; at c1 nothing pinned"
        )


def pinned(cpus: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpus, *argv] if cpus else argv


def _tree(root: int) -> dict[int, float]:
    """``root`` and its descendants (nginx's workers, our proxy's), each with its user +
    system CPU seconds so far."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK
    tree, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        tree[pid] = cpu.get(pid, 0.0)
        frontier.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def tree_cpu_seconds(root: int) -> float:
    return sum(_tree(root).values())


def place(root: int, cpus: str) -> None:
    """Move every thread of ``root``'s process tree to ``cpus`` (empty: all of them)."""
    allowed = {int(c) for c in cpus.split(",")} if cpus else os.sched_getaffinity(0)
    for pid in _tree(root):
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for thread in threads:
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(int(thread), allowed)


def machine_cpu_seconds() -> tuple[float, float]:
    """The whole machine's busy CPU (user, nice, system) and its steal: time the hypervisor
    gave our virtual CPUs to someone else."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[0:3]) / _TICK, fields[7] / _TICK


def children_cpu_seconds() -> float:
    """CPU of the waited-for children of this script: the wrk runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- wrk ---------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise BenchError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass(frozen=True)
class WrkFigures:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str


def parse_wrk(output: str) -> WrkFigures:
    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise BenchError(f"wrk printed no {pattern!r}:\n{output}")
        return match.group(1)

    errors = []
    if socket_errors := re.search(r"Socket errors: (.*)$", output, re.MULTILINE):
        errors.append(f"socket errors: {socket_errors.group(1)}")
    if non_2xx := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors.append(f"{non_2xx.group(1)} non-2xx/3xx answers")
    return WrkFigures(
        requests_per_s=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        errors="; ".join(errors),
    )


def wrk(url: str, concurrency: int, seconds: int, *, cpus: str, script: Path | None = None) -> str:
    """wrk's output; ``script`` is a Lua script for it (a method and body other than GET)."""
    threads = 1 if concurrency == 1 else 2
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--latency", url]
    if script is not None:
        argv[1:1] = ["-s", str(script)]
    argv = pinned(cpus, argv)
    timeout = seconds + WRK_GRACE_SECONDS
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


@dataclass
class Run:
    """One timed wrk run against one target. CPU figures are in % of one core."""

    label: str
    kind: str
    workers: int
    concurrency: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str
    server_cpu: float  # the server under test (the backend itself for "direct")
    backend_cpu: float
    wrk_cpu: float
    other_cpu: float  # the rest of the machine: other people's work, the kernel's
    steal_cpu: float  # taken by the hypervisor, all CPUs together
    warmup_requests: int = 0
    shadow: dict[str, int] | None = None
    rounds: int = 1
    requests_per_s_range: tuple[float, float] = (0.0, 0.0)

    @property
    def requests_per_cpu_second(self) -> float:
        return self.requests_per_s / (self.server_cpu / 100) if self.server_cpu else 0.0


def median_of(rounds: list[Run]) -> Run:
    """One row for the same run repeated on fresh servers: medians; counts summed; the
    noise columns at their worst."""
    first = rounds[0]
    if len(rounds) == 1:
        return first

    def median(attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in rounds))

    shadow: dict[str, int] | None = None
    if first.shadow is not None:
        shadow = {}
        for run in rounds:
            for outcome, count in (run.shadow or {}).items():
                shadow[outcome] = shadow.get(outcome, 0) + count
    rates = [r.requests_per_s for r in rounds]
    return replace(
        first,
        requests_per_s=median("requests_per_s"),
        p50_ms=median("p50_ms"),
        p99_ms=median("p99_ms"),
        requests=sum(r.requests for r in rounds),
        errors="; ".join(r.errors for r in rounds if r.errors),
        server_cpu=median("server_cpu"),
        backend_cpu=median("backend_cpu"),
        wrk_cpu=median("wrk_cpu"),
        other_cpu=max(r.other_cpu for r in rounds),
        steal_cpu=max(r.steal_cpu for r in rounds),
        warmup_requests=sum(r.warmup_requests for r in rounds),
        shadow=shadow,
        rounds=len(rounds),
        requests_per_s_range=(min(rates), max(rates)),
    )


def shadow_counts(target: Target) -> dict[str, int]:
    """Shadow outcomes so far, from the proxy's Prometheus counter (strangler/proxy/metrics.py)."""
    _, raw = fetch(f"{target.admin_url}/metrics")
    counts: dict[str, int] = {}
    for line in raw.decode().splitlines():
        if match := _SHADOW_SAMPLE.match(line):
            outcome = match.group("outcome")
            counts[outcome] = counts.get(outcome, 0) + int(float(match.group("value")))
    return counts


def measure(
    target: Target,
    concurrency: int,
    seconds: int,
    backend: Service,
    pinning: Pinning,
    *,
    script: Path | None = None,
    warmup_seconds: int = WARMUP_SECONDS,
) -> Run:
    pinned_run = concurrency > 1
    cpus = pinning.load if pinned_run else ""
    place(backend.pid, cpus)
    if target.server is not backend:
        place(target.server.pid, pinning.server(target.workers) if pinned_run else "")
    warmup = parse_wrk(wrk(target.url, concurrency, warmup_seconds, cpus=cpus, script=script))
    shadow_before = shadow_counts(target) if target.admin_url else None
    server, back = tree_cpu_seconds(target.server.pid), tree_cpu_seconds(backend.pid)
    wrk_cpu, (busy, steal), started = (
        children_cpu_seconds(),
        machine_cpu_seconds(),
        time.monotonic(),
    )
    figures = parse_wrk(wrk(target.url, concurrency, seconds, cpus=cpus, script=script))
    wall = time.monotonic() - started
    server = tree_cpu_seconds(target.server.pid) - server
    back = tree_cpu_seconds(backend.pid) - back
    wrk_cpu = children_cpu_seconds() - wrk_cpu
    ours = wrk_cpu + server + (back if target.server is not backend else 0.0)
    busy_after, steal_after = machine_cpu_seconds()
    other = max(busy_after - busy - ours, 0.0)
    shadow = None
    if shadow_before is not None:
        after = shadow_counts(target)
        shadow = {k: after.get(k, 0) - shadow_before.get(k, 0) for k in after}
    run = Run(
        target.label, target.kind, target.workers, concurrency,
        figures.requests_per_s, figures.p50_ms, figures.p99_ms, figures.requests, figures.errors,
        server_cpu=100 * server / wall, backend_cpu=100 * back / wall,
        wrk_cpu=100 * wrk_cpu / wall, other_cpu=100 * other / wall,
        steal_cpu=100 * (steal_after - steal) / wall, warmup_requests=warmup.requests,
        shadow=shadow, requests_per_s_range=(figures.requests_per_s, figures.requests_per_s),
    )  # fmt: skip
    print(
        f"  {run.label:<18} {run.workers}w c{concurrency:<3} {run.requests_per_s:>8.0f} req/s"
        f"  p50 {run.p50_ms:7.3f} ms  p99 {run.p99_ms:7.3f} ms  server cpu {run.server_cpu:3.0f}%"
        f"  other cpu {run.other_cpu:3.0f}%  steal {run.steal_cpu:3.0f}%"
        + (f"  ERRORS: {run.errors}" if run.errors else ""),
        file=sys.stderr,
        flush=True,
    )
    return run


def client_loop(
    python: str, script: str, label: str, url: str, seconds: int, *, cpus: str
) -> dict[str, float]:
    """A client library fetching ``url`` at concurrency 50 in a loop: its CPU per request."""
    argv = pinned(cpus, [python, "-c", script, url, str(seconds), "50"])
    timeout = seconds + WRK_GRACE_SECONDS
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO
    )
    if done.returncode != 0:
        raise BenchError(f"the {label} loop failed ({done.returncode}):\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    result = {
        "requests_per_s": figures["requests"] / figures["wall_s"],
        "cpu_us_per_request": 1e6 * figures["cpu_s"] / figures["requests"],
    }
    print(
        f"  {label:<20} c50 {result['requests_per_s']:>8.0f} req/s"
        f"  {result['cpu_us_per_request']:.0f} us CPU per request",
        file=sys.stderr,
    )
    return result


# --- the run -----------------------------------------------------------------------------


def ensure_tools(install: bool) -> None:
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None]
    if not missing:
        return
    if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BenchError(f"{' and '.join(missing)} missing; install with:\n  {INSTALL_COMMAND}")
    print(f"{' and '.join(missing)} missing; running: {INSTALL_COMMAND}", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "nginx-light", "wrk"]):
        if subprocess.run(argv, env=env, check=False).returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed; install by hand:\n  {INSTALL_COMMAND}")
    if still := [tool for tool in missing if shutil.which(tool) is None]:
        raise BenchError(f"still missing after the install: {', '.join(still)}")


@dataclass
class Results:
    runs: list[Run]
    client_alone: dict[str, float]  # aiohttp's client
    lean_alone: dict[str, float]  # ours (strangler/proxy/upstream_client.py)
    pinning: str
    profiled: Run | None = None


def run_all(args: argparse.Namespace, tmp: Path) -> tuple[Results, Path]:
    seconds, body = args.duration, backend_body()
    pinning = Pinning.for_this_machine(enabled=not args.no_pin)
    raw: list[Run] = []
    clients: list[dict[str, float]] = []
    leans: list[dict[str, float]] = []
    with ExitStack() as stack:
        servers = Servers(tmp, stack, body, args.python)
        monolith, catalog = free_port(), free_port()
        backend = servers.backend([monolith, catalog])
        direct_url = f"http://127.0.0.1:{monolith}{BENCH_PATH}"
        wait_ready(backend, direct_url, body)
        wait_ready(backend, f"http://127.0.0.1:{catalog}{BENCH_PATH}", body)
        direct = Target("direct", "direct", 1, direct_url, backend)
        plain = routes_yaml(monolith)
        shadow_table = partial(routes_yaml, monolith, catalog_port=catalog)
        print(f"{pinning.describe()}.", file=sys.stderr)

        def run(target: Target, concurrency: int) -> Run:
            return measure(target, concurrency, seconds, backend, pinning)

        for number in range(1, args.rounds + 1):
            # Each round starts its servers afresh: a process's luck (where its memory and
            # threads landed) is part of what the rounds average out.
            print(f"round {number} of {args.rounds}; 1 worker, c1 and c50:", file=sys.stderr)
            nginx = servers.reference("nginx", 1, monolith)
            ours = servers.ours("ours", f"ours-1-{number}", 1, plain)
            raw += [run(t, c) for c in (1, 50) for t in (direct, nginx, ours)]
            nginx.server.stop()
            ours.server.stop()

            print("aiohttp's server and the clients alone, the design's floor:", file=sys.stderr)
            alone = servers.aiohttp_alone()
            raw += [run(alone, c) for c in (1, 50)]
            alone.server.stop()
            alone_args = (direct_url, seconds)
            clients.append(
                client_loop(args.python, AIOHTTP_CLIENT_ALONE, "aiohttp client alone",
                             *alone_args, cpus=pinning.one_worker)
            )  # fmt: skip
            leans.append(
                client_loop(args.python, LEAN_CLIENT_ALONE, "our client alone",
                             *alone_args, cpus=pinning.one_worker)
            )  # fmt: skip

            print("2 workers each, c50:", file=sys.stderr)
            nginx = servers.reference("nginx", 2, monolith)
            ours = servers.ours("ours", f"ours-2-{number}", 2, plain)
            raw += [run(t, 50) for t in (nginx, ours)]
            nginx.server.stop()
            ours.server.stop()

            print("shadow mode, our proxy with 1 worker:", file=sys.stderr)
            off = servers.ours(
                "ours, shadow off", f"ours-shadow-off-{number}", 1, shadow_table(shadow_rate=0)
            )
            on = servers.ours(
                "ours, shadow on", f"ours-shadow-on-{number}", 1, shadow_table(shadow_rate=1.0)
            )
            raw += [run(t, c) for c in (1, 50) for t in (off, on)]
            off.server.stop()
            on.server.stop()

        profile, profiled_run = tmp / "ours.prof", None
        if args.profile:
            print("our proxy under cProfile, 1 worker, c50:", file=sys.stderr)
            profiled = servers.ours("ours, cProfile", "ours-cprofile", 1, plain, profile=profile)
            os.kill(profiled.server.pid, signal.SIGUSR1)
            profiled_run = run(profiled, 50)
            os.kill(profiled.server.pid, signal.SIGUSR2)
            deadline = time.monotonic() + PROFILE_WRITE_SECONDS
            while not profile.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not profile.exists():
                raise profiled.server.failure("wrote no profile")
            profiled.server.stop()

    groups: dict[tuple[str, int, int], list[Run]] = {}
    for one in raw:
        groups.setdefault((one.label, one.workers, one.concurrency), []).append(one)
    client_alone = {k: statistics.median(c[k] for c in clients) for k in clients[0]}
    lean_alone = {k: statistics.median(c[k] for c in leans) for k in leans[0]}
    runs = [median_of(rounds) for rounds in groups.values()]
    return Results(runs, client_alone, lean_alone, pinning.describe(), profiled_run), profile


# --- the report --------------------------------------------------------------------------


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def machine(python: str) -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    probe = "import sys, aiohttp; print(sys.version.split()[0], aiohttp.__version__)"
    py_version, _, aiohttp_version = _first_line([python, "-c", probe]).partition(" ")
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model.group(1) if model else "unknown",
        "kernel": platform.release(),
        "python": py_version,
        "aiohttp": aiohttp_version,
        "nginx": _first_line(["nginx", "-v"]).removeprefix("nginx version: nginx/"),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0].removeprefix("wrk "),
        "commit": _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "load_average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def _pick(runs: list[Run], label: str, workers: int, concurrency: int) -> Run:
    return next(
        r for r in runs if (r.label, r.workers, r.concurrency) == (label, workers, concurrency)
    )


def _ratio(ours: float, reference: float) -> str:
    return f"{ours / reference:.2f}" if reference else "n/a"


def runs_table(runs: list[Run]) -> list[str]:
    direct = {r.concurrency: r for r in runs if r.kind == "direct"}
    lines = [
        "| run | workers | conc. | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms "
        "| server CPU % | req per CPU-s | backend CPU % | wrk CPU % | other CPU % | steal % "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        base = direct[run.concurrency] if run.kind in ("nginx", "ours") else None
        added50 = f"{run.p50_ms - base.p50_ms:.3f}" if base else ""
        added99 = f"{run.p99_ms - base.p99_ms:.3f}" if base else ""
        low, high = run.requests_per_s_range
        spread = f" ({low:.0f}-{high:.0f})" if run.rounds > 1 else ""
        lines.append(
            f"| {run.label} | {run.workers} | {run.concurrency} | {run.requests_per_s:.0f}{spread} "
            f"| {run.p50_ms:.3f} | {run.p99_ms:.3f} | {added50} | {added99} "
            f"| {run.server_cpu:.0f} | {run.requests_per_cpu_second:.0f} | {run.backend_cpu:.0f} "
            f"| {run.wrk_cpu:.0f} | {run.other_cpu:.0f} | {run.steal_cpu:.0f} "
            f"| {run.errors or '-'} |"
        )
    return lines


def comparisons(runs: list[Run]) -> list[tuple[str, float, float, int]]:
    """(what, ours, nginx, decimals) for the ratio table."""
    rows: list[tuple[str, float, float, int]] = []
    for workers, c in ((1, 1), (1, 50), (2, 50)):
        ours, nginx = _pick(runs, "ours", workers, c), _pick(runs, "nginx", workers, c)
        rows.append((f"req/s, {workers}w c{c}", ours.requests_per_s, nginx.requests_per_s, 0))
    for workers, c in ((1, 50), (2, 50)):
        ours, nginx = _pick(runs, "ours", workers, c), _pick(runs, "nginx", workers, c)
        what = f"req per CPU-second, {workers}w c{c}"
        rows.append((what, ours.requests_per_cpu_second, nginx.requests_per_cpu_second, 0))
    for c in (1, 50):
        direct = _pick(runs, "direct", 1, c)
        ours, nginx = _pick(runs, "ours", 1, c), _pick(runs, "nginx", 1, c)
        rows.append(
            (f"added p50 ms, 1w c{c}", ours.p50_ms - direct.p50_ms, nginx.p50_ms - direct.p50_ms, 3)
        )
        rows.append(
            (f"added p99 ms, 1w c{c}", ours.p99_ms - direct.p99_ms, nginx.p99_ms - direct.p99_ms, 3)
        )
    return rows


def shadow_table(runs: list[Run]) -> tuple[list[str], dict[str, object]]:
    lines = [
        "| conc. | p50 off | p50 on | delta p50 ms | p99 off | p99 on | delta p99 ms "
        "| req/s off | req/s on | CPU % off | CPU % on "
        "| copies: match / mismatch / dropped / error |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    data: dict[str, object] = {}
    for c in (1, 50):
        off, on = _pick(runs, "ours, shadow off", 1, c), _pick(runs, "ours, shadow on", 1, c)
        copies = on.shadow or {}
        data[f"c{c}"] = {
            "p50_delta_ms": on.p50_ms - off.p50_ms,
            "p99_delta_ms": on.p99_ms - off.p99_ms,
            "copies": copies,
        }
        lines.append(
            f"| {c} | {off.p50_ms:.3f} | {on.p50_ms:.3f} | {on.p50_ms - off.p50_ms:.3f} "
            f"| {off.p99_ms:.3f} | {on.p99_ms:.3f} | {on.p99_ms - off.p99_ms:.3f} "
            f"| {off.requests_per_s:.0f} | {on.requests_per_s:.0f} "
            f"| {off.server_cpu:.0f} | {on.server_cpu:.0f} "
            f"| {copies.get('match', 0)} / {copies.get('mismatch', 0)} / "
            f"{copies.get('dropped', 0)} / {copies.get('error', 0)} of {on.requests} |"
        )
    return lines, data


def cost_table(
    runs: list[Run], client_alone: dict[str, float], lean_alone: dict[str, float]
) -> tuple[list[str], float]:
    """CPU per request at c50, 1 worker; returns the lines and the floor's share of nginx."""
    nginx, ours = _pick(runs, "nginx", 1, 50), _pick(runs, "ours", 1, 50)
    server_us = 1e6 / _pick(runs, "aiohttp alone", 1, 50).requests_per_cpu_second
    lean_us = lean_alone["cpu_us_per_request"]
    costs = [
        ("nginx proxy_pass", 1e6 / nginx.requests_per_cpu_second),
        ("ours", 1e6 / ours.requests_per_cpu_second),
        ("aiohttp's low-level server alone (answers itself)", server_us),
        ("aiohttp's client alone (a fetch loop; what the proxy used before)",
         client_alone["cpu_us_per_request"]),
        ("our upstream client alone (a fetch loop, strangler/proxy/upstream_client.py)", lean_us),
        ("aiohttp server + our client: the floor of this design", server_us + lean_us),
    ]  # fmt: skip
    nginx_us = costs[0][1]
    lines = [
        "| CPU per request, 1 worker, c50 | us | req per CPU-second | nginx's us / this |",
        "|---|---:|---:|---:|",
        *(f"| {what} | {us:.0f} | {1e6 / us:.0f} | {nginx_us / us:.2f} |" for what, us in costs),
    ]
    return lines, nginx_us / (server_us + lean_us)


def report(results: Results, info: dict[str, str], seconds: int) -> tuple[str, dict[str, object]]:
    runs = results.runs
    rows = comparisons(runs)
    shadow_lines, shadow_data = shadow_table(runs)
    cost_lines, floor_share = cost_table(runs, results.client_alone, results.lean_alone)
    nginx1, ours1 = _pick(runs, "nginx", 1, 50), _pick(runs, "ours", 1, 50)
    nginx2, ours2 = _pick(runs, "nginx", 2, 50), _pick(runs, "ours", 2, 50)
    share1 = ours1.requests_per_s / nginx1.requests_per_s
    share2 = ours2.requests_per_s / nginx2.requests_per_s
    added = _pick(runs, "ours", 1, 1).p50_ms - _pick(runs, "direct", 1, 1).p50_ms
    added_nginx = _pick(runs, "nginx", 1, 1).p50_ms - _pick(runs, "direct", 1, 1).p50_ms
    verdict = {True: "PASS", False: "MISS"}
    noisy = max(r.other_cpu + r.steal_cpu for r in runs)

    lines = [
        "### Proxy benchmark: ours vs nginx proxy_pass",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Linux {info['kernel']}, load average "
        f"{info['load_average']} at the start. Python {info['python']}, aiohttp "
        f"{info['aiohttp']}, nginx {info['nginx']}, wrk {info['wrk']}; commit {info['commit']}. "
        f"Each run: wrk --latency for {seconds} s after a {WARMUP_SECONDS} s warm-up "
        f"(-t1 -c1, or -t2 -c50), GET {BENCH_PATH} answered by the nginx backend with "
        f"{len(backend_body())} B of JSON. CPUs: {results.pinning}. "
        f"Rows: medians of {max(r.rounds for r in runs)} round(s), each on servers started "
        "afresh (req/s min-max in brackets when more than one). "
        "Added = this row minus the direct row at the same concurrency. 'aiohttp alone' is "
        "aiohttp's low-level server answering the same body itself, with no upstream.",
        "",
        *runs_table(runs),
        "",
        "| ours vs nginx | ours | nginx | ours / nginx |",
        "|---|---:|---:|---:|",
        *(f"| {what} | {o:.{d}f} | {n:.{d}f} | {_ratio(o, n)} |" for what, o, n, d in rows),
        "",
        *cost_lines,
        "",
        "Shadow mode (our proxy, 1 worker): one catch-all route (prefix `/`) owned by `catalog` "
        "in mode `shadow` with sample_rate 0 (off) or 1.0 (on); the monolith answers, the "
        "catalog backend gets the copies.",
        "",
        *shadow_lines,
        "",
        "Targets (reported, not enforced):",
        "",
        f"- {verdict[share1 >= TARGET_THROUGHPUT_SHARE]}: per worker, ours >= "
        f"{TARGET_THROUGHPUT_SHARE:.0%} of nginx's req/s at c50: {share1:.1%} with 1 worker; "
        f"{share2:.1%} with 2 ({verdict[share2 >= TARGET_THROUGHPUT_SHARE]}). For scale: "
        f"aiohttp's server and our upstream client alone, with none of the proxy's logic, come "
        f"to {floor_share:.1%} "
        "of nginx per CPU-second.",
        f"- {verdict[added < TARGET_ADDED_P50_MS]}: ours adds < {TARGET_ADDED_P50_MS} ms to p50 "
        f"at c1: {added:.3f} ms (nginx adds {added_nginx:.3f} ms).",
    ]
    if noisy > NOISY_OTHER_CPU_PERCENT:
        lines += [
            "",
            f"Warning: other processes or the hypervisor took up to {noisy:.0f}% of a core "
            "during a run (columns 'other CPU %' and 'steal %'); those rows are noisy. Run "
            "again on a quiet machine.",
        ]
    data: dict[str, object] = {
        "machine": info,
        "settings": {
            "duration_s": seconds,
            "warmup_s": WARMUP_SECONDS,
            "path": BENCH_PATH,
            "pinning": results.pinning,
        },
        "runs": [asdict(r) | {"requests_per_cpu_second": r.requests_per_cpu_second} for r in runs],
        "ours_vs_nginx": {what: {"ours": o, "nginx": n} for what, o, n, _ in rows},
        "aiohttp_client_alone": results.client_alone,
        "our_client_alone": results.lean_alone,
        "shadow": shadow_data,
        "targets": {
            "throughput_share_1_worker": {"value": share1, "target": TARGET_THROUGHPUT_SHARE},
            "throughput_share_2_workers": {"value": share2, "target": TARGET_THROUGHPUT_SHARE},
            "added_p50_ms_c1": {"value": added, "target": TARGET_ADDED_P50_MS},
            "aiohttp_floor_share_per_cpu_second": {"value": floor_share},
        },
    }
    return "\n".join(lines), data


def _where(filename: str, line: int, function: str) -> str:
    where = re.sub(r".*/(site-packages|lib/python3\.\d+)/", "", filename)
    return f"{where.replace(f'{REPO}/', '')}:{line}({function})"


def profile_tables(path: Path, requests: int, top: int) -> list[str]:
    """Where a request's CPU goes: functions by own time, then our request path by
    cumulative time. Coroutines count a call per resumption."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = [
        (own, cumulative, calls, _where(*key))
        for key, (_, calls, own, cumulative, _) in stats.items()
    ]
    total = sum(own for own, *_ in rows)
    per_request = 1e6 / requests
    lines = [
        f"Time per request in the profiled code: {total * per_request:.0f} us "
        f"({requests} requests). By own time:",
        "",
        "| own us/req | own % | cumulative us/req | calls/req | function |",
        "|---:|---:|---:|---:|---|",
    ]
    rows.sort(reverse=True)
    for own, cumulative, calls, where in rows[:top]:
        lines.append(
            f"| {own * per_request:.1f} | {100 * own / total:.1f} "
            f"| {cumulative * per_request:.1f} | {calls / requests:.2f} | `{where}` |"
        )
    lines += [
        "",
        "Our request path (proxy/ and strangler/) by cumulative time:",
        "",
        "| cumulative us/req | cumulative % | own us/req | calls/req | function |",
        "|---:|---:|---:|---:|---|",
    ]
    ours = [r for r in rows if r[3].startswith(("proxy/", "strangler/")) and r[2] >= requests]
    for own, cumulative, calls, where in sorted(ours, key=lambda r: -r[1])[:top]:
        lines.append(
            f"| {cumulative * per_request:.1f} | {100 * cumulative / total:.1f} "
            f"| {own * per_request:.1f} | {calls / requests:.2f} | `{where}` |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    venv_python = REPO / ".venv" / "bin" / "python"
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed run (10)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="repeat everything; rows show medians (1)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--python",
        default=str(venv_python) if venv_python.exists() else sys.executable,
        help="the interpreter that runs `-m strangler.proxy` (default: the repo's .venv)",
    )
    parser.add_argument("--no-install", action="store_true", help="fail if nginx or wrk is missing")
    parser.add_argument("--profile", action="store_true", help="also run ours under cProfile")
    parser.add_argument("--profile-top", type=int, default=25, help="profile rows (25)")
    parser.add_argument(
        "--no-pin", action="store_true", help="let the scheduler place wrk, backend and servers"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir: configs, logs")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    try:
        ensure_tools(install=not args.no_install)
        info = machine(args.python)
        results, profile = run_all(args, tmp)
        text, data = report(results, info, args.duration)
        if (profiled := results.profiled) is not None:
            rows = profile_tables(
                profile, profiled.requests + profiled.warmup_requests, args.profile_top
            )
            text += (
                "\n\nOur proxy's hot spots: cProfile (wall-clock) over the warm-up and the "
                f"timed run of 1 worker at c50, top {args.profile_top}. The profiler slows "
                "Python code several times, so read the shares more than the microseconds, "
                "and a loaded machine inflates the system calls (time waiting for a core).\n\n"
            ) + "\n".join(rows)
            data["profile"] = rows
    except BenchError as exc:
        print(f"bench_proxy: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"bench_proxy: configs and logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    runs = results.runs
    if failed := [f"{r.label} {r.workers}w c{r.concurrency}" for r in runs if r.errors]:
        print(f"bench_proxy: wrk saw errors in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
