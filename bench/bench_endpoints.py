"""Benchmark: what choosing among an upstream's endpoints costs a request, and that an
upstream of one URL pays nothing for it.

    .venv/bin/python bench/bench_endpoints.py [--rounds 12] [--sends 100000] [--before REF]

Times ``Forwarder.send`` (``strangler/proxy/forwarder.py``) in-process with the upstream
client's exchange stubbed (no socket, an answer at once), so that only the code around it is
timed: the breaker, the pick, the outcome. Three sides, each measured in a process of its
own, the rounds interleaving them:

- ``url now``: an upstream of one URL (``url:``), this checkout;
- ``url before``: the same at REF, by default the parent of the commit that brought
  endpoints (found by its subject), extracted with ``git archive`` and run with this venv's
  packages (``PYTHONPATH`` points at the extract; the script checks it imports from there);
- ``3 endpoints now``: an upstream of three endpoints (two random choices, the outcome
  recorded for ejection).

A side's figure in a round is the best of 7 timed loops of ``--sends`` sends; the table
prints the median and the best over the rounds, in nanoseconds a send, and the ratios to
``url before``. It reports and never asserts. The machine's other load moves single figures
by 2x here; the best and the median over 12 rounds are steadier.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENDPOINTS_SUBJECT = "Proxy upstreams of many endpoints"
# A warm-up of this many sends before timing: the code paths and the allocator settle.
WARMUP_SENDS = 20_000

_MEASURE = """
import asyncio, sys, time
from strangler.proxy.config import parse_table_config
from strangler.proxy.forwarder import Forwarder
from strangler.proxy.upstream_response import UpstreamResponse
from strangler.proxy.upstreams import UpstreamPool

class _Body:
    buffered = 0
    def release(self):
        pass

ANSWER = UpstreamResponse(200, "OK", [], 0, _Body())

async def _exchange(method, target, headers, body=None):
    return ANSWER

class _Request:
    method = "GET"

async def main(urls, sends, warmup):
    entry = {"url": urls[0]} if len(urls) == 1 else {"endpoints": urls}
    pool = UpstreamPool()
    pool.apply(parse_table_config({"upstreams": {"monolith": entry}}, source="bench"))
    upstream = pool["monolith"]
    if hasattr(upstream, "endpoints"):
        clients = [endpoint.client for endpoint in upstream.endpoints.all]
    else:  # before endpoints: one client per upstream
        clients = [upstream.client]
    for client in clients:
        client.request = _exchange
    send = Forwarder(_Request(), "id", None, pool.current, None).send
    for _ in range(warmup):
        await send(upstream, "/", [], None)
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(sends):
            await send(upstream, "/", [], None)
        best = min(best, (time.perf_counter() - started) / sends)
    print(f"{best * 1e9:.1f}")
    await pool.close()

asyncio.run(main(sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3])))
"""


class BenchError(RuntimeError):
    pass


def git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def before_endpoints() -> str:
    for line in git("log", "--format=%h %s", "--", "strangler/proxy/upstreams.py").splitlines():
        commit, _, subject = line.partition(" ")
        if subject.startswith(ENDPOINTS_SUBJECT):
            return f"{commit}^"
    raise BenchError(f"no commit named {ENDPOINTS_SUBJECT!r}; pass --before")


def checkout(ref: str, into: Path) -> Path:
    commit = git("rev-parse", "--short", f"{ref}^{{commit}}")
    source = into / f"src-{commit}"
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "strangler"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if archive.returncode != 0:
        raise BenchError(f"git archive {commit} failed: {archive.stderr.decode().strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(source, filter="data")
    found = measure_probe(source)
    if not found.startswith(str(source)):
        raise BenchError(f"{sys.executable} imports the proxy from {found}, not {source}")
    return source


def _env(source: Path) -> dict[str, str]:
    # Demo mode: the toolkit's settings load with the published demo secrets (no secret is
    # used here; the modules refuse to import without them otherwise).
    return dict(os.environ, PYTHONPATH=str(source), STRANGLER_DEMO="1")


def measure_probe(source: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import strangler.proxy.forwarder as f; print(f.__file__)"],
        cwd=source,
        env=_env(source),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"cannot import the proxy from {source}: {done.stderr}")
    return done.stdout.strip()


def measure(source: Path, urls: list[str], sends: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, ",".join(urls), str(sends), str(WARMUP_SENDS)],
        cwd=source,
        env=_env(source),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the measurement failed in {source}:\n{done.stderr}")
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="rounds of every side (12)")
    parser.add_argument("--sends", type=int, default=100_000, help="sends a timed loop (100000)")
    parser.add_argument("--before", help="the commit to compare with (default: found by subject)")
    args = parser.parse_args()
    one = ["http://127.0.0.1:8100"]
    three = [f"http://127.0.0.1:{port}" for port in (8100, 8101, 8102)]
    try:
        before = args.before or before_endpoints()
        with tempfile.TemporaryDirectory() as tmp:
            old = checkout(before, Path(tmp))
            sides = {
                "url before": (old, one),
                "url now": (REPO, one),
                "3 endpoints now": (REPO, three),
            }
            figures: dict[str, list[float]] = {name: [] for name in sides}
            for round_ in range(args.rounds):
                order = list(sides.items()) if round_ % 2 == 0 else list(sides.items())[::-1]
                for name, (source, urls) in order:
                    figures[name].append(measure(source, urls, args.sends))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    commit = git("rev-parse", "--short", f"{before}^{{commit}}")
    now = git("rev-parse", "--short", "HEAD")
    base_median = statistics.median(figures["url before"])
    base_best = min(figures["url before"])
    print(f"Forwarder.send, ns a send; before = {commit}, now = {now}; {args.rounds} rounds\n")
    print("| side | median | best | median / before | best / before |")
    print("|---|---:|---:|---:|---:|")
    for name, values in figures.items():
        median, best = statistics.median(values), min(values)
        print(
            f"| {name} | {median:.0f} | {best:.0f} | "
            f"{median / base_median:.2f} | {best / base_best:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
