"""Benchmark: the data sync's backfill, reconcile and end-to-end lag, on PostgreSQL and Redis.

    .venv/bin/python bench/bench_sync.py [--rows 1000000] [--batch-size 1000]
                                         [--rates 50,200,500] [--lag-seconds 20] [--skip-lag]
                                         [--copy-instead-of-backfill]

Two nodes of the sync test project (``tests/sync_project``: alpha sends widgets to beta, a
widget is a product-like row of id, sku, name, price, updated_at), each on its own PostgreSQL
database on this server; beta's receiver runs under gunicorn (2 workers). One run:

1. loads ``--rows`` widgets into alpha with ``COPY`` while capture is switched off for the
   session: rows that existed before capture was installed (version 0), what a backfill is for;
2. the baseline: a plain ``COPY ... TO STDOUT`` from alpha piped into ``COPY ... FROM STDIN``
   of a table like it on beta (no triggers, no sync);
3. ``manage.py sync_backfill`` of every widget to beta (``--max-lag 0``: no throttling);
   prints rows/s and the ratio COPY / backfill. With ``--copy-instead-of-backfill`` beta is
   filled by ``COPY`` instead, and given the version rows a backfill leaves (version 0): the
   same state in a fraction of the time, to measure reconcile on tables too large to
   backfill in a benchmark run;
4. ``manage.py sync_reconcile`` of the identical tables, keys level and ``--full`` (column
   values too); then plants five differences on beta (a changed column, a missing row, an
   extra row, a diverged version, a write that bypassed capture) and reconciles again;
5. end-to-end lag: a Celery worker acting as alpha (Redis broker), nudged by each commit,
   relays to beta while this process updates distinct widgets through the ORM at each
   ``--rates`` writes/s for ``--lag-seconds``; a write's lag is beta's apply time of its
   version (``strangler_sync_row.updated_at``, same clock) minus its commit time.

It reports and asserts nothing. Exit status 2 when PostgreSQL, Redis or a process is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import requests

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
SECRET = "bench-sync-secret"
ALPHA_SETTINGS = "tests.sync_project.settings"
BETA_SETTINGS = "tests.strangler.sync.ops_settings"  # beta with the operations endpoints
READY_DEADLINE_SECONDS = 60.0
# One write (a transaction and a nudge to Redis) takes ~7 ms here: one writer manages ~140/s.
# Eight kept 500/s on schedule on a quiet machine; with the relay, the receiver and both
# databases on the same two cores they reach 360-440/s. Neither 16 threads (388/s) nor three
# writer processes (345/s) did better: each write costs ~2.5 ms of CPU (the ORM's save and
# Celery's publish of the nudge), and the cores are what is short.
WRITER_THREADS = 8


class BenchError(Exception):
    """Something the benchmark needs is missing or did not start."""


@dataclass
class Nodes:
    run: str
    alpha_db: str
    beta_db: str
    rows: int
    beta_url: str = ""

    def env(self, node: str, **extra: str) -> dict[str, str]:
        alpha = node == "alpha"
        return {
            **os.environ,
            "STRANGLER_DEMO": "1",  # the nodes run on the test project's published secrets
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": ALPHA_SETTINGS if alpha else BETA_SETTINGS,
            "SYNC_NODE": node,
            "SYNC_RUN_ID": self.run,
            "DATABASE_URL": f"{SERVER}/{self.alpha_db if alpha else self.beta_db}",
            "SYNC_PEER_URL": (self.beta_url or "http://127.0.0.1:9")
            if alpha
            else "http://127.0.0.1:9",
            "STRANGLER_SYNC_SECRET": SECRET,
            "CELERY_BROKER_URL": REDIS,
            "LOG_LEVEL": "WARNING",
            **extra,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rates", default="50,200,500", help="writes/s, comma-separated")
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument(
        "--copy-instead-of-backfill",
        action="store_true",
        help="fill beta by COPY (with version-0 rows, as a backfill leaves them)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    return run_reporting("bench_sync", parser, _run)


def run_reporting(
    name: str, parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int]
) -> int:
    """``run`` with the parsed options; exit status 2 and the reason when something is missing."""
    try:
        return run(parser.parse_args())
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2


def _run(options: argparse.Namespace) -> int:
    run = str(os.getpid())
    nodes = Nodes(
        run=run,
        alpha_db=f"bench_sync_alpha_{run}",
        beta_db=f"bench_sync_beta_{run}",
        rows=options.rows,
    )
    figures: dict[str, object] = {"rows": options.rows}
    with ExitStack() as stack:
        stack.enter_context(_databases(nodes, keep=options.keep))
        for node in ("alpha", "beta"):
            _manage(nodes.env(node), "migrate", "--noinput")
        _run_tables(nodes.env("alpha"))
        seconds = _load(nodes, options.rows)
        print(f"loaded {options.rows:,} widgets into alpha in {seconds:.1f} s")

        copy_seconds = _copy_baseline(nodes)
        figures["copy_rows_per_second"] = options.rows / copy_seconds
        print(
            f"COPY alpha -> beta: {copy_seconds:.2f} s, {options.rows / copy_seconds:,.0f} rows/s"
        )

        log_dir = _start_beta(nodes, run, stack)

        if options.copy_instead_of_backfill:
            seconds = _copy_as_backfilled(nodes)
            print(f"beta filled by COPY as a backfill leaves it in {seconds:.1f} s (no backfill)")
        else:
            started = time.monotonic()
            _manage(
                nodes.env("alpha"), "sync_backfill", "widgets.Widget",
                "--batch-size", str(options.batch_size), "--max-lag", "0", timeout=24 * 3600,
            )  # fmt: skip
            backfill_seconds = time.monotonic() - started
            rate = options.rows / backfill_seconds
            figures["backfill_rows_per_second"] = rate
            print(
                f"backfill alpha -> beta: {backfill_seconds:.1f} s, {rate:,.0f} rows/s; "
                f"COPY is {copy_seconds and (options.rows / copy_seconds) / rate:.1f}x faster"
            )

        for label, extra in (("identical, keys", ()), ("identical, --full", ("--full",))):
            report = _reconcile(nodes, *extra)
            figures[f"reconcile {label}"] = report
            _print_reconcile(label, report)
        _plant(nodes)
        for label, extra in (("5 planted, keys", ()), ("5 planted, --full", ("--full",))):
            report = _reconcile(nodes, *extra)
            figures[f"reconcile {label}"] = report
            _print_reconcile(label, report)

        if not options.skip_lag:
            rates = [int(r) for r in options.rates.split(",") if r]
            figures["lag"] = _lag(nodes, rates, options.lag_seconds, log_dir, stack)
    print(json.dumps(figures, indent=2, default=str))
    return 0


def _start_beta(nodes: Nodes, run: str, stack: ExitStack) -> Path:
    """Beta's receiver under gunicorn (2 workers) until ``stack`` closes; its log directory."""
    log_dir = REPO / "var" / "bench_sync" / run
    log_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    nodes.beta_url = f"http://127.0.0.1:{port}"
    gunicorn = [PYTHON, "-m", "gunicorn", "tests.sync_project.wsgi", "-c",
                "python:strangler.servicekit.gunicorn_conf", "--workers", "2",
                "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    stack.enter_context(
        _process(gunicorn, nodes.env("beta"), log_dir / "beta.log", f"{nodes.beta_url}/readyz")
    )
    return log_dir


