"""Writes running while a plan moves: staff users in both canary cohorts through the proxy,
and one straight at the monolith, each on products of its own so the last accepted write of
every product is known. Checked at the end with plain SQL on each side's database, not with
the code under test."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
import requests

from strangler.proxy.cohort import BUCKETS, canary_bucket
from tests.e2e.conftest import Stack

# About ten writes a second: enough to land writes in every window of a step, little enough
# that the plans' latency gates on two cores are not measuring the writers.
PAUSE_SECONDS = 0.1
PASSWORD = "writer-demo-password"
# A write may wait at a cutover's hold (10 s in the demo plan) and the drain behind it.
WRITE_TIMEOUT_SECONDS = 40.0


@dataclass
class Writer:
    name: str
    base: str  # the proxy, or the monolith itself
    token: str
    user_id: str
    products: list[int]
    in_service_cohort: bool
    session: requests.Session = field(default_factory=requests.Session)


@dataclass
class Tally:
    issued: int = 0
    accepted: int = 0
    last: dict[int, str] = field(default_factory=dict)  # product -> last accepted price
    errors: list[str] = field(default_factory=list)


def make_writers(stack: Stack, products: list[int], *, count: int = 6) -> list[Writer]:
    """``count`` staff users (created in the monolith) writing through the proxy, and one
    more writing straight to the monolith; ``products`` split among them."""
    created = stack.shell(
        "monolith",
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from rest_framework.authtoken.models import Token\n"
        "User = get_user_model()\n"
        "out = {}\n"
        f"for n in range({count + 1}):\n"
        "    user, _ = User.objects.get_or_create(username=f'writer{n}',"
        " defaults={'is_staff': True, 'email': f'writer{n}@example.com'})\n"
        "    user.is_staff = True\n"
        f"    user.set_password('{PASSWORD}')\n"
        "    user.save()\n"
        "    token, _ = Token.objects.get_or_create(user=user)\n"
        "    out[user.username] = [str(user.pk), token.key]\n"
        "print(json.dumps(out))",
    )
    users = json.loads(created.output.strip().splitlines()[-1])
    writers = []
    for n in range(count + 1):
        user_id, token = users[f"writer{n}"]
        writers.append(
            Writer(
                name=f"writer{n}",
                base=stack.monolith if n == count else stack.proxy,
                token=token,
                user_id=user_id,
                products=products[n :: count + 1],
                in_service_cohort=False,
            )
        )
    return writers


def in_service_cohort(user_id: str, percent: float) -> bool:
    """The proxy's own rule (proxy.cohort.canary_bucket) for the catalog's canary."""
    return canary_bucket(owner="catalog", key=user_id) < round(percent * BUCKETS / 100)


class Writing:
    """Writers taking turns in a background thread until ``stop``."""

    def __init__(self, writers: list[Writer]) -> None:
        self.writers = writers
        self.tally = Tally()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._n = 0
        self._lock = threading.Lock()  # write_once is also called from the test's thread

    def __enter__(self) -> Writing:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> Tally:
        self._stop.set()
        self._thread.join(timeout=60)
        return self.tally

    def write_once(self, writer: Writer, product: int) -> str | None:
        with self._lock:
            self._n += 1
            price = f"{Decimal(1000 + self._n) / 100:.2f}"
            self.tally.issued += 1
        try:
            answer = writer.session.patch(
                f"{writer.base}/api/v1/products/{product}/",
                json={"price": price},
                headers={"Authorization": f"Token {writer.token}"},
                timeout=WRITE_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            self.tally.errors.append(f"{writer.name}: {exc}")
            return None
        with self._lock:
            if answer.status_code != 200:
                self.tally.errors.append(f"{writer.name}: {answer.status_code} {answer.text[:120]}")
                return None
            self.tally.accepted += 1
            self.tally.last[product] = price
        return price

    def _run(self) -> None:
        turn = 0
        while not self._stop.is_set():
            writer = self.writers[turn % len(self.writers)]
            product = writer.products[(turn // len(self.writers)) % len(writer.products)]
            self.write_once(writer, product)
            turn += 1
            self._stop.wait(PAUSE_SECONDS)


def prices(database: str, products: list[int]) -> dict[int, str]:
    """Prices straight from a side's database (a SQLite file or a PostgreSQL URL), as text
    with two decimals."""
    if database.startswith("postgres"):
        with psycopg.connect(database) as db:
            rows = db.execute(
                "SELECT id, price FROM catalog_product WHERE id = ANY(%s)", [products]
            ).fetchall()
    else:
        marks = ",".join("?" * len(products))
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows = db.execute(
                f"SELECT id, price FROM catalog_product WHERE id IN ({marks})",
                products,
            ).fetchall()
    return {int(pk): f"{Decimal(str(price)):.2f}" for pk, price in rows}


def wait_for_both_sides(stack: Stack, tally: Tally, *, deadline: float = 60.0) -> int:
    """Until every last accepted write is on both sides; how many are (all, or fail)."""
    var = stack.session.var_dir
    monolith_db = stack.env.get("DATABASE_URL") or str(var / "monolith.sqlite3")
    catalog_db = stack.env.get("CATALOG_DATABASE_URL") or str(var / "catalog.sqlite3")
    products = sorted(tally.last)
    end = time.monotonic() + deadline
    while True:
        monolith = prices(monolith_db, products)
        catalog = prices(catalog_db, products)
        present = [
            p
            for p in products
            if monolith.get(p) == tally.last[p] and catalog.get(p) == tally.last[p]
        ]
        if len(present) == len(products) or time.monotonic() >= end:
            return len(present)
        time.sleep(0.5)
