"""Benchmark: the migration dashboard with 1,000 routes and 10 plans, against references in
the same run.

    .venv/bin/python bench/bench_dashboard.py [--routes 1000] [--plans 10] [--duration 10]

What it measures (bench/README.md says how to read it):

1. **time to first render**: Debian's Chromium (through Playwright, when both are here)
   opens the page and waits for the last route's row; the reference is the same browser
   opening ``/healthz`` (a page with nothing to render). Without them: the document's fetch
   and JSON parse, against fetching ``/healthz``;
2. **payload**: ``/api/overview`` plain and gzipped, and the first server-sent event;
3. **the proxy's cost**: wrk's req/s on the proxy's public port with no dashboard running,
   then with the dashboard polling (``--interval 1``) and a page's event stream open, then
   closed again; the ratio open / closed.

A real proxy (``python -m strangler.proxy``, 1 worker) with ``--routes`` routes in front of
nginx answering a fixed body (bench/proxy_backend.py); every route is requested once first so
that ``/metrics`` holds every route's series, as a proxy serving them all would. It prints
the figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from proxy_backend import (
    BENCH_PATH,
    REPO,
    BenchError,
    Servers,
    Service,
    backend_body,
    free_port,
)

sys.path.insert(0, str(REPO))
from tests.strangler.dashboard.synthetic import route_name, write_plans

CHROMIUM = "/usr/bin/chromium"


def route_table(routes: int, monolith: int, catalog: int) -> str:
    lines = [
        "version: 1",
        "legacy: monolith",
        "upstreams:",
        f'  monolith: {{url: "http://127.0.0.1:{monolith}"}}',
        f'  catalog: {{url: "http://127.0.0.1:{catalog}"}}',
        "routes:",
    ]
    for i in range(routes):
        mode = "service" if i % 3 == 0 else "monolith"
        lines += [
            f"  - name: {route_name(i)}",
            f"    prefix: /r{i}/",
            "    owner: catalog",
            f"    mode: {mode}",
        ]
    return "\n".join(lines) + "\n"


def get(url: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def wrk_rps(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c50", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise BenchError(f"wrk printed no Requests/sec:\n{out}")


def first_render(url: str, selector: str, rounds: int) -> tuple[float, float] | None:
    """Median seconds to ``selector`` on the page, and to load ``/healthz``; ``None``
    without Playwright or Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    page_times, reference = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for _ in range(rounds):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                started = time.perf_counter()
                page.goto(f"{url}/healthz")
                reference.append(time.perf_counter() - started)
                started = time.perf_counter()
                page.goto(f"{url}/")
                page.wait_for_selector(selector, state="attached", timeout=60_000)
                page_times.append(time.perf_counter() - started)
                page.close()
        finally:
            browser.close()
    return sorted(page_times)[len(page_times) // 2], sorted(reference)[len(reference) // 2]


def fetch_and_parse(url: str, rounds: int) -> tuple[float, float]:
    page_times, reference = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        get(f"{url}/healthz")
        reference.append(time.perf_counter() - started)
        started = time.perf_counter()
        json.loads(gzip.decompress(get(f"{url}/api/overview", {"Accept-Encoding": "gzip"})))
        page_times.append(time.perf_counter() - started)
    return sorted(page_times)[len(page_times) // 2], sorted(reference)[len(reference) // 2]


def first_event_bytes(url: str) -> int:
    with urllib.request.urlopen(f"{url}/events", timeout=30) as response:
        size = 0
        for line in response:
            size += len(line)
            if line.startswith(b"data:"):
                return size
    return size


def hold_stream_open(url: str, stop: threading.Event) -> None:
    """A page's event stream, read until ``stop``."""
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/events") as response:
        while not stop.is_set():
            if not response.readline():
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", type=int, default=1000)
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="page loads to take the median of")
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            print(f"needs {tool}: apt-get install -y nginx-light wrk", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        body = backend_body()
        servers = Servers(tmp, stack, body, sys.executable)
        monolith, catalog = free_port(), free_port()
        servers.backend([monolith, catalog])
        proxy = servers.ours(
            "ours", "proxy", 1, route_table(args.routes, monolith, catalog),
        )  # fmt: skip
        public = proxy.url.rsplit(BENCH_PATH, 1)[0]
        for i in range(args.routes):  # every route's series in /metrics
            get(f"{public}/r{i}/x")
        metrics = len(get(f"{proxy.admin_url}/metrics"))
        print(f"{args.routes} routes, {args.plans} plans; the proxy's /metrics: {metrics:,} B")

        closed_before = wrk_rps(proxy.url, args.duration)

        write_plans(tmp / "plans", args.plans, args.routes, node_url="http://127.0.0.1:9")
        port = free_port()
        env = dict(os.environ, STRANGLER_DEMO="1", STRANGLER_VAR_DIR=str(tmp / "var"))
        env.pop("STRANGLER_STORE_URL", None)
        argv = [
            sys.executable, "-m", "strangler", "dashboard", "--port", str(port),
            "--admin", proxy.admin_url, "--plans", str(tmp / "plans"),
            "--state-dir", str(tmp / "state"), "--interval", "1",
        ]  # fmt: skip
        dashboard = Service("dashboard", argv, tmp / "dashboard.log", env=env)
        dashboard.start()
        stack.callback(dashboard.stop)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                if json.loads(get(f"{url}/healthz"))["polls"] >= 2:
                    break
            if time.monotonic() > deadline or dashboard.process.poll() is not None:  # type: ignore[union-attr]
                raise dashboard.failure("did not finish two polls in 120 s")
            time.sleep(0.2)

        plain = len(get(f"{url}/api/overview"))
        packed = len(get(f"{url}/api/overview", {"Accept-Encoding": "gzip"}))
        event = first_event_bytes(url)
        last = route_name(args.routes - 1)
        rendered = first_render(url, f'#routes tr[data-route="{last}"]', args.rounds)
        how = "Chromium (Playwright)"
        if rendered is None:
            how = "fetch + JSON parse (no Playwright or Chromium here)"
            rendered = fetch_and_parse(url, args.rounds)

        stop = threading.Event()
        viewer = threading.Thread(target=hold_stream_open, args=(url, stop), daemon=True)
        viewer.start()
        polls_before = json.loads(get(f"{url}/healthz"))["polls"]
        started = time.monotonic()
        open_rps = wrk_rps(proxy.url, args.duration)
        polls = json.loads(get(f"{url}/healthz"))["polls"] - polls_before
        poll_seconds = (time.monotonic() - started) / max(1, polls)
        stop.set()
        dashboard.stop()
        closed_after = wrk_rps(proxy.url, args.duration)
        closed = (closed_before + closed_after) / 2

        print()
        print("| figure | value | reference | ratio |")
        print("| --- | --- | --- | --- |")
        print(
            f"| time to first render, {how} | {rendered[0] * 1000:.0f} ms | "
            f"{rendered[1] * 1000:.0f} ms (/healthz) | {rendered[0] / rendered[1]:.1f}x |"
        )
        ratio = packed / plain
        print(f"| /api/overview gzipped | {packed:,} B | {plain:,} B plain | {ratio:.3f} |")
        print(f"| first event (whole document) | {event:,} B | | |")
        print(f"| bytes per route (plain) | {plain / args.routes:.0f} B | | |")
        print(
            f"| proxy req/s, dashboard open | {open_rps:,.0f} | {closed:,.0f} closed "
            f"({closed_before:,.0f} before, {closed_after:,.0f} after) | {open_rps / closed:.3f} |"
        )
        print(f"| dashboard poll (while wrk ran) | {poll_seconds:.2f} s | 1 s interval | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
