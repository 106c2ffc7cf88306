"""The dashboard against a real stack, in a real browser: Playwright driving Debian's Chromium.

Playwright's own browser download cannot run on these machines, so the tests launch the
system's Chromium (``apt-get install chromium``) by its path. Where it is missing the tests
skip with the install command in the reason, and the summary says so in capitals; under
``STRANGLER_REQUIRE_CHROMIUM=1`` (``.ci/run``) they fail instead.

One stack per module, started as the e2e suite starts it (``strangler up`` on free ports,
tests/e2e/conftest.py), with a third route no plan moves (the route the CLI changes). The
stack runs its own dashboard, as ``make up`` does, on the repository's plans; the tests
start another ``strangler dashboard`` process beside it on a plans directory of their own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.e2e.conftest import DEMO_SECRETS, Stack, _running
from tests.tutorials.harness import REPO, Session, free_port

REQUIRE_VARIABLE = "STRANGLER_REQUIRE_CHROMIUM"
MISSING = "chromium not installed: apt-get install chromium"
# Where each view's screenshot goes (var/ is ignored by git; kept after the run to look at).
OUTPUT_DIR = REPO / "var" / "test-output" / "dashboard"
# The dashboard answers its first page within a second or two of starting; 60 s is a hang.
DASHBOARD_START_SECONDS = 60.0
# A route the catalog plan does not move: the tests change it with the CLI.
SPARE_ROUTE = "catalog-spare"
SPARE_ROUTE_YAML = f"""
  - name: {SPARE_ROUTE}
    prefix: /api/v1/spare/
    owner: catalog
    mode: monolith
    fallback: true
"""

_skipped: list[str] = []


def chromium_or_skip() -> str:
    """The system Chromium's path; without it, skip loudly (fail under the variable)."""
    found = shutil.which("chromium") or shutil.which("chromium", path="/usr/bin")
    if found:
        return found
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{MISSING}; {REQUIRE_VARIABLE}=1 requires the browser tests to run")
    _skipped.append(MISSING)
    pytest.skip(f"{MISSING}: the dashboard's browser tests did NOT run")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped:
        banner = f"{MISSING.upper()}: THE BROWSER TESTS DID NOT RUN"
        terminalreporter.write_sep("!", banner, red=True)


# Playwright's default wait for an expectation is 5 s; `make test` runs this suite beside
# others on two cores, where a page's first document can take longer. A bound that matters
# (the 2 s for a change to show) is measured and asserted by the test itself.
EXPECT_MS = 20_000
expect.set_options(timeout=EXPECT_MS)
# A laptop's screen: the issue asks that the page read well on one.
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}


@dataclass
class Dashboard:
    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def tail(self, count: int = 40) -> str:
        return "\n".join(self.lines[-count:])


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="module")
def stack(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var_dir: Path = tmp_path_factory.mktemp("dashboard") / "var"
    session = stack_session(var_dir)
    routes = Path(session.env["STRANGLER_ROUTES"])
    routes.write_text(routes.read_text(encoding="utf-8") + SPARE_ROUTE_YAML, encoding="utf-8")
    yield from _running(session)


def stack_session(var_dir: Path) -> Session:
    """The e2e suite's session (the stack's own dashboard, stack.yaml, on a free port like
    every other port of the stack)."""
    session = Session(var_dir)
    session.env.update(DEMO_SECRETS)
    return session


@contextlib.contextmanager
def running_dashboard(stack: Stack, plans: Path) -> Iterator[Dashboard]:
    port = free_port()
    admin = f"http://127.0.0.1:{stack.session.ports['PROXY_ADMIN_PORT']}"
    command = ["strangler", "dashboard", "--plans", str(plans), "--admin", admin,
               "--port", str(port), "--interval", "1"]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    dashboard = Dashboard(f"http://127.0.0.1:{port}", process)
    assert process.stdout is not None
    reader = threading.Thread(
        target=lambda: dashboard.lines.extend(line.rstrip("\n") for line in process.stdout),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        _wait_for_first_page(dashboard)
        yield dashboard
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_first_page(dashboard: Dashboard) -> None:
    deadline = time.monotonic() + DASHBOARD_START_SECONDS
    while True:
        if dashboard.process.poll() is not None:
            raise AssertionError(
                f"strangler dashboard exited {dashboard.process.returncode}:\n{dashboard.tail()}"
            )
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{dashboard.url}/api/overview", timeout=5).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"strangler dashboard did not answer within {DASHBOARD_START_SECONDS:g} s:\n"
                + dashboard.tail()
            )
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Visit:
    """A page in a fresh browser context, with every console error and uncaught exception
    the page raised."""

    page: Page
    errors: list[str]

    def screenshot(self, name: str, selector: str | None = None) -> Path:
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUTPUT_DIR / f"{name}.png"
        if selector is None:
            # From the top: the page's header is sticky, and would sit wherever it was scrolled.
            self.page.evaluate("window.scrollTo(0, 0)")
            self.page.screenshot(path=path, full_page=True)
        else:
            self.page.locator(selector).screenshot(path=path)
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console error: {message.text} ({message.location})")

    def on_page_error(error: Error) -> None:
        errors.append(f"uncaught: {error.message}\n{error.stack}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield Visit(page, errors)
    finally:
        context.close()
