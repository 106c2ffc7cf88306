"""The demo stack, started once for the module with ``strangler up`` on free ports.

Built on the tutorials' harness (tests/tutorials/harness.py): a private
``STRANGLER_VAR_DIR``, the ports moved by the environment alone, a copy of routes.yaml as
written, and Ctrl-C to the process group at the end. :class:`Stack` runs the toolkit's
commands in that environment and talks HTTP to the proxy and the services.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.tutorials.harness import REPO, Command, Session

# Every toolkit command here answers in seconds; a plan step with `--wait 60` in about a
# minute. Past three minutes a command is stuck, not slow.
COMMAND_TIMEOUT_SECONDS = 180
# The services answer from a local SQLite database: seconds would be a hung server.
HTTP_TIMEOUT_SECONDS = 10
# Conditions (a lag growing, a write carried back) settle within a few heartbeats (2 s each
# in the demo) and relay passes (10 s): a minute is ample.
CONDITION_DEADLINE_SECONDS = 60.0
CONDITION_POLL_SECONDS = 0.5
# What the tutorials have the reader export: demo mode for the commands that load a project's
# settings, and the demo secrets for the CLI's calls to the proxy's admin API and the nodes.
DEMO_SECRETS = {
    "STRANGLER_DEMO": "1",
    "PROXY_ADMIN_TOKEN": "insecure-demo-admin-token",
    "STRANGLER_SYNC_SECRET": "insecure-demo-sync-secret",
}


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int
    output: str

    def json(self) -> Any:
        return json.loads(self.output)

    def expect(self, code: int, *texts: str) -> Result:
        """Assert the exit status and that the output says each of ``texts``."""
        assert self.code == code, str(self)
        for text in texts:
            assert text in self.output, f"{text!r} missing from {self}"
        return self

    def __str__(self) -> str:
        return f"`{' '.join(self.args)}` exited {self.code}:\n{self.output}"


class Stack:
    """The running stack and the commands an operator types at it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.env = session.env
        ports = session.ports
        self.proxy = f"http://127.0.0.1:{ports['PROXY_PORT']}"
        self.monolith = f"http://127.0.0.1:{ports['MONOLITH_PORT']}"
        self.catalog = f"http://127.0.0.1:{ports['CATALOG_PORT']}"
        self.http = requests.Session()

    def run(self, *args: str, stdout_only: bool = False) -> Result:
        completed = subprocess.run(
            list(args),
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if stdout_only else subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        return Result(tuple(args), completed.returncode, completed.stdout)

    def ok(self, *args: str, stdout_only: bool = False) -> Result:
        result = self.run(*args, stdout_only=stdout_only)
        assert result.code == 0, f"{result}\n\nthe stack's last lines:\n{self.tail()}"
        return result

    def plan(self, *args: str) -> Result:
        return self.run("strangler", "plan", *args)

    def plan_status(self) -> dict[str, Any]:
        # Exit status 1 only says the current gate has not passed; the JSON says the rest.
        result = self.run("strangler", "plan", "status", "catalog", "--json", stdout_only=True)
        assert result.code in (0, 1), str(result)
        status: dict[str, Any] = result.json()
        return status

    def current_step(self) -> str | None:
        current = [s["name"] for s in self.plan_status()["steps"] if s["state"] == "current"]
        return current[0] if current else None

    def routes(self) -> dict[str, dict[str, Any]]:
        listing = self.ok("strangler", "routes", "list", "--json", stdout_only=True).json()
        rows = listing["routes"] if isinstance(listing, dict) else listing
        return {row["name"]: row for row in rows}

    def manage(self, node: str, *args: str) -> Result:
        """A node's management command; stdout only, so a ``--json`` report stays parsable
        when the command also complains on stderr (as ``sync_reconcile`` does on exit 1)."""
        return self.run("python", "-m", node, *args, stdout_only=True)

    def shell(self, node: str, code: str) -> Result:
        return self.ok("python", "-m", node, "shell", "-v", "0", "-c", code)

    def get(self, url: str) -> requests.Response:
        # A fresh cookie jar each time: the canary keys its choice on a cookie it issues,
        # so each request is a new visitor.
        self.http.cookies.clear()
        return self.http.get(url, timeout=HTTP_TIMEOUT_SECONDS)

    def price(self, base: str, product: int) -> str:
        response = self.get(f"{base}/api/v1/products/{product}/")
        assert response.status_code == 200, (response.status_code, response.text[:300])
        return str(response.json()["price"])

    def browse(self, count: int, products: list[int]) -> dict[int, int]:
        """``count`` product pages through the proxy, cycling over ``products``; by status."""
        statuses: dict[int, int] = {}
        for i in range(count):
            status = self.get(f"{self.proxy}/api/v1/products/{products[i % len(products)]}/")
            statuses[status.status_code] = statuses.get(status.status_code, 0) + 1
        return statuses

    def tail(self) -> str:
        return self.session.background_tail()


def wait_until(
    what: str,
    read: Callable[[], Any],
    until: Callable[[Any], bool] = bool,
    *,
    deadline_seconds: float = CONDITION_DEADLINE_SECONDS,
) -> Any:
    """Poll ``read`` until ``until`` holds of what it read (returned); at the deadline, fail
    naming ``what`` and showing the last reading."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        value = read()
        if until(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {deadline_seconds:g} s: {what}; last read: {value!r}")
        time.sleep(CONDITION_POLL_SECONDS)


# Set to a PostgreSQL server's URL (no database name) to run the stack on PostgreSQL: each
# node gets a fresh database there, dropped at the end (.ci/run's second pass).
POSTGRES_VARIABLE = "E2E_POSTGRES_URL"


@contextlib.contextmanager
def _postgres_databases(server: str, names: list[str]) -> Iterator[list[str]]:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield [f"{server}/{name}" for name in names]
        finally:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir: Path = tmp_path_factory.mktemp("e2e") / "var"
    session = Session(var_dir)
    session.env.update(DEMO_SECRETS)
    with contextlib.ExitStack() as databases:
        server = os.environ.get(POSTGRES_VARIABLE, "").rstrip("/")
        if server:
            names = [f"e2e_monolith_{os.getpid()}", f"e2e_catalog_{os.getpid()}"]
            monolith_db, catalog_db = databases.enter_context(_postgres_databases(server, names))
            session.env["DATABASE_URL"] = monolith_db
            session.env["CATALOG_DATABASE_URL"] = catalog_db
        yield from _running(session)


def _running(session: Session) -> Iterator[Stack]:
    try:
        session.run(
            Command(
                line=0,
                text="strangler up --stack stack.yaml",
                expected=[],
                background_until="Press Ctrl-C to stop everything.",
            )
        )
        running = Stack(session)
        yield running
        running.http.close()
    finally:
        session.stop()