@contextmanager
def _databases(nodes: Nodes, *, keep: bool) -> Iterator[None]:
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL at {SERVER} does not answer: {exc}") from exc
    with admin:
        for name in (nodes.alpha_db, nodes.beta_db):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield
        finally:
            if not keep:
                for name in (nodes.alpha_db, nodes.beta_db):
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(
    env: dict[str, str], *args: str, timeout: float = 600, ok: tuple[int, ...] = (0,)
) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "django", *args], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    if done.returncode not in ok:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _run_tables(env: dict[str, str]) -> None:
    """Backfill and reconcile records on alpha, while the app's migrations do not make them."""
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "from strangler.sync.runs import BackfillProgress, ReconcileRun\n"
        "names = set(connection.introspection.table_names())\n"
        "with connection.schema_editor() as editor:\n"
        "    for model in (BackfillProgress, ReconcileRun):\n"
        "        if model._meta.db_table not in names:\n"
        "            editor.create_model(model)\n"
    )
    subprocess.run([PYTHON, "-c", script], env=env, cwd=REPO, check=True, timeout=120)


def _load(nodes: Nodes, rows: int) -> float:
    started = time.monotonic()
    when = dt.datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=dt.UTC).isoformat()
    with psycopg.connect(f"{SERVER}/{nodes.alpha_db}") as conn:
        conn.execute("SET strangler.applying = 'on'")  # rows from before capture: version 0
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY widgets_widget (id, sku, name, price, updated_at) FROM STDIN"
            ) as copy,
        ):
            for pk in range(1, rows + 1):
                copy.write_row(
                    (pk, f"SKU-{pk:08d}", f"widget {pk}", Decimal(pk % 10000) / 100, when)
                )
        conn.execute("SELECT setval(pg_get_serial_sequence('widgets_widget', 'id'), %s)", [rows])
        conn.commit()
        # What autovacuum would have done to a table that has been in use for a while: an
        # index-only scan then reads no heap page (reconcile's scans of the keys are).
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE widgets_widget")
    return time.monotonic() - started


