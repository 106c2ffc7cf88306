"""API clients for the catalog service, one per kind of caller the proxy can vouch for.

The service has no users: a caller is anonymous, or whoever a signed ``X-Strangler-Identity``
names (as the proxy sends it), signed here with the service's own secret.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.extracted.catalog.identities import ALICE, BOB, STELLA, client_for


@pytest.fixture
def anon_api(db: None) -> APIClient:
    return client_for(None)


@pytest.fixture
def customer_api(db: None) -> APIClient:
    return client_for(ALICE)


@pytest.fixture
def other_api(db: None) -> APIClient:
    return client_for(BOB)


@pytest.fixture
def staff_api(db: None) -> APIClient:
    return client_for(STELLA)
