"""Relay throughput by batch size: alpha (this process) to beta under gunicorn. Run by hand.

A benchmark, not a test (pytest does not collect it); ``strangler.sync.relay.BATCH_SIZE``
quotes its figures. Both databases must exist and be migrated (``python -m django migrate``
with ``SYNC_NODE=alpha`` / ``beta``); beta's tables are emptied before each run::

    PYTHONPATH=. SYNC_NODE=alpha DATABASE_URL=sqlite:////tmp/alpha.sqlite3 \\
    BETA_DATABASE_URL=sqlite:////tmp/beta.sqlite3 \\
    python -m tests.sync_project.bench_relay 50 100 250 500 1000 2000
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.sync_project.settings")
django.setup()

from django.conf import settings  # noqa: E402

from strangler.sync.config import sync_settings  # noqa: E402
from strangler.sync.relay import relay_stream  # noqa: E402
from tests.monolith.processes import PYTHON, free_port, running, url_answers  # noqa: E402
from tests.strangler.sync.conftest import NodeDB  # noqa: E402
from tests.sync_project.widgets.models import Widget  # noqa: E402

ROWS = int(os.environ.get("ROWS", "10000"))


def main(sizes: list[int]) -> None:
    beta_url = os.environ["BETA_DATABASE_URL"]
    path = beta_url.removeprefix("sqlite:///") if beta_url.startswith("sqlite") else None
    beta = NodeDB(url=beta_url, sqlite_path=Path(path) if path else None)
    if not Widget.objects.exists():  # distinct rows: coalescing must not shrink the work
        for start in range(0, ROWS, 1000):
            Widget.objects.bulk_create(
                Widget(id=i + 1, sku=f"S-{i}", name="n" * 30, price=Decimal("9.99"))
                for i in range(start, start + 1000)
            )
    port = free_port()
    env = {**os.environ, "SYNC_NODE": "beta", "DATABASE_URL": beta_url}
    args = [PYTHON, "-m", "gunicorn", "tests.sync_project.wsgi", "-c",
            "python:strangler.servicekit.gunicorn_conf", "--workers", "2",
            "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    settings.STRANGLER_SYNC = {
        **settings.STRANGLER_SYNC, "peers": {"beta": {"url": f"http://127.0.0.1:{port}"}}
    }  # fmt: skip
    sync_settings.cache_clear()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_relay_gunicorn.log"
    with running(args, env=env, log=log, ready=url_answers(f"http://127.0.0.1:{port}/readyz")):
        for size in sizes:
            beta.clean()
            started = time.perf_counter()
            result = relay_stream("beta", batch_size=size, budget_seconds=3600)
            seconds = time.perf_counter() - started
            print(json.dumps({
                "engine": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "batch": size, "batches": result.batches, "applied": result.applied,
                "changes_per_s": round(result.applied / seconds),
                "ms_per_batch": round(1000 * seconds / max(1, result.batches), 1),
            }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [50, 100, 250, 500, 1000, 2000])
