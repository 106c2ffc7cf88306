from __future__ import annotations

import pytest


@pytest.fixture(
    params=[
        ("anon_api", 401, "not_authenticated"),
        ("customer_api", 403, "permission_denied"),
        ("other_api", 403, "permission_denied"),
    ],
    ids=["anonymous", "customer", "other-customer"],
)
def non_staff(request):
    """A non-staff client with the status and code its inventory calls are refused with."""
    name, status, code = request.param
    return request.getfixturevalue(name), status, code
