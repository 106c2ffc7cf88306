"""The side under test, and an API client per caller, whichever side answers.

``side`` is parametrised with the one side pytest's settings load, so a test's id names it
(``test_...[monolith]``, ``test_...[catalog]``).
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.catalog_contract.sides import CatalogSide, side_for
from tests.refused_writers import REFUSED_WRITER_IDS, REFUSED_WRITERS

_SETTINGS_MODULE = django_settings.SETTINGS_MODULE


@pytest.fixture(
    scope="session", params=[_SETTINGS_MODULE], ids=lambda module: module.split(".")[-2]
)
def side(request: pytest.FixtureRequest) -> CatalogSide:
    return side_for(request.param)


@pytest.fixture(autouse=True)
def _side_settings(side: CatalogSide, settings) -> None:
    for name, value in side.test_settings.items():
        setattr(settings, name, value)


@pytest.fixture
def anon_api(side: CatalogSide, db: None) -> APIClient:
    return side.client_for("anon")


@pytest.fixture
def customer_api(side: CatalogSide, db: None) -> APIClient:
    return side.client_for("customer")


@pytest.fixture
def other_api(side: CatalogSide, db: None) -> APIClient:
    return side.client_for("other")


@pytest.fixture
def staff_api(side: CatalogSide, db: None) -> APIClient:
    return side.client_for("staff")


@pytest.fixture(params=["anon_api", "customer_api", "other_api"])
def shopper_api(request: pytest.FixtureRequest) -> APIClient:
    """Each client that is not staff: anonymous, a customer, another customer."""
    client: APIClient = request.getfixturevalue(request.param)
    return client


@pytest.fixture(params=REFUSED_WRITERS, ids=REFUSED_WRITER_IDS)
def refused_writer(request: pytest.FixtureRequest) -> tuple[APIClient, int, str]:
    """A non-staff client with the status and code a write of theirs is refused with."""
    name, status, code = request.param
    return request.getfixturevalue(name), status, code
