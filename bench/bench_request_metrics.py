"""What django-prometheus' middleware costs the monolith: req/s of the same views with and
without it, under gunicorn with the services' configuration, in one run.

    .venv/bin/python bench/bench_request_metrics.py [--duration 10] [--rounds 4] [--concurrency 8]

The monolith runs on its embedded SQLite in a temporary STRANGLER_VAR_DIR (migrated, small
demo data), under gunicorn with strangler.servicekit.gunicorn_conf (so in prometheus_client's
multiprocess mode, as deployed) and one worker: the cost per request is what is measured,
and one worker leaves the other core to the load generator. The two settings alternate
(with, without, without, with, ...) so that drift in the machine's speed falls on both;
each figure is the median of its rounds. ``/healthz`` is the worst case (the view does
nothing, so the middleware's share is largest); ``/`` is a storefront page (queries and a
template). A benchmark, not a test: it prints figures and asserts nothing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench_monolith import (
    STOP_TIMEOUT_SECONDS,
    BenchError,
    Endpoint,
    Load,
    Shop,
    _free_port,
    _python_load,
    _wait_ready,
    _wrk,
)

REPO_DIR = Path(__file__).resolve().parent.parent
SETTINGS = {
    "with": "monolith.settings",
    "without": "bench.settings_without_request_metrics",
}
ENDPOINTS = (
    Endpoint("GET /healthz (empty view)", "get", ("/healthz",)),
    Endpoint("GET / (storefront page)", "get", ("/",)),
)
SETUP_TIMEOUT_SECONDS = 600
# Nothing in the GET load reads these; the shared load generators want a Shop.
NO_SHOP = Shop(token="", address_id=0, ordered_product_ids=(), detail_product_ids=())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk not found (apt-get install -y wrk): the Python client's CPU use caps both.")
    load: Load = functools.partial(_wrk, wrk=wrk) if wrk else _python_load
    with tempfile.TemporaryDirectory(prefix="bench-request-metrics-") as var_dir:
        env = {
            **os.environ,
            "STRANGLER_DEMO": "1",
            "STRANGLER_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DATABASE_URL", None)
        try:
            _setup(env)
            rates: dict[tuple[str, str], list[float]] = {}
            for round_ in range(args.rounds):
                # ABBA: each variant goes first as often as the other.
                variants = list(SETTINGS.items())[:: -1 if round_ % 2 else 1]
                for variant, settings in variants:
                    with _gunicorn({**env, "DJANGO_SETTINGS_MODULE": settings}) as base_url:
                        for endpoint in ENDPOINTS:
                            run = functools.partial(
                                load, args=args, base_url=base_url, endpoint=endpoint, shop=NO_SHOP
                            )
                            run(seconds=args.warmup)
                            result = run(seconds=args.duration)
                            if result["status_errors"] or result["socket_errors"]:
                                raise BenchError(f"{endpoint.label} {variant}: errors {result}")
                            per_second = result["requests"] / (result["duration_us"] / 1e6)
                            rates.setdefault((endpoint.label, variant), []).append(per_second)
                    print(f"  round {round_ + 1}: {variant} the middleware, done", flush=True)
        except BenchError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 1
    print(f"\n{'view':<28} {'with (req/s)':>13} {'without':>10} {'with / without':>15}")
    for endpoint in ENDPOINTS:
        with_ = statistics.median(rates[(endpoint.label, "with")])
        without = statistics.median(rates[(endpoint.label, "without")])
        print(f"{endpoint.label:<28} {with_:>13.0f} {without:>10.0f} {with_ / without:>15.3f}")
    print(
        f"\nmedians of {args.rounds} rounds of {args.duration} s, {args.concurrency} connections, "
        f"1 gunicorn worker, load from {'wrk' if wrk else 'the Python client'}"
    )
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each measurement")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of with/without")
    parser.add_argument("--concurrency", type=int, default=8, help="open connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    return parser.parse_args(argv)


def _setup(env: dict[str, str]) -> None:
    for command in (["migrate", "--noinput"], ["seed_demo", "--size", "small"]):
        done = subprocess.run(
            [sys.executable, "-m", "monolith", *command],
            cwd=REPO_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"monolith {' '.join(command)} failed:\n{done.stderr[-2000:]}")


@contextmanager
def _gunicorn(env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # No access log: each line costs both variants the same, and only blurs the difference.
    args = [gunicorn, "monolith.wsgi", "-c", "python:strangler.servicekit.gunicorn_conf",
            "--workers", "1", "--bind", f"127.0.0.1:{port}",
            "--access-logfile", "/dev/null"]  # fmt: skip
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            args, cwd=REPO_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
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


if __name__ == "__main__":
    sys.exit(main())
