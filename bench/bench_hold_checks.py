"""Benchmark: what the cutover's write checks add to a request through the proxy.

    .venv/bin/python bench/bench_hold_checks.py [--loops 1000000] [--rounds 7]

Since a write is checked again once its body is read (``moved_while_reading``) and counted
while its upstream answers (``write_in_flight``, the gauge the plan's cutover waits on),
every request makes these calls beside the hold check it already made (``is_held``). Each
is timed in this process on the route table the proxy builds from a one-route file, as the
request path calls them, against ``is_held`` as the reference; the best of ``--rounds``
loops, in nanoseconds a request, with the empty loop taken off. It reports and never
asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import timeit
from pathlib import Path

from strangler.proxy.held_writes import (
    UNREAD,
    Unread,
    is_held,
    moved_while_reading,
    write_answered,
    write_in_flight,
)
from strangler.proxy.table_store import TableStore
from strangler.proxy.upstreams import UpstreamPool

TABLE = """\
upstreams:
  monolith: {url: "http://127.0.0.1:9"}
  catalog: {url: "http://127.0.0.1:9"}
routes:
  - {name: products, prefix: /api/v1/products/, owner: catalog}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loops", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "routes.yaml"
        path.write_text(TABLE, encoding="utf-8")
        store = TableStore(path, UpstreamPool())

        async def load_and_close() -> None:  # the table stays; its upstreams' pools close
            await store.load()
            await store.close()

        asyncio.run(load_and_close())
    table = store.current
    route = table.match("POST", "/api/v1/products/")
    assert route is not None

    def write_checks(method: str) -> None:
        isinstance(UNREAD, Unread)
        moved_while_reading(method, store, table, route)
        gauge = write_in_flight(method, route)
        if gauge is not None:
            write_answered(gauge, None, linger=0)

    cases = {
        "is_held (the reference, every request)": lambda: is_held(store, "products", "POST"),
        "added to a read (GET)": lambda: write_checks("GET"),
        "added to a write (POST)": lambda: write_checks("POST"),
    }

    def best(call: object) -> float:
        timings = timeit.repeat(call, number=args.loops, repeat=args.rounds)  # type: ignore[arg-type]
        return min(timings) / args.loops * 1e9

    empty = best(lambda: None)
    figures = {name: best(call) - empty for name, call in cases.items()}
    reference = figures["is_held (the reference, every request)"]
    print(f"best of {args.rounds} loops of {args.loops:,}, ns a request (empty loop taken off)\n")
    print("| check | ns | ratio to is_held |\n|---|---:|---:|")
    for name, ns in figures.items():
        print(f"| {name} | {ns:.0f} | {ns / reference:.2f} |")


if __name__ == "__main__":
    main()