def _copy_baseline(nodes: Nodes) -> float:
    with (
        psycopg.connect(f"{SERVER}/{nodes.alpha_db}") as source,
        psycopg.connect(f"{SERVER}/{nodes.beta_db}") as target,
    ):
        target.execute("CREATE TABLE widgets_copy (LIKE widgets_widget INCLUDING ALL)")
        target.commit()
        started = time.monotonic()
        with (
            source.cursor() as out_cursor,
            target.cursor() as in_cursor,
            out_cursor.copy("COPY widgets_widget TO STDOUT") as out,
            in_cursor.copy("COPY widgets_copy FROM STDIN") as into,
        ):
            for data in out:
                into.write(data)
        target.commit()
        seconds = time.monotonic() - started
        target.execute("DROP TABLE widgets_copy")
        target.commit()
    return seconds


def _copy_as_backfilled(nodes: Nodes) -> float:
    """Beta as a finished backfill leaves it, by COPY: every widget, each with version 0."""
    started = time.monotonic()
    with (
        psycopg.connect(f"{SERVER}/{nodes.alpha_db}") as source,
        psycopg.connect(f"{SERVER}/{nodes.beta_db}") as target,
    ):
        target.execute("SET strangler.applying = 'on'")  # as apply writes: not captured
        columns = "widgets_widget (id, sku, name, price, updated_at)"
        with (
            source.cursor() as out_cursor,
            target.cursor() as in_cursor,
            out_cursor.copy(f"COPY {columns} TO STDOUT") as out,
            in_cursor.copy(f"COPY {columns} FROM STDIN") as into,
        ):
            for data in out:
                into.write(data)
        target.execute(
            "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, updated_at) "
            "SELECT 'widgets_widget', id::text, 0, false, now() FROM widgets_widget"
        )
        target.commit()
        target.autocommit = True
        target.execute("VACUUM ANALYZE widgets_widget")
        target.execute("VACUUM ANALYZE strangler_sync_row")
    return time.monotonic() - started


def _reconcile(nodes: Nodes, *extra: str) -> dict[str, object]:
    started = time.monotonic()
    out = _manage(
        nodes.env("alpha"), "sync_reconcile", "widgets.Widget", "--json", *extra, ok=(0, 1)
    )
    wall = time.monotonic() - started
    [report] = json.loads(out)["reports"]
    return {
        "seconds": report["seconds"],
        "wall_seconds": round(wall, 2),
        "rows_per_second": report["rows_per_second"],
        "labels": report["labels"],
        "rows_fetched": report["search"]["rows_fetched"],
        "rounds": report["search"]["rounds"],
    }


def _print_reconcile(label: str, report: dict[str, object]) -> None:
    print(
        f"reconcile {label}: {report['seconds']} s ({report['rows_per_second']:,} rows/s, "
        f"process {report['wall_seconds']} s), differences {report['labels']}, "
        f"{report['rounds']} round(s), {report['rows_fetched']} rows fetched"
    )


def _plant(nodes: Nodes) -> None:
    with psycopg.connect(f"{SERVER}/{nodes.beta_db}", autocommit=True) as beta:
        beta.execute("UPDATE widgets_widget SET name = 'changed on beta' WHERE id = 10")
        beta.execute("DELETE FROM widgets_widget WHERE id = 500")
        beta.execute(
            "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
            "VALUES (%s, 'EXTRA', 'only on beta', 1, now())",
            [max(10_000_000, 2 * nodes.rows)],  # beyond every key
        )
        beta.execute(
            "UPDATE strangler_sync_row SET version = 9 "
            "WHERE table_name = 'widgets_widget' AND pk = '777'"
        )
        beta.execute("SET strangler.applying = 'on'")
        beta.execute("UPDATE widgets_widget SET price = 0.01 WHERE id = 1234")
        beta.execute("SET strangler.applying = 'off'")


