"""The whole stack moves ports with the environment alone.

The repository's own stack.yaml processes (the monolith and the proxy, as written) and its
routes.yaml, as written, started by ``strangler up`` with ``PROXY_PORT``,
``PROXY_ADMIN_PORT``, ``MONOLITH_PORT`` and ``CATALOG_PORT`` set to free ports: nothing
rewritten. The proxy must health-check and reach the monolith on its moved port (before
routes.yaml followed the environment it named 8100, and answered 502), and the CLI must find
the proxy's admin API from the same environment.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import requests
from ruamel.yaml import YAML

from tests.tutorials.harness import REPO, Command, session

# A local answer takes milliseconds: ten seconds is a hung server.
HTTP_TIMEOUT_SECONDS = 10
# What the proxy and the monolith need; the workers, the catalog and the demo data are the
# e2e suite's (tests/e2e/test_catalog_plan.py), and would only make this slower.
PROCESSES = ("monolith", "proxy")
# The proxy checks each upstream every few seconds (strangler.proxy.health): its first
# verdict comes within one interval; 30 s is several.
HEALTH_DEADLINE_SECONDS = 30.0
HEALTH_POLL_SECONDS = 0.2
SETUP = ("migrate the monolith",)


def _stack_file(directory: Path) -> Path:
    """stack.yaml with only :data:`PROCESSES` and :data:`SETUP`, each entry as written."""
    stack = YAML(typ="safe").load((REPO / "stack.yaml").read_text(encoding="utf-8"))
    stack["processes"] = {name: stack["processes"][name] for name in PROCESSES}
    stack["setup"] = [step for step in stack["setup"] if step["name"] in SETUP]
    assert len(stack["setup"]) == len(SETUP), "stack.yaml renamed a setup step"
    stack.pop("urls", None)
    directory.mkdir()
    path = directory / "stack.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML(typ="safe").dump(stack, handle)
    return path


def _first_health_check(proxy: str) -> requests.Response:
    """The proxy's ``/readyz`` once it has health-checked the monolith (either way)."""
    deadline = time.monotonic() + HEALTH_DEADLINE_SECONDS
    while True:
        ready = requests.get(f"{proxy}/readyz", timeout=HTTP_TIMEOUT_SECONDS)
        checked = ready.json().get("upstreams", {}).get("monolith", {}).get("healthy")
        if checked is not None or time.monotonic() > deadline:
            return ready
        time.sleep(HEALTH_POLL_SECONDS)


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_the_stack_moves_its_ports_with_the_environment_alone(tmp_path: Path):
    stack = _stack_file(tmp_path / "stack")
    with session(tmp_path / "var") as reader:
        ports = reader.ports
        assert {"8000", "8001", "8100", "8200"}.isdisjoint(reader.env[n] for n in ports)
        assert "${MONOLITH_PORT:-8100}" in Path(reader.env["STRANGLER_ROUTES"]).read_text()
        reader.run(
            Command(
                line=0,
                text=f"strangler up --stack {stack}",
                expected=[],
                background_until="Press Ctrl-C to stop everything.",
            )
        )
        proxy = f"http://127.0.0.1:{ports['PROXY_PORT']}"
        monolith = f"http://127.0.0.1:{ports['MONOLITH_PORT']}"

        ready = _first_health_check(proxy)
        through = requests.get(f"{proxy}/api/v1/products/", timeout=HTTP_TIMEOUT_SECONDS)
        direct = requests.get(f"{monolith}/api/v1/products/", timeout=HTTP_TIMEOUT_SECONDS)
        listing = subprocess.run(
            ["strangler", "routes", "list", "--json"],
            cwd=REPO,
            env=reader.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert ready.status_code == 200, ready.text
    assert ready.json()["upstreams"]["monolith"]["healthy"] is True, ready.text
    assert through.status_code == 200, through.text[:300]
    assert through.json() == direct.json()
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)["source"] == "admin"
    admin = f"http://127.0.0.1:{ports['PROXY_ADMIN_PORT']}"
    assert listing.stderr.splitlines()[0] == (
        f"using the proxy's admin API at {admin} (from $PROXY_ADMIN_PORT)"
    )
