"""Builders for order and payment tests: orders placed through the real service, and racers
lined up on a barrier, each on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection

from monolith.accounts.models import User
from monolith.catalog.models import Product
from monolith.orders.models import Order
from monolith.orders.services import ShippingAddress, order_place
from tests.monolith.factories import make_address

# Long enough for 12 serialised placements on a slow CI disk; a hung racer fails the test
# instead of the 120 s per-test timeout killing the run.
RACE_DEADLINE_SECONDS = 60


def make_order(*, user: User, lines: Mapping[Product, int], **shipping: Any) -> Order:
    """A pending order placed (and its stock reserved) through ``order_place``."""
    address = user.addresses.first() or make_address(user=user)
    return order_place(
        user=user,
        shipping=ShippingAddress.from_address(address),
        quantities={product.pk: quantity for product, quantity in lines.items()},
    )


def run_concurrently(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for ``i`` in ``range(count)`` on ``count`` threads released together.

    Returns each racer's result, or the exception it raised. Each thread closes its own
    database connection, so the test database can be flushed afterwards.
    """
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def racer(index: int) -> None:
        try:
            barrier.wait(timeout=RACE_DEADLINE_SECONDS)
            results[index] = work(index)
        except BaseException as error:  # the test asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_DEADLINE_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck"
    return results
