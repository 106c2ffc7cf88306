"""The migration dashboard in a browser, against the real stack, as an operator watches it.

One stack and one dashboard for the module; the tests run in order, each taking the plan
a step further (the plan below: the catalog's routes, backfilled, then shadowed):

1. the page renders every section, with no console error (the stack's own dashboard, the
   one ``make up`` starts, too);
2. a route changed with the CLI shows in the open page within 2 s, without a reload;
3. ``plan next`` applies the backfill: the page shows it as the current step, with its
   gate's conditions, figures and verdicts;
4. ``plan next`` applies the shadow step, and the catalog answers one product's price
   differently: the gate fails, and the page names the condition and its figure;
5. a visitor without the admin token sees the difference clusters but no example of them
   (nor in the page's source or its JSON), nor who made a change;
6. after logging in with the admin token the examples show; after logging out they are gone.

Each view's screenshot goes to var/test-output/dashboard/ (the paths are printed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from tests.dashboard.conftest import SPARE_ROUTE, Dashboard, Visit, running_dashboard
from tests.e2e.conftest import DEMO_SECRETS, Stack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PLAN = "catalog"
PLAN_ROUTES = ("catalog-products", "catalog-categories")
# The catalog's extraction cut to the steps a dashboard shows in a minute: the backfill,
# whose gate passes once the copy is done, and the shadow step, whose gate fails on its
# difference rate as soon as a few compared answers differ (a tight bound, a small count)
# while its other condition holds.
PLAN_YAML = """\
version: 1
name: catalog
description: The catalog's routes, backfilled, then shadowed
routes: [catalog-products, catalog-categories]
service: catalog
legacy: monolith
models: [catalog.Category, catalog.Product]
nodes:
  monolith: {url: "http://127.0.0.1:${MONOLITH_PORT}", manage: "python -m monolith"}
  catalog: {url: "http://127.0.0.1:${CATALOG_PORT}", manage: "python -m extracted.catalog"}
steps:
  - kind: backfill
    gate:
      conditions:
        - {figure: sync_backlog, max: 0}
        - {figure: sync_dead_letters, max: 0}
  - kind: shadow
    gate:
      conditions:
        - {figure: shadow_difference_rate, max: 0.001, min_count: 20}
        - {figure: sync_dead_letters, max: 0}
  - kind: canary
    percent: 10
