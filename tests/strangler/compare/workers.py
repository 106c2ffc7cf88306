"""Processes for the tests that several writers share one file: started with
``python -m tests.strangler.compare.workers KIND ...``, each waits for a start signal (a
file appearing) so that the writers really run at the same time.

    captures DIR NAME COUNT MAX_FILE_BYTES    append COUNT capture records
    results DIR NAME COUNT [WHERE]            COUNT comparisons, flushed every 5, to the
                                              file or PostgreSQL URL WHERE (DIR/results.sqlite3)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from strangler.compare import CompareEngine, HttpRequest, HttpResponse
from strangler.compare.capture_writer import CaptureSettings, CaptureWriter
from strangler.compare.results import ResultsLocation, ResultsStore, ResultsWriter, StoreUrl
from tests.monolith.processes import REPO, wait_until

START_DEADLINE_SECONDS = 60
JSON = (("Content-Type", "application/json"),)


def _wait_for_start(folder: Path, name: str) -> None:
    (folder / f"{name}.ready").touch()
    end = time.monotonic() + START_DEADLINE_SECONDS
    while not (folder / "go").exists():
        if time.monotonic() > end:
            sys.exit(f"{name}: no start signal")
        time.sleep(0.01)


def _captures(folder: Path, name: str, count: int, max_file_bytes: int) -> None:
    writer = CaptureWriter(
        CaptureSettings(folder / "capture.jsonl", max_file_bytes=max_file_bytes, backups=1000)
    )
    _wait_for_start(folder, name)
    for i in range(count):
        body = json.dumps({"writer": name, "n": i, "padding": "x" * 200}).encode()
        headers = (("Content-Type", "application/json"), ("Cookie", f"sessionid={name}-{i}"))
        writer.write("products", HttpRequest("POST", f"/api/v1/products/?n={i}", headers, body))
    writer.close()


def _response(value: object) -> HttpResponse:
    return HttpResponse(200, JSON, json.dumps(value).encode())


def _results(folder: Path, name: str, count: int, where: ResultsLocation) -> None:
    store = ResultsStore(where)
    engine = CompareEngine()
    writer = ResultsWriter(engine, store)
    _wait_for_start(folder, name)
    for i in range(count):
        request = HttpRequest("GET", f"/api/v1/products/{i}/")
        # Every third request differs on the price; the others are equal.
        candidate = {"id": i, "price": "2" if i % 3 == 0 else "1"}
        engine.compare(
            "products",
            request,
            _response({"id": i, "price": "1"}),
            _response(candidate),
            base_latency=0.01,
            candidate_latency=0.02,
        )
        if i % 5 == 4:
            writer.flush()
    writer.flush()
    store.close()


def run_writers(kind: str, folder: Path, names: list[str], *args: str) -> None:
    """Start one process per name, release them together, wait for all to succeed."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.strangler.compare.workers",
                kind,
                str(folder),
                name,
                *args,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name in names
    ]
    try:
        wait_until(
            lambda: (
                all((folder / f"{n}.ready").exists() for n in names)
                or any(p.poll() is not None for p in procs)
            ),
            deadline=START_DEADLINE_SECONDS,
            what="the writers to be ready",
        )
        (folder / "go").touch()
        for proc in procs:
            output, _ = proc.communicate(timeout=START_DEADLINE_SECONDS)
            assert proc.returncode == 0, output.decode()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    kind, folder, name, *rest = sys.argv[1:]
    if kind == "captures":
        _captures(Path(folder), name, int(rest[0]), int(rest[1]))
    else:
        where = rest[1] if len(rest) > 1 else str(Path(folder) / "results.sqlite3")
        location = StoreUrl(where) if where.startswith("postgres") else Path(where)
        _results(Path(folder), name, int(rest[0]), location)
