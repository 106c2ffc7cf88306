from __future__ import annotations

import pytest

from monolith.accounts.models import User
from monolith.orders.models import Order
from tests.monolith.factories import make_product
from tests.monolith.orders.factories import make_order


@pytest.fixture
def instant_timeouts(settings) -> None:
    """The timeout test card gives up at once instead of after the configured wait."""
    settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS = 0


@pytest.fixture
def order(customer: User) -> Order:
    """A pending order of the customer, 2 x 12.50 EUR."""
    return make_order(user=customer, lines={make_product(price="12.50"): 2})