def _lag(
    nodes: Nodes, rates: list[int], seconds: float, log_dir: Path, stack: ExitStack
) -> dict[str, object]:
    _redis_ready()
    if 2000 + sum(int(rate * seconds) for rate in rates) > nodes.rows:
        raise BenchError("--rows is too small for the lag step's writes: raise it")
    queue = f"sync-alpha-{nodes.run}"
    worker = [PYTHON, "-m", "celery", "-A", "tests.sync_project", "worker", "--pool=solo",
              "--queues", queue, "--hostname", f"{queue}@%h", "--without-mingle",
              "--without-gossip", "--loglevel=WARNING"]  # fmt: skip
    stack.enter_context(_process(worker, nodes.env("alpha"), log_dir / "worker.log", None))
    os.environ.update(nodes.env("alpha"))
    sys.path.insert(0, str(REPO))  # the test project's settings live in the repository
    import django

    django.setup()
    from django.db import connection

    results: dict[str, object] = {}
    next_pk = 2001  # clear of the rows the reconcile step planted differences in
    for rate in rates:
        count = int(rate * seconds)
        pks = list(range(next_pk, next_pk + count))
        next_pk += count
        committed, achieved = _write_at(rate, pks)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pk, version FROM strangler_sync_row WHERE table_name = 'widgets_widget' "
                "AND pk = ANY(%s)",
                [[str(pk) for pk in pks]],
            )
            wanted = {int(pk): version for pk, version in cursor.fetchall()}
        applied = _wait_applied(nodes, wanted, deadline=120)
        lags = sorted(
            (applied[pk] - committed[pk]).total_seconds() * 1000 for pk in pks if pk in applied
        )
        figures = {
            "achieved_writes_per_second": round(achieved, 1),
            "writes": count,
            "delivered": len(lags),
            "p50_ms": round(statistics.median(lags), 1) if lags else None,
            "p99_ms": round(lags[int(len(lags) * 0.99) - 1], 1) if lags else None,
            "max_ms": round(lags[-1], 1) if lags else None,
        }
        results[f"{rate}/s"] = figures
        print(
            f"lag at {rate} writes/s (achieved {figures['achieved_writes_per_second']}): "
            f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms, "
            f"{len(lags)}/{count} delivered"
        )
    return results


def _write_at(rate: int, pks: list[int]) -> tuple[dict[int, dt.datetime], float]:
    """Write each of ``pks`` once, ``rate`` a second on schedule; commit times, achieved rate."""
    from django.db import connection
    from django.utils import timezone

    from tests.sync_project.widgets.models import Widget

    committed: dict[int, dt.datetime] = {}
    started = time.monotonic()

    def lane(first: int) -> None:
        try:
            for i in range(first, len(pks), WRITER_THREADS):
                pause = started + i / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                # save(), not update(): post_save queues the nudge, as a view's write would.
                Widget(id=pks[i], name=f"lag {rate}").save(update_fields=["name"])
                committed[pks[i]] = timezone.now()
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=WRITER_THREADS) as writers:
        list(writers.map(lane, range(WRITER_THREADS)))
    return committed, len(pks) / (time.monotonic() - started)


def _wait_applied(
    nodes: Nodes, wanted: dict[int, int], *, deadline: float
) -> dict[int, dt.datetime]:
    end = time.monotonic() + deadline
    keys = [str(pk) for pk in wanted]
    with psycopg.connect(f"{SERVER}/{nodes.beta_db}", autocommit=True) as beta:
        while True:
            rows = beta.execute(
                "SELECT pk, version, updated_at FROM strangler_sync_row "
                "WHERE table_name = 'widgets_widget' AND pk = ANY(%s)",
                [keys],
            ).fetchall()
            applied = {int(pk): at for pk, version, at in rows if version >= wanted[int(pk)]}
            if len(applied) == len(wanted) or time.monotonic() > end:
                return applied
            time.sleep(0.2)


def _redis_ready() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_timeout=2).ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis at {REDIS} does not answer: {exc}") from exc


@contextmanager
def _process(
    args: list[str], env: dict[str, str], log: Path, ready_url: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        if ready_url is not None:
            end = time.monotonic() + READY_DEADLINE_SECONDS
            while not _answers(ready_url):
                if proc.poll() is not None or time.monotonic() > end:
                    raise BenchError(f"{args[2]} did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
