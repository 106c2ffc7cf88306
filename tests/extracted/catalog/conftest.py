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


@pytest.fixture(params=["anon_api", "customer_api", "other_api"])
def shopper_api(request: pytest.FixtureRequest) -> APIClient:
    """Each client that is not staff: anonymous, a customer, another customer."""
    client: APIClient = request.getfixturevalue(request.param)
    return client


@pytest.fixture(
    params=[
        ("anon_api", 401, "not_authenticated"),
        ("customer_api", 403, "permission_denied"),
        ("other_api", 403, "permission_denied"),
    ],
    ids=["anonymous", "customer", "other-customer"],
)
def refused_writer(request: pytest.FixtureRequest) -> tuple[APIClient, int, str]:
    """A non-staff client with the status and code a write of theirs is refused with
    (the monolith's answers to the same callers)."""
    name, status, code = request.param
    return request.getfixturevalue(name), status, code
