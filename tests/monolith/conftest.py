from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from monolith.accounts.models import User
from tests.monolith.clients import client_for
from tests.monolith.factories import FAST_PASSWORD_HASHERS, make_user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture
def customer(db: None) -> User:
    return make_user(username="alice")


@pytest.fixture
def other_customer(db: None) -> User:
    return make_user(username="bob")


@pytest.fixture
def staff(db: None) -> User:
    return make_user(username="stella", is_staff=True)


@pytest.fixture
def anon_api(db: None) -> APIClient:
    return client_for(None)


@pytest.fixture
def customer_api(customer: User) -> APIClient:
    return client_for(customer)


@pytest.fixture
def other_api(other_customer: User) -> APIClient:
    return client_for(other_customer)


@pytest.fixture
def staff_api(staff: User) -> APIClient:
    return client_for(staff)
