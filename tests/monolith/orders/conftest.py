from __future__ import annotations

import pytest

from monolith.accounts.models import Address, User
from monolith.orders.services import ShippingAddress
from tests.monolith.factories import make_address


@pytest.fixture
def address(customer: User) -> Address:
    return make_address(user=customer, full_name="Alice Example", city="Berlin")


@pytest.fixture
def shipping(address: Address) -> ShippingAddress:
    return ShippingAddress.from_address(address)
