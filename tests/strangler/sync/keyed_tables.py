"""The test project's tables keyed by a UUID, by text and by a big integer, as tests use them.

Each ``Keyed`` knows its model, how its keys are written on the wire and in beta's database
(a UUID is 32 hex digits in SQLite, a ``uuid`` in PostgreSQL), and makes deterministic keys
that put each engine's ordering to work: random UUIDs, text in mixed case with accents and
digits, integers over the whole ``bigint`` span (both ends, and 19-digit ones).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from strangler.sync.changelog import SendTable, send_table
from strangler.sync.config import sync_settings
from strangler.sync.marking import applying
from tests.strangler.sync.conftest import Node
from tests.sync_project.widgets.models import Label, Shipment, Voucher

__all__ = ["KEYED", "Keyed"]

# No two letters one collation folds together (MySQL's default utf8mb4_general_ci has Ä = a):
# every node's table holds every key, while the orders still differ by case and accent.
_LETTERS = "abcXYZéÑø019-_ "


def _uuids(count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(count)]


def _texts(count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 12))).strip() or "k")
    return sorted(found)


def _big_integers(count: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    ends = [-(2**63), 2**63 - 1, 10**18, -(10**18) - 7, 0]
    found = set(ends)
    while len(found) < count:
        found.add(rng.randint(-(2**63), 2**63 - 1))
    return sorted(found)


@dataclass(frozen=True)
class Keyed:
    """One keyed table of the test project."""

    model: type[models.Model]
    key_column: str
    value_column: str  # a column a planted difference changes
    make_keys: Callable[[int, int], list[Any]]
    extra: Callable[[str], dict[str, Any]]  # the other columns of a row, by its name

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return self.model._meta.label

    def keys(self, count: int, *, seed: int = 1) -> list[Any]:
        return self.make_keys(count, seed)

    def send_table(self) -> SendTable:
        [entry] = [e for e in sync_settings().outbound_to("beta") if e.model == self.label]
        return send_table(entry)

    def seed(self, keys: list[Any]) -> None:
        """Rows that were there before capture was installed: version 0, no change rows."""
        with transaction.atomic(), applying():
            self.model._base_manager.bulk_create(
                self.model(**{self.key_column: key, "name": f"n-{i}", **self.extra(f"n-{i}")})
                for i, key in enumerate(keys)
            )

    def alpha_rows(self) -> dict[str, tuple[Any, ...]]:
        """Wire key -> (name, value as text), this process's (alpha's) rows."""
        rows = self.model._base_manager.values_list(self.key_column, "name", self.value_column)
        return {str(key): (name, _text(value)) for key, name, value in rows}

    def beta_rows(self, beta: Node) -> dict[str, tuple[Any, ...]]:
        """Wire key -> (name, value as text), read from beta's database."""
        rows = beta.db.rows(
            f"SELECT {self.key_column}, name, {self.value_column} FROM {self.table}"
        )
        return {self.wire(key): (name, _text(value)) for key, name, value in rows}

    def wire(self, stored: Any) -> str:
        """A key as beta's database returns it, as it travels."""
        if self.model is Voucher:
            return str(uuid.UUID(str(stored)))
        return str(stored)

    def db(self, beta: Node, key: Any) -> Any:
        """``key`` as a parameter of beta's SQL."""
        if self.model is Voucher and beta.db.sqlite_path is not None:
            return key.hex
        return str(key) if self.model is Voucher else key

    def row_text(self, beta: Node, key: Any) -> str:
        """``key`` as beta's capture triggers write it in ``strangler_sync_row``."""
        if self.model is Voucher and beta.db.sqlite_path is not None:
            return str(key.hex)
        return str(key)

    def beta_versions(self, beta: Node) -> dict[str, tuple[int, bool]]:
        """Wire key -> (version, deleted) of beta's version rows of this table."""
        rows = beta.db.rows(
            "SELECT pk, version, deleted FROM strangler_sync_row WHERE table_name = %s",
            [self.table],
        )
        return {self.wire(pk): (version, bool(deleted)) for pk, version, deleted in rows}


def _text(value: Any) -> str:
    """A number as the same text whatever a database returns it as (SQLite: 5 for 5.00)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"{float(value):.2f}"
    return str(value)


KEYED = {
    "uuid": Keyed(Voucher, "id", "amount", _uuids, lambda _: {"amount": Decimal("9.99")}),
    "text": Keyed(Label, "code", "position", _texts, lambda _: {"position": 3}),
    "bigint": Keyed(Shipment, "id", "amount", _big_integers, lambda _: {"amount": Decimal("5")}),
}
