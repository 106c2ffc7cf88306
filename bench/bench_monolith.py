"""Throughput and latency of the monolith's busiest API routes, under gunicorn on PostgreSQL.

    .venv/bin/python bench/bench_monolith.py [--workers N] [--duration 10] [--concurrency 16]

Recreates a PostgreSQL database, migrates it, seeds the demo data, then for 1 worker and for
N workers starts gunicorn, warms it up and drives each endpoint with wrk for a fixed time at
a fixed number of connections. ``GET /healthz`` runs in the same session as the reference:
every endpoint's throughput is also given as a fraction of it. A benchmark, not a test: it
prints figures and asserts nothing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO_DIR = Path(__file__).resolve().parent.parent
LUA_SCRIPT = Path(__file__).resolve().with_suffix(".lua")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_monolith"
DEMO_USER = ("alice", "demo-password")
# gunicorn imports Django and answers /readyz in about 2 s here; 60 s means it is broken.
READY_DEADLINE_SECONDS = 60.0
READY_POLL_SECONDS = 0.1
# Every call this script makes itself (token, addresses) answers in milliseconds.
HTTP_TIMEOUT_SECONDS = 10.0
# wrk counts a request slower than this as a timeout error; 1 worker behind 64 connections
# queues for up to a second or so, so 10 s only catches a stuck server.
WRK_TIMEOUT = "10s"
# Units on hand per ordered product: one run places a few thousand orders of one unit, so
# the stock can never run out, and it stays within PostgreSQL's integer column.
HUGE_STOCK = 1_000_000_000
# Placements spread over this many products, so they do not all queue on one stock row lock.
ORDERED_PRODUCTS = 200
# Detail requests pick among this many products: the working set of a busy shop page.
DETAIL_PRODUCTS = 1000
# Setting a database up (migrate, seed 10,000 products) takes under a minute.
SETUP_TIMEOUT_SECONDS = 600
STOP_TIMEOUT_SECONDS = 30


# A load generator: runs one endpoint for some seconds, returns wrk's figures as a dict.
Load = Callable[..., dict[str, int]]


class BenchError(Exception):
    """The benchmark could not run; the message says which step failed and why."""


@dataclass(frozen=True)
class Endpoint:
    label: str
    mode: str  # "get" or "order", as the Lua script knows them
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shop:
    """What the load needs from the seeded database."""

    token: str
    address_id: int
    ordered_product_ids: tuple[int, ...]
    detail_product_ids: tuple[int, ...]


@dataclass(frozen=True)
class Measurement:
    workers: int
    endpoint: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    wrk = shutil.which("wrk") if args.client != "python" else None
    if wrk is None and args.client == "wrk":
        print("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) and run again.")
        return 2
    if wrk is None:
        print(
            "load from the Python client (wrk not found or not chosen): its own CPU use caps "
            "the figures; `apt-get install -y wrk` for better ones."
        )
    load: Load = functools.partial(_wrk, wrk=wrk) if wrk is not None else _python_load
    # Demo mode: the monolith under test runs on its published demo secrets (loopback only).
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "LOG_LEVEL": "WARNING",
        "STRANGLER_DEMO": "1",
    }
    try:
        if not args.reuse_database:
            _database_recreate(url=args.database_url)
            _setup(env=env, products=args.products)
        ordered, detail = _products_prepare(url=args.database_url)
        measurements: list[Measurement] = []
        shop: Shop | None = None
        for workers in sorted({1, args.workers}):
            with _gunicorn(env=env, workers=workers) as base_url:
                shop = shop or _shop(base_url=base_url, ordered=ordered, detail=detail)
                for endpoint in _endpoints(shop):
                    if args.warmup > 0:
                        load(
                            args=args,
                            base_url=base_url,
                            endpoint=endpoint,
                            shop=shop,
                            seconds=args.warmup,
                        )
                    result = load(
                        args=args,
                        base_url=base_url,
                        endpoint=endpoint,
                        shop=shop,
                        seconds=args.duration,
                    )
                    measurements.append(_as_measurement(result, workers, endpoint))
                    print(f"  {workers} worker(s)  {endpoint.label:<28} done", flush=True)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    _print_report(measurements, args=args)
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL database to (re)create; its name must start with bench",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="skip drop, migrate and seed; use the database as it is",
    )
    parser.add_argument("--products", type=int, default=10_000, help="demo catalogue size")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * cores + 1,
        help="the many-workers run (default 2 * cores + 1); 1 always runs too",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="wrk threads; the client shares the CPUs with the server",
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk if installed (auto), or the Python fallback",
    )
    return parser.parse_args(argv)


def _database_recreate(*, url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("bench"):
        raise BenchError(f"refusing to drop database {name!r}: its name must start with bench")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        raise BenchError(f"cannot reach PostgreSQL at {admin_url}: {exc}") from exc
    print(f"database {name} created")


def _manage(*command: str, env: dict[str, str]) -> str:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "monolith", *command],
            cwd=REPO_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"`{' '.join(command)}` did not finish in {exc.timeout} s") from exc
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(command)}` failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _setup(*, env: dict[str, str], products: int) -> None:
    _manage("migrate", "--noinput", env=env)
    print("migrated")
    seeded = _manage("seed_demo", "--products", str(products), env=env)
    print(seeded.strip().splitlines()[-1])


def _products_prepare(*, url: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Pick the products to order and to show, and give the ordered ones huge stock."""
    with psycopg.connect(url, autocommit=True) as conn:
        active = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM catalog_product WHERE is_active ORDER BY id"
            ).fetchall()
        ]
        if not active:
            raise BenchError("the database has no active products; seed it first")
        rng = random.Random(0)  # the same products on every run
        ordered = tuple(sorted(rng.sample(active, min(ORDERED_PRODUCTS, len(active)))))
        detail = tuple(rng.sample(active, min(DETAIL_PRODUCTS, len(active))))
        conn.execute(
            "UPDATE inventory_stocklevel SET on_hand = GREATEST(on_hand, reserved + %s) "
            "WHERE product_id = ANY(%s)",
            (HUGE_STOCK, list(ordered)),
        )
    return ordered, detail


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _gunicorn(*, env: dict[str, str], workers: int) -> Iterator[str]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [gunicorn, "monolith.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"],
            cwd=REPO_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(base_url=base_url, process=process, log=log)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(*, base_url: str, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(READY_POLL_SECONDS)  # polling the server's own readiness, up to a deadline
    raise BenchError(f"gunicorn was not ready within {READY_DEADLINE_SECONDS} s:\n{_tail(log)}")


def _tail(log: IO[str]) -> str:
    log.seek(0)
    return "".join(log.read().splitlines(keepends=True)[-20:])


def _call(method: str, url: str, *, body: object = None, token: str = "") -> object:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise BenchError(f"{method} {url} answered {exc.code}: {exc.read()[:500]!r}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise BenchError(f"{method} {url} failed: {exc}") from exc


def _shop(*, base_url: str, ordered: tuple[int, ...], detail: tuple[int, ...]) -> Shop:
    username, password = DEMO_USER
    answer = _call(
        "POST", f"{base_url}/api/v1/auth/token/", body={"username": username, "password": password}
    )
    token = str(answer["token"]) if isinstance(answer, dict) and "token" in answer else ""
    if not token:
        raise BenchError(f"no token in the answer to POST /api/v1/auth/token/: {answer!r}")
    addresses = _call("GET", f"{base_url}/api/v1/me/addresses/", token=token)
    if isinstance(addresses, dict):  # paginated
        addresses = addresses.get("results", [])
    if not isinstance(addresses, list) or not addresses:
        raise BenchError(f"{username} has no address: {addresses!r}")
    return Shop(
        token=token,
        address_id=int(addresses[0]["id"]),
        ordered_product_ids=ordered,
        detail_product_ids=detail,
    )


def _endpoints(shop: Shop) -> list[Endpoint]:
    return [
        Endpoint("GET /healthz", "get", ("/healthz",)),
        Endpoint("GET /api/v1/products/", "get", ("/api/v1/products/",)),
        Endpoint(
            "GET /api/v1/products/<id>/",
            "get",
            tuple(f"/api/v1/products/{pid}/" for pid in shop.detail_product_ids),
        ),
        Endpoint("POST /api/v1/orders/", "order"),
    ]


def _wrk(
    *,
    wrk: str,
    args: argparse.Namespace,
    base_url: str,
    endpoint: Endpoint,
    shop: Shop,
    seconds: int,
) -> dict[str, int]:
    env = {
        **os.environ,
        "BENCH_MODE": endpoint.mode,
        "BENCH_PATHS": ",".join(endpoint.paths),
        "BENCH_TOKEN": shop.token,
        "BENCH_ADDRESS_ID": str(shop.address_id),
        "BENCH_PRODUCT_IDS": ",".join(map(str, shop.ordered_product_ids)),
    }
    command = [
        wrk,
        "--threads",
        str(args.threads),
        "--connections",
        str(args.concurrency),
        "--duration",
        f"{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "--script",
        str(LUA_SCRIPT),
        base_url,
    ]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish for {endpoint.label}") from exc
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, int] = json.loads(line.removeprefix("BENCH_RESULT "))
            return result
    raise BenchError(f"wrk gave no result for {endpoint.label}:\n{done.stdout}{done.stderr}")


def _python_load(
    *, args: argparse.Namespace, base_url: str, endpoint: Endpoint, shop: Shop, seconds: int
) -> dict[str, int]:
    """The fallback load generator: one thread per connection, closed loop, like wrk."""
    parts = urlsplit(base_url)
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(args.concurrency)]
    errors = [0] * args.concurrency

    def run(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection(
            parts.hostname or "", parts.port, timeout=HTTP_TIMEOUT_SECONDS
        )
        while time.monotonic() < deadline:
            method, path, body, headers = _request_for(endpoint, shop=shop, rng=rng)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                failed = response.status >= 400
            except (http.client.HTTPException, OSError):
                failed = True
            latencies[index].append(time.perf_counter() - started)
            errors[index] += failed
            conn.close()  # gunicorn's sync workers close every connection anyway

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latency for mine in latencies for latency in mine)

    def percentile(p: int) -> int:
        return int(ordered[min(len(ordered) - 1, len(ordered) * p // 100)] * 1e6) if ordered else 0

    return {
        "requests": len(ordered),
        "duration_us": int(elapsed * 1e6),
        "p50_us": percentile(50),
        "p90_us": percentile(90),
        "p99_us": percentile(99),
        "status_errors": sum(errors),
        "socket_errors": 0,
    }


def _request_for(
    endpoint: Endpoint, *, shop: Shop, rng: random.Random
) -> tuple[str, str, bytes | None, dict[str, str]]:
    if endpoint.mode == "order":
        body = {
            "shipping_address_id": shop.address_id,
            "lines": [{"product_id": rng.choice(shop.ordered_product_ids), "quantity": 1}],
        }
        headers = {"Authorization": f"Token {shop.token}", "Content-Type": "application/json"}
        return "POST", "/api/v1/orders/", json.dumps(body).encode(), headers
    return "GET", rng.choice(endpoint.paths), None, {}


def _as_measurement(result: dict[str, int], workers: int, endpoint: Endpoint) -> Measurement:
    return Measurement(
        workers=workers,
        endpoint=endpoint.label,
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1e3,
        p90_ms=result["p90_us"] / 1e3,
        p99_ms=result["p99_us"] / 1e3,
        errors=result["status_errors"] + result["socket_errors"],
    )


def _print_report(measurements: list[Measurement], *, args: argparse.Namespace) -> None:
    print()
    catalogue = "a reused database" if args.reuse_database else f"{args.products:,} products"
    client = "wrk" if shutil.which("wrk") and args.client != "python" else "Python client"
    print(
        f"monolith under gunicorn (sync workers) on PostgreSQL, {catalogue}; "
        f"{client}, {args.concurrency} connections, {args.threads} thread(s), "
        f"{args.duration} s per row after {args.warmup} s warm-up; "
        f"{os.cpu_count()} CPUs shared by client, server and database"
    )
    header = (
        f"{'workers':>7}  {'endpoint':<28} {'req/s':>8} {'vs healthz':>10} "
        f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    reference = {m.workers: m.per_second for m in measurements if m.endpoint == "GET /healthz"}
    for m in measurements:
        ratio = m.per_second / reference[m.workers] if reference.get(m.workers) else 0.0
        print(
            f"{m.workers:>7}  {m.endpoint:<28} {m.per_second:>8.0f} {ratio:>10.2f} "
            f"{m.p50_ms:>8.1f} {m.p90_ms:>8.1f} {m.p99_ms:>8.1f} {m.errors:>7}"
        )


if __name__ == "__main__":
    sys.exit(main())
