"""The real checkers the deploy files are run through, found on the machine or skipped loudly.

promtool (Debian's `prometheus` package) and haproxy (Debian's `haproxy`) check the
Prometheus and load balancer configurations the way the servers would read them. A machine
without them skips those tests with the install command in the reason; CI sets
``STRANGLER_REQUIRE_PROMETHEUS=1`` / ``STRANGLER_REQUIRE_HAPROXY=1`` so that a missing tool
fails instead of passing unchecked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def _tool(program: str, package: str, variable: str) -> Path:
    found = shutil.which(program)
    if found:
        return Path(found)
    message = f"{program} is not installed (apt-get install -y {package}): NOT CHECKED"
    if os.environ.get(variable) == "1":
        pytest.fail(f"{message}, and {variable}=1 requires it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def promtool() -> Path:
    return _tool("promtool", "prometheus", "STRANGLER_REQUIRE_PROMETHEUS")


@pytest.fixture(scope="session")
def haproxy() -> Path:
    return _tool("haproxy", "haproxy", "STRANGLER_REQUIRE_HAPROXY")