"""
SECTIONS = ("#headline", "#routes", "#comparison", "#sync", "#plans", "#timeline")
# The bound for a change to show in an open page.
LIVE_BOUND_SECONDS = 2.0
# What the page may take for things the stack itself needs time for (a backfill, the
# shadow comparisons of a few dozen requests and their retries): far past a healthy run.
SETTLE_MS = 60_000
# The price the catalog answers for one product while the monolith answers another: the
# difference the shadow step finds, and the text its examples show (only to the logged in).
SHADOW_ONLY_PRICE = "4321.09"
SHADOWED_REQUESTS = 60


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("plans")
    (directory / f"{PLAN}.yaml").write_text(PLAN_YAML, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def dashboard(stack: Stack, plans: Path) -> Iterator[Dashboard]:
    with running_dashboard(stack, plans) as running:
        yield running


@pytest.fixture(scope="module")
def walk() -> dict[str, Any]:
    """What the tests hand on to the next (the product whose price differs)."""
    return {}


def _open(visit: Visit, dashboard: Dashboard) -> Page:
    """The dashboard, loaded and following the live stream."""
    page = visit.page
    page.goto(dashboard.url)
    expect(page.locator("#status-line")).to_have_attribute("data-connection", "live")
    return page


def _no_errors(visit: Visit, dashboard: Dashboard) -> None:
    assert visit.errors == [], "\n".join(visit.errors) + "\n\ndashboard:\n" + dashboard.tail()


def _plan_status(stack: Stack, plans: Path) -> dict[str, Any]:
    result = stack.run(
        "strangler", "plan", "status", PLAN, "--plans", str(plans), "--json", stdout_only=True
    )
    assert result.code in (0, 1), str(result)  # 1: the gate has not passed
    status: dict[str, Any] = result.json()
    return status


def _plan_next(stack: Stack, plans: Path, step: str) -> None:
    result = stack.run("strangler", "plan", "next", PLAN, "--plans", str(plans), "--wait", "60")
    assert result.code == 0, f"{result}\n\nthe stack's last lines:\n{stack.tail()}"
    result.expect(0, f"applied step {step!r}")


def _condition(page: Page, step: str, figure: str) -> Locator:
    """A condition of the gate the page shows for ``step``, once that is the current step."""
    plan = page.locator(f'#plans [data-plan="{PLAN}"]')
    expect(plan.locator(f'[data-step="{step}"]')).to_have_attribute(
        "data-current", "true", timeout=SETTLE_MS
    )
    return plan.locator(f'[data-condition="{figure}"]')


def _overview_json(dashboard: Dashboard, *, admin: bool = False) -> str:
    token = DEMO_SECRETS["PROXY_ADMIN_TOKEN"]
    headers = {"Authorization": f"Bearer {token}"} if admin else {}
    response = requests.get(f"{dashboard.url}/api/overview", headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_the_page_renders_every_section_without_console_errors(
    stack: Stack, dashboard: Dashboard, visit: Visit
) -> None:
    started = time.monotonic()
    page = _open(visit, dashboard)
    loaded = time.monotonic() - started

    for section in SECTIONS:
        expect(page.locator(section)).to_be_visible()
    for route in (*PLAN_ROUTES, SPARE_ROUTE):
        expect(page.locator(f'#routes tr[data-route="{route}"]')).to_have_count(1)
        for field in ("mode", "canary", "write_owner", "rps", "error_rate", "p99", "fallbacks",
                      "breaker", "hold"):  # fmt: skip
            cell = page.locator(f'#routes tr[data-route="{route}"] [data-field="{field}"]')
            expect(cell).to_have_count(1)
    mode = page.locator(f'#routes tr[data-route="{SPARE_ROUTE}"] [data-field="mode"]')
    expect(mode).to_contain_text("monolith")
    expect(page.locator(f'#plans [data-plan="{PLAN}"]')).to_be_visible()
    for step in ("backfill", "shadow", "canary-10"):
        expect(page.locator(f'#plans [data-plan="{PLAN}"] [data-step="{step}"]')).to_have_count(1)
    for stream in ("monolith->catalog", "catalog->monolith"):
        expect(page.locator(f'#sync [data-stream="{stream}"]')).to_be_visible()
    updated_at = float(page.locator("#status-line").get_attribute("data-updated-at") or "0")
    assert abs(time.time() - updated_at) < 30, f"the page's data is from {updated_at}"

    visit.screenshot("overview")
    for section in SECTIONS:
        visit.screenshot(f"section-{section.lstrip('#')}", section)
    _no_errors(visit, dashboard)
    print(f"\ndashboard loaded and live in {loaded:.2f} s")


def test_the_dashboard_make_up_starts_renders_the_repositorys_plan(
    stack: Stack, visit: Visit
) -> None:
    page = visit.page
    page.goto(f"http://127.0.0.1:{stack.session.ports['DASHBOARD_PORT']}/")
    expect(page.locator("#status-line")).to_have_attribute("data-connection", "live")

    # migration_plans/catalog.yaml, not a step taken yet
    plan = page.locator('#plans [data-plan="catalog"]')
    expect(plan.locator("[data-step]")).to_have_count(9)
    expect(plan.locator('[data-current="true"]')).to_have_count(0)
    expect(page.locator(f'#routes tr[data-route="{SPARE_ROUTE}"]')).to_have_count(1)
    for stream in ("monolith->catalog", "catalog->monolith"):
        expect(page.locator(f'#sync [data-stream="{stream}"]')).to_be_visible()
    visit.screenshot("make-up-dashboard")
    assert visit.errors == [], "\n".join(visit.errors) + "\n\nthe stack:\n" + stack.tail()


def test_a_route_changed_with_the_cli_shows_within_two_seconds_without_a_reload(
    stack: Stack, dashboard: Dashboard, visit: Visit
) -> None:
    page = _open(visit, dashboard)
    row = page.locator(f'#routes tr[data-route="{SPARE_ROUTE}"]')
    expect(row.locator('[data-field="mode"]')).to_contain_text("monolith")
    # A mark on this document: a reload (or a navigation) would start a new one without it.
    page.evaluate("window.__sameDocument = true")

    stack.ok("strangler", "routes", "set", SPARE_ROUTE, "--mode", "canary", "--percent", "25")
    changed = time.monotonic()
    page.wait_for_function(
        """(route) => {
            const row = document.querySelector(`#routes tr[data-route="${route}"]`);
            if (!row) return false;
            const mode = row.querySelector('[data-field="mode"]').textContent;
            const canary = row.querySelector('[data-field="canary"]').textContent;
            return mode.includes("canary") && canary.includes("25");
        }""",
        arg=SPARE_ROUTE,
        timeout=SETTLE_MS,
    )
    shown = time.monotonic() - changed

    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert shown <= LIVE_BOUND_SECONDS, f"the change showed after {shown:.2f} s"
    visit.screenshot("route-changed", "#routes")
    _no_errors(visit, dashboard)
    print(f"\nroute change from the CLI shown in the open page after {shown:.2f} s")


def test_the_current_step_and_its_gate_verdict_show(
    stack: Stack, dashboard: Dashboard, visit: Visit, plans: Path
) -> None:
    page = _open(visit, dashboard)

    _plan_next(stack, plans, "backfill")

    plan = page.locator(f'#plans [data-plan="{PLAN}"]')
    expect(plan.locator('[data-step="backfill"]')).to_have_attribute("data-current", "true")
    expect(plan.locator('[data-step="shadow"]')).not_to_have_attribute("data-current", "true")
    for figure in ("sync_backlog", "sync_dead_letters"):
        condition = _condition(page, "backfill", figure)
        expect(condition).to_have_attribute("data-verdict", "passed", timeout=SETTLE_MS)
        expect(condition.locator("[data-figure]")).to_contain_text("0")
        expect(condition.locator("[data-reason]")).not_to_be_empty()
    status = _plan_status(stack, plans)
    assert status["gate"]["verdict"] == "passed", status
    visit.screenshot("plan-current-step", f'#plans [data-plan="{PLAN}"]')
    _no_errors(visit, dashboard)


def test_a_failing_gate_names_the_condition_and_its_figure(
    stack: Stack, dashboard: Dashboard, visit: Visit, plans: Path, walk: dict[str, Any]
) -> None:
    listing = stack.get(f"{stack.monolith}/api/v1/products/?page_size=1").json()
    product = walk["product"] = int(listing["results"][0]["id"])
    _plan_next(stack, plans, "shadow")
    page = _open(visit, dashboard)

    # given: the catalog's database says another price, written as the sync's own apply
    # does, so no row version tells it from the monolith's (tests/e2e's shadow test)
    stack.shell(
        "extracted.catalog",
        "from django.apps import apps\n"
        "from django.db import transaction\n"
        "from strangler.sync.marking import applying\n"
        "with transaction.atomic(), applying():\n"
        "    apps.get_model('catalog', 'Product')"
        f".objects.filter(pk={product}).update(price='{SHADOW_ONLY_PRICE}')",
    )

    # when: real traffic through the proxy, compared in the shadow
    statuses = stack.browse(SHADOWED_REQUESTS, [product])
    assert statuses == {200: SHADOWED_REQUESTS}, statuses

    # then: the page names the failed condition, with the figure the CLI reports
    failed = _condition(page, "shadow", "shadow_difference_rate")
    expect(failed).to_have_attribute("data-verdict", "failed", timeout=SETTLE_MS)
    expect(page.locator(f'#plans [data-plan="{PLAN}"] [data-step="shadow"]')).to_have_attribute(
        "data-current", "true"
    )
    status = wait_until(
        "the CLI sees the shadow gate fail",
        lambda: _plan_status(stack, plans),
        lambda s: (s.get("gate") or {}).get("verdict") == "failed",
    )
    condition = next(
        c for c in status["gate"]["conditions"] if c["figure"] == "shadow_difference_rate"
    )
    assert condition["value"] > condition["max"], condition
    expect(page.locator(f'#plans [data-plan="{PLAN}"] [data-gate-verdict]')).to_have_attribute(
        "data-gate-verdict", "failed"
    )
    expect(failed.locator("[data-reason]")).to_contain_text("shadow_difference_rate")
    # Every compared answer differs: the rate is 1 on the page as in the CLI's status.
    figure = failed.locator("[data-figure]").inner_text()
    assert float(figure) == pytest.approx(condition["value"], rel=0.05), (figure, condition)
    # and tells it from the condition that holds
    held = _condition(page, "shadow", "sync_dead_letters")
    expect(held).to_have_attribute("data-verdict", "passed")
    expect(held.locator("[data-figure]")).to_have_text("0")
    visit.screenshot("plan-failing-gate", f'#plans [data-plan="{PLAN}"]')
    _no_errors(visit, dashboard)


def test_a_visitor_without_the_token_sees_no_examples(
    stack: Stack, dashboard: Dashboard, visit: Visit, walk: dict[str, Any]
) -> None:
    page = _open(visit, dashboard)
    row = page.locator('#comparison tr[data-route="catalog-products"]')
    expect(row).to_have_count(1, timeout=SETTLE_MS)
    expect(row.locator("[data-cluster]").first).to_be_visible(timeout=SETTLE_MS)
    expect(page.locator("#comparison a[data-report]")).to_be_attached()
    expect(page.locator("#comparison [data-locked]")).to_be_visible()
    expect(page.locator("[data-example]")).to_have_count(0)

    # The admin's document holds the examples' text (so its absence below says something):
    # the price only the service answered, the request's path, the curl to replay it.
    admin = _overview_json(dashboard, admin=True)
    product_path = f"/api/v1/products/{walk['product']}/"
    secrets = (SHADOW_ONLY_PRICE, product_path, "curl ")
    for secret in secrets:
        assert secret in admin, f"{secret!r} not in the admin's /api/overview"
    source = page.content()
    overview = _overview_json(dashboard)
    for secret in secrets:
        assert secret not in source, f"{secret!r} in the page's source"
        assert secret not in overview, f"{secret!r} in /api/overview"
    visit.screenshot("comparison-locked", "#comparison")
    _no_errors(visit, dashboard)


def test_after_logging_in_the_examples_show(
    stack: Stack, dashboard: Dashboard, visit: Visit
) -> None:
    page = _open(visit, dashboard)
    expect(page.locator("[data-example]")).to_have_count(0)
    expect(page.locator("button#logout")).to_be_hidden()

    _log_in(page)

    example = page.locator('#comparison tr[data-route="catalog-products"] [data-example]').first
    expect(example).to_be_visible(timeout=SETTLE_MS)
    expect(example).to_contain_text(SHADOW_ONLY_PRICE)
    expect(page.locator("#comparison [data-locked]")).to_be_hidden()
    visit.screenshot("comparison-examples", "#comparison")
    visit.screenshot("overview-authenticated")

    page.locator("button#logout").click()
    expect(page.locator("[data-example]")).to_have_count(0, timeout=SETTLE_MS)
    expect(page.locator("form#login")).to_be_visible()
    expect(page.locator("button#logout")).to_be_hidden()
    expect(page.locator("#comparison [data-locked]")).to_be_visible()
    _no_errors(visit, dashboard)


def test_the_timeline_names_who_changed_what_only_to_the_logged_in(
    stack: Stack, dashboard: Dashboard, visit: Visit
) -> None:
    page = _open(visit, dashboard)
    # The changes so far (the route set with the CLI, the plan's two steps), each with its
    # action; who made them shows to the admin alone.
    entries = page.locator("#timeline [data-audit-id]")
    expect(entries.first).to_be_attached()
    for entry in entries.all():
        expect(entry.locator("[data-action]")).not_to_be_empty()
    spare = entries.filter(has_text=SPARE_ROUTE)
    expect(spare.locator('[data-action="set"]')).to_have_count(1)
    expect(spare).to_contain_text("canary")
    expect(page.locator('#timeline [data-action="plan.next"]')).to_have_count(2)
    admin = json.loads(_overview_json(dashboard, admin=True))
    actors = {str(e["actor"]) for e in admin["audit"] if e.get("actor")}
    assert actors, f"the admin's timeline names nobody: {admin['audit']}"
    for entry in json.loads(_overview_json(dashboard))["audit"]:
        assert not entry.get("actor"), f"an identity in the public /api/overview: {entry}"
    public = page.locator("#timeline [data-actor]").all_inner_texts()
    assert public, "the timeline's entries name no actor, not even a placeholder"
    for text in public:
        assert not any(actor in text for actor in actors), f"an identity in the timeline: {text}"
    visit.screenshot("timeline-public", "#timeline")

    _log_in(page)

    for actor in actors:
        expect(page.locator("#timeline [data-actor]", has_text=actor).first).to_be_visible()
    visit.screenshot("timeline-authenticated", "#timeline")
    _no_errors(visit, dashboard)


def _log_in(page: Page) -> None:
    page.locator("form#login input[name=token]").fill(DEMO_SECRETS["PROXY_ADMIN_TOKEN"])
    page.locator("form#login button[type=submit]").click()
    expect(page.locator("button#logout")).to_be_visible()
    expect(page.locator("form#login")).to_be_hidden()
