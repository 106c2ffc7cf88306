"""Write the README's picture of the dashboard: docs/images/dashboard.png.

    .venv/bin/python -m tests.dashboard.screenshot [--output PATH]

Starts the demo stack as ``make up`` does (``strangler up``, on free ports, in a private
var directory, its dashboard on the repository's migration plans among its processes), takes the
catalog plan to its first canary with some browsing through the proxy so that every section
has figures, and saves a full-page screenshot in Debian's Chromium as a visitor without the
token sees it (no examples, no identities: a picture for a README).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.dashboard.conftest import VIEWPORT, stack_session
from tests.e2e.conftest import Stack, _running
from tests.tutorials.harness import REPO

OUTPUT = REPO / "docs" / "images" / "dashboard.png"
PLANS = REPO / "migration_plans"
CHROMIUM = "/usr/bin/chromium"
BROWSED = list(range(1, 61))  # the demo's products, as the tutorials browse them
SHADOWED_REQUESTS = 250  # the catalog plan's shadow gate counts 200
CANARY_REQUESTS = 300  # enough for the service's side to have rates and a p99
# A minute covers the dashboard's one-minute rate window many times over.
SETTLE_MS = 60_000


def walk(stack: Stack) -> None:
    """The catalog plan to its first canary, with traffic compared and served on the way."""
    for step in ("backfill", "sync", "verify", "shadow"):
        next_step(stack, step)
    stack.browse(SHADOWED_REQUESTS, BROWSED)
    next_step(stack, "canary-10")
    stack.browse(CANARY_REQUESTS, BROWSED)


def next_step(stack: Stack, step: str) -> None:
    stack.ok("strangler", "plan", "next", "catalog", "--plans", str(PLANS), "--wait", "60")
    print(f"applied {step}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dashboard-screenshot-") as scratch:
        session = stack_session(Path(scratch) / "var")
        stack_running = contextlib.contextmanager(_running)(session)
        with stack_running as stack, sync_playwright() as playwright:
            walk(stack)
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport=VIEWPORT)
            # The dashboard `make up` starts (stack.yaml), on the repository's plans.
            page.goto(f"http://127.0.0.1:{session.ports['DASHBOARD_PORT']}/")
            status = page.locator("#status-line")
            expect(status).to_have_attribute("data-connection", "live")
            current = page.locator('#plans [data-plan="catalog"] [data-current="true"]')
            expect(current).to_have_attribute("data-step", "canary-10", timeout=SETTLE_MS)
            # The rates are the difference between polls: wait for the canary's traffic.
            rps = page.locator('#routes tr[data-route="catalog-products"] [data-field="rps"]')
            expect(rps).to_have_text(re.compile(r"[1-9]"), timeout=SETTLE_MS)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.output, full_page=True)
            browser.close()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
