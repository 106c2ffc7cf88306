from __future__ import annotations

import pytest


@pytest.fixture(params=["anon_api", "customer_api", "other_api"])
def shopper_api(request):
    """Each client that is not staff: anonymous, a customer, another customer."""
    return request.getfixturevalue(request.param)


@pytest.fixture(
    params=[
        ("anon_api", 401, "not_authenticated"),
        ("customer_api", 403, "permission_denied"),
        ("other_api", 403, "permission_denied"),
    ],
    ids=["anonymous", "customer", "other-customer"],
)
def refused_writer(request):
    """A non-staff client with the status and code a write of theirs is refused with."""
    name, status, code = request.param
    return request.getfixturevalue(name), status, code
