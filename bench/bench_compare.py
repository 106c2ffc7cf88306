"""Comparisons per second per core of the comparison engine, on catalog-like JSON bodies.

    .venv/bin/python bench/bench_compare.py [--seconds 2]

Bodies are shaped like the storefront's product API: a detail (~1 KB) and a list page of
20 products with descriptions (~29 KB). Cases per size:

- identical: the same bytes on both sides (the common case once a route is clean);
- reordered: the same document with members in another order and other spacing, so the
  canonical form is needed;
- 3 differences: three fields changed (a price, a stock level, a timestamp), so the full
  structural walk, the noise judgement and the cluster bookkeeping all run.

Each case runs ``CompareEngine.compare`` (aggregates included) in one thread for
``--seconds``, after a short warm-up, and prints the rate and the time per comparison.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from strangler.compare import CompareEngine, HttpRequest, HttpResponse

HEADERS = (("Content-Type", "application/json"), ("Vary", "Accept, Cookie"))


def _product(rng: random.Random, ident: int, description_words: int) -> dict[str, Any]:
    words = [
        rng.choice(["solid", "oak", "mug", "blue", "handmade", "large", "set"])
        for _ in range(description_words)
    ]
    return {
        "id": ident,
        "name": f"Product {ident}",
        "slug": f"product-{ident}",
        "sku": f"SKU-{ident:06d}",
        "description": " ".join(words),
        "price": f"{rng.randint(100, 99_999) / 100:.2f}",
        "currency": "EUR",
        "category": rng.randint(1, 40),
        "is_active": True,
        "stock_available": rng.randint(0, 500),
        "in_stock": True,
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-06-01T10:00:00Z",
    }


def _documents(rng: random.Random) -> dict[str, Any]:
    detail = _product(rng, 42, 120)
    page = {
        "count": 1000,
        "next": "http://127.0.0.1:8100/api/v1/products/?page=3",
        "previous": "http://127.0.0.1:8100/api/v1/products/?page=1",
        "results": [_product(rng, i, 210) for i in range(20)],
    }
    return {"~1 KB detail": detail, "~29 KB list": page}


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


def _changed(value: Any) -> Any:
    doc = json.loads(json.dumps(value))
    target = doc["results"][3] if "results" in doc else doc
    target["price"] = "1.00"
    target["stock_available"] += 1
    target["updated_at"] = "2024-06-02T10:00:00Z"
    return doc


def _rate(
    engine: CompareEngine, base: HttpResponse, candidate: HttpResponse, seconds: float
) -> float:
    request = HttpRequest("GET", "/api/v1/products/")
    for _ in range(50):
        engine.compare("bench", request, base, candidate)
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            engine.compare("bench", request, base, candidate)
        done += 50
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per case (default 2)")
    args = parser.parse_args()
    rng = random.Random(1)
    print(f"{'body':<14} {'case':<15} {'bytes':>7} {'cmp/s':>9} {'us/cmp':>8}")
    for label, document in _documents(rng).items():
        base_bytes = json.dumps(document).encode()
        cases = {
            "identical": base_bytes,
            "reordered": json.dumps(_reordered(document), indent=1).encode(),
            "3 differences": json.dumps(_changed(document)).encode(),
        }
        for case, candidate_bytes in cases.items():
            engine = CompareEngine()
            rate = _rate(
                engine,
                HttpResponse(200, HEADERS, base_bytes),
                HttpResponse(200, HEADERS, candidate_bytes),
                args.seconds,
            )
            print(f"{label:<14} {case:<15} {len(base_bytes):>7} {rate:>9.0f} {1e6 / rate:>8.1f}")


if __name__ == "__main__":
    main()
