"""Soak: the whole demo stack on the embedded broker, the sync under writes, for an hour.

    .venv/bin/python bench/soak_broker.py [--seconds 3600] [--rate 5]
                                          [--reference-seconds 300] [--reference-broker URL]

Starts ``strangler up`` on free ports with a private var directory (the tutorials' harness),
as ``make up`` does: SQLite, the embedded file-system broker. For ``--seconds`` it changes
product prices through the proxy as the staff user at ``--rate`` writes/s (round robin over
50 products, so a row is written many times), and every 10 s times one write's journey to
the catalog service (PATCH acknowledged, then the catalog's own API polled until it shows the
price: the sync's end-to-end lag through the broker). At the end it waits for the sync to
drain and compares every written product's price on the monolith and on the catalog.

Then, unless ``--reference-seconds 0``, the same for ``--reference-seconds`` on a Redis broker
(``--reference-broker``, default the machine's Redis, database 12), and prints the ratios.

Prints: writes acknowledged, products that differ at the end (must be 0), lag p50/p99/max,
process restarts and crash lines (``Unrecoverable error``, tracebacks) seen in the stack's
output. Asserts nothing; exit status 2 when the stack does not start.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.tutorials.harness import Command, Session

PRODUCTS = 50
LAG_SAMPLE_EVERY_SECONDS = 10.0
# The demo's relay runs every 2 s and a nudge is immediate: a minute unconverged is a loss.
CONVERGE_DEADLINE_SECONDS = 60.0
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass
class Figures:
    label: str
    seconds: float = 0.0
    acknowledged: int = 0
    refused: int = 0
    lags: list[float] = field(default_factory=list)
    unconverged_samples: int = 0
    differing_at_end: int = 0
    restarts: int = 0
    crash_lines: list[str] = field(default_factory=list)


def _soak(label: str, seconds: float, rate: float, broker: str | None) -> Figures:
    figures = Figures(label)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        session = Session(Path(tmp) / "var")
        session.env["PROXY_ADMIN_TOKEN"] = "insecure-demo-admin-token"
        if broker:
            session.env["CELERY_BROKER_URL"] = broker
        try:
            session.run(
                Command(
                    line=0,
                    text="strangler up --stack stack.yaml",
                    expected=[],
                    background_until="Press Ctrl-C to stop everything.",
                )
            )
        except AssertionError as exc:
            print(f"the stack did not start: {exc}", file=sys.stderr)
            raise SystemExit(2) from exc
        try:
            _drive(session, figures, seconds, rate)
        finally:
            lines = [line for _, out, _ in session.background for line in out]
            figures.restarts = sum("restarting it" in line for line in lines)
            figures.crash_lines = [
                line for line in lines if "Unrecoverable error" in line or "Traceback" in line
            ]
            try:
                session.stop()
            except AssertionError as exc:
                print(f"{label}: the stack did not stop cleanly: {exc}", file=sys.stderr)
    return figures


def _drive(session: Session, figures: Figures, seconds: float, rate: float) -> None:
    proxy = f"http://127.0.0.1:{session.ports['PROXY_PORT']}"
    catalog = f"http://127.0.0.1:{session.ports['CATALOG_PORT']}"
    http = requests.Session()
    token = http.post(
        f"{proxy}/api/v1/auth/token/",
        json={"username": "staff", "password": "staff-demo-password"},
        timeout=HTTP_TIMEOUT_SECONDS,
    ).json()["token"]
    http.headers["Authorization"] = f"Token {token}"
    listing = http.get(f"{proxy}/api/v1/products/?page_size={2 * PRODUCTS}", timeout=10).json()
    # Products anyone can read (inactive ones answer 404 to anonymous readers); the catalog
    # has a product once the sync carried its first write.
    monolith = f"http://127.0.0.1:{session.ports['MONOLITH_PORT']}"
    readable = [row["id"] for row in listing["results"] if _price(monolith, row["id"])]
    products = readable[:PRODUCTS]
    last: dict[int, str] = {}
    start = time.monotonic()
    next_sample = start
    n = 0
    while (now := time.monotonic()) - start < seconds:
        product = products[n % len(products)]
        price = f"{10 + n % 9000 / 100:.2f}"
        n += 1
        answer = http.patch(
            f"{proxy}/api/v1/products/{product}/",
            json={"price": price},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        if answer.status_code != 200:
            figures.refused += 1
            continue
        figures.acknowledged += 1
        last[product] = price
        if now >= next_sample:
            next_sample = now + LAG_SAMPLE_EVERY_SECONDS
            lag = _time_to_catalog(catalog, product, price)
            if lag is None:
                figures.unconverged_samples += 1
            else:
                figures.lags.append(lag)
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
    figures.seconds = time.monotonic() - start
    deadline = time.monotonic() + CONVERGE_DEADLINE_SECONDS
    differing = dict(last)
    while differing and time.monotonic() < deadline:
        differing = {p: v for p, v in differing.items() if _price(catalog, p) != v}
        time.sleep(0.5)
    figures.differing_at_end = len(differing)
    for product, price in sorted(differing.items()):
        print(
            f"  product {product}: wrote {price}, monolith has {_price(monolith, product)}, "
            f"catalog has {_price(catalog, product)}"
        )


def _price(base: str, product: int) -> str | None:
    try:
        answer = requests.get(f"{base}/api/v1/products/{product}/", timeout=HTTP_TIMEOUT_SECONDS)
    except requests.RequestException:
        return None
    return str(answer.json()["price"]) if answer.status_code == 200 else None


def _time_to_catalog(catalog: str, product: int, price: str) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < CONVERGE_DEADLINE_SECONDS:
        if _price(catalog, product) == price:
            return time.monotonic() - began
        time.sleep(0.05)
    return None


def _print(figures: Figures) -> None:
    lags = sorted(figures.lags)
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
    print(f"== {figures.label} ({figures.seconds:.0f} s) ==")
    print(f"  writes acknowledged      {figures.acknowledged} ({figures.refused} refused)")
    print(f"  products differing at end {figures.differing_at_end}")
    print(
        f"  lag to the catalog        p50 {statistics.median(lags) if lags else float('nan'):.2f} s"
        f"  p99 {p99:.2f} s  max {max(lags, default=float('nan')):.2f} s"
        f"  ({len(lags)} samples, {figures.unconverged_samples} not converged in "
        f"{CONVERGE_DEADLINE_SECONDS:.0f} s)"
    )
    print(f"  process restarts          {figures.restarts}")
    print(f"  crash lines               {len(figures.crash_lines)}")
    for line in figures.crash_lines[:10]:
        print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--rate", type=float, default=5.0, help="writes per second")
    parser.add_argument("--reference-seconds", type=float, default=300.0)
    parser.add_argument("--reference-broker", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    embedded = _soak("embedded broker", args.seconds, args.rate, None)
    _print(embedded)
    if args.reference_seconds > 0:
        reference = _soak("Redis broker", args.reference_seconds, args.rate, args.reference_broker)
        _print(reference)
        if embedded.lags and reference.lags:
            ratio = statistics.median(embedded.lags) / statistics.median(reference.lags)
            print(f"lag p50, embedded / Redis: {ratio:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
