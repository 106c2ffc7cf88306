from __future__ import annotations

import pytest

from tests.refused_writers import REFUSED_WRITER_IDS, REFUSED_WRITERS


@pytest.fixture(params=REFUSED_WRITERS, ids=REFUSED_WRITER_IDS)
def non_staff(request):
    """A non-staff client with the status and code its inventory calls are refused with."""
    name, status, code = request.param
    return request.getfixturevalue(name), status, code
