"""Benchmark: reconcile of N rows keyed by UUID against N keyed by integers, on PostgreSQL.

    .venv/bin/python bench/bench_reconcile_keys.py [--rows 1000000] [--keep]

Two nodes of the sync test project (``tests/sync_project``), each on its own PostgreSQL
database on this server, beta's receiver under gunicorn (2 workers), as in ``bench_sync.py``.
Two tables of the same columns but for their keys: vouchers (``id uuid``, name, amount) and
shipments (``id bigint``, name, amount). One run:

1. loads ``--rows`` random-UUID vouchers and ``--rows`` shipments (ids 1..N) into alpha with
   ``COPY``, capture off (rows from before capture: version 0), and the same rows into beta
   with the version rows a backfill leaves (version 0), then ``VACUUM ANALYZE``s both;
2. ``manage.py sync_reconcile`` of each identical table, keys level and ``--full``: seconds
   and the ratio UUID / integer;
3. marks every row written since capture on both nodes (version 1, the version indexes now
   hold every key) and reconciles again, keys level: the same figures.

It reports and asserts nothing. Exit status 2 when PostgreSQL or a process is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is no package
from bench_sync import (
    SERVER,
    Nodes,
    _databases,
    _manage,
    _run_tables,
    _start_beta,
    run_reporting,
)

TABLES = {"uuid": "widgets_voucher", "integer": "widgets_shipment"}
MODELS = {"uuid": "widgets.Voucher", "integer": "widgets.Shipment"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    return run_reporting("bench_reconcile_keys", parser, _run)


def _run(options: argparse.Namespace) -> int:
    run = f"keys_{time.monotonic_ns() % 10**9}"
    nodes = Nodes(
        run=run, alpha_db=f"bench_sync_alpha_{run}", beta_db=f"bench_sync_beta_{run}", rows=0
    )
    figures: dict[str, object] = {"rows": options.rows}
    with ExitStack() as stack:
        stack.enter_context(_databases(nodes, keep=options.keep))
        for node in ("alpha", "beta"):
            _manage(nodes.env(node), "migrate", "--noinput")
        _run_tables(nodes.env("alpha"))
        started = time.monotonic()
        _load(nodes, options.rows)
        print(f"loaded {options.rows:,} rows of each table on both nodes in "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip

        _start_beta(nodes, run, stack)
        for label, extra in (("keys", ()), ("--full", ("--full",))):
            figures[f"never written, {label}"] = _pair(nodes, label, *extra)
        _mark_written(nodes)
        figures["all written, keys"] = _pair(nodes, "keys, every row written")
    print(json.dumps(figures, indent=2))
    return 0


def _load(nodes: Nodes, rows: int) -> None:
    """The same rows on both nodes, as a finished backfill leaves them (version 0)."""
    vouchers = [uuid.uuid4() for _ in range(rows)]
    for database in (nodes.alpha_db, nodes.beta_db):
        with psycopg.connect(f"{SERVER}/{database}") as conn:
            conn.execute("SET strangler.applying = 'on'")  # not captured: version 0
            with conn.cursor() as cursor:
                with cursor.copy("COPY widgets_voucher (id, name, amount) FROM STDIN") as copy:
                    for i, key in enumerate(vouchers):
                        copy.write_row((key, f"voucher {i}", Decimal(i % 10000) / 100))
                with cursor.copy("COPY widgets_shipment (id, name, amount) FROM STDIN") as copy:
                    for i in range(1, rows + 1):
                        copy.write_row((i, f"shipment {i}", Decimal(i % 10000) / 100))
            if database == nodes.beta_db:
                for table in TABLES.values():
                    conn.execute(
                        "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, "
                        f"updated_at) SELECT '{table}', id::text, 0, false, now() FROM {table}"
                    )
            conn.commit()
            conn.autocommit = True
            for table in (*TABLES.values(), "strangler_sync_row"):
                conn.execute(f"VACUUM ANALYZE {table}")


def _mark_written(nodes: Nodes) -> None:
    """Every row written since capture, at version 1 on both nodes."""
    for database in (nodes.alpha_db, nodes.beta_db):
        with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn:
            for table in TABLES.values():
                conn.execute(
                    "INSERT INTO strangler_sync_row (table_name, pk, version, deleted, "
                    f"updated_at) SELECT '{table}', id::text, 1, false, now() FROM {table} "
                    "ON CONFLICT (table_name, pk) DO UPDATE SET version = 1"
                )
            conn.execute("VACUUM ANALYZE strangler_sync_row")


def _pair(nodes: Nodes, label: str, *extra: str) -> dict[str, object]:
    """Reconcile the UUID-keyed table and the integer-keyed one alike; their ratio."""
    seconds: dict[str, float] = {}
    result: dict[str, object] = {}
    for kind in ("integer", "uuid"):
        out = _manage(nodes.env("alpha"), "sync_reconcile", MODELS[kind], "--json", *extra, ok=(0,))
        [report] = json.loads(out)["reports"]
        seconds[kind] = float(report["seconds"])
        result[kind] = {
            "seconds": report["seconds"],
            "rows_per_second": report["rows_per_second"],
            "rounds": report["search"]["rounds"],
            "hash": report["search"]["hash"],
            "differences": sum(report["labels"].values()),
        }
    result["uuid / integer"] = round(seconds["uuid"] / seconds["integer"], 2)
    print(
        f"reconcile {label}: integer {seconds['integer']:.2f} s, uuid {seconds['uuid']:.2f} s, "
        f"uuid / integer {result['uuid / integer']}"
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
