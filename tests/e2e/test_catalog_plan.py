"""The catalog's migration plan against the real stack: its gates block, its rollback keeps data.

One stack for the module; the tests run in order, each taking the plan a stretch further
(migration_plans/catalog.yaml, docs/tutorials/2-extract-the-catalog.md):

1. sync:    the forward sync stopped with a write waiting; ``plan next`` is refused.
2. shadow:  the service answers a price the monolith does not; ``plan next`` is refused.
3. canary:  staff in both cohorts and the monolith write throughout canary 10 % and 50 % and
            a rollback from the canary: every write goes to the monolith and reaches both
            sides; a canary user reads their own write at once.
4. cutover: writes running through the cutover and a rollback from it, one of them taken by
            the service: nothing is lost.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Stack, wait_until
from tests.e2e.writers import (
    Writer,
    Writing,
    in_service_cohort,
    make_writers,
    wait_for_both_sides,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PLAN = "catalog"
# The demo's products 1-60, as the tutorials browse them; some are off sale (404 on both sides).
BROWSED = list(range(1, 61))
LAGGED_PRICE = "123.45"
SHADOW_ONLY_PRICE = "0.01"
STAFF_PRICE = "199.00"
# The canary gates take the service's p99 latency over the monolith's, in the proxy's
# histogram buckets (1, 2.5, 5, 10, 25 ms...): one bucket up is a ratio of 2 to 2.5, above
# the limit 1.5. Over the gate's minimum (50 requests a side) the p99 is the slowest request,
# and one slow answer failed canary-10 in a trial run; ~200 a side leave room for two.
CANARY_10_REQUESTS = 2000
CANARY_50_REQUESTS = 800
# Writes and immediate reads of a canary user, to count the reads that see an older value.
READ_AFTER_WRITE_ROUNDS = 40
PLAN_ROUTES = ("catalog-products", "catalog-categories")


@pytest.fixture(scope="module")
def walk() -> dict[str, Any]:
    """What the tests hand on to the next: the product they changed, when the walk began."""
    return {}


def _sum_diverged(report: dict[str, Any]) -> int:
    return sum(int(r["labels"]["diverged"]) for r in report["reports"])


def _gate(stack: Stack) -> dict[str, Any]:
    gate: dict[str, Any] = stack.plan_status()["gate"] or {}
    return gate


def _figure(gate: dict[str, Any], figure: str) -> dict[str, Any]:
    return next(c for c in gate["conditions"] if c["figure"] == figure)


def _applied(stack: Stack, step: str, *, wait: float = 60) -> None:
    result = stack.plan("next", PLAN, "--wait", f"{wait:g}")
    assert result.code == 0, f"{result}\n\nplan status:\n{stack.plan('status', PLAN).output}"
    result.expect(0, f"applied step {step!r}")


def _browse_with(stack: Stack, product: int, count: int) -> dict[int, int]:
    # Every fifth request is the product under test; the rest the tutorials' usual pages.
    pages = [product if i % 5 == 0 else BROWSED[i % len(BROWSED)] for i in range(count)]
    return stack.browse(count, pages)


def _stream(stack: Stack, settings: str, peer: str) -> dict[str, Any]:
    status = stack.ok(
        "strangler", "sync", "status", "--settings", settings, "--json", stdout_only=True
    ).json()
    stream: dict[str, Any] = next(s for s in status["streams"] if s["peer"] == peer)
    return stream


def _forward_stream(stack: Stack) -> dict[str, Any]:
    return _stream(stack, "monolith.settings", "catalog")


def _reverse_stream(stack: Stack) -> dict[str, Any]:
    return _stream(stack, "extracted.catalog.settings", "monolith")


def test_a_stopped_forward_sync_blocks_the_sync_gate(stack: Stack, walk: dict[str, Any]):
    walk["began"] = time.monotonic()
    listing = stack.get(f"{stack.monolith}/api/v1/products/?page_size=1").json()
    product = walk["product"] = int(listing["results"][0]["id"])
    stack.plan("next", PLAN).expect(0, "applied step 'backfill'")
    _applied(stack, "sync")

    # given: the forward sync stopped, and a price changed in the monolith
    stack.ok("python", "-m", "monolith", "sync_stream", "catalog", "--disable")
    stack.shell(
        "monolith",
        "from django.apps import apps; apps.get_model('catalog', 'Product')"
        f".objects.filter(pk={product}).update(price='{LAGGED_PRICE}')",
    )
    wait_until("the forward stream shows the change in its backlog",
               lambda: _forward_stream(stack)["backlog"] >= 1)  # fmt: skip
    failed = wait_until(
        "the sync gate fails on the growing lag",
        lambda: _gate(stack),
        lambda gate: gate.get("verdict") == "failed",
    )
    assert _figure(failed, "sync_lag_seconds")["verdict"] == "failed", failed

    # when
    refused = stack.plan("next", PLAN)

    # then: refused, naming the figure, and the plan stays where it was
    assert refused.code == 1, str(refused)
    assert "gate of 'sync' failed" in refused.output, str(refused)
    assert "sync_lag_seconds" in refused.output, str(refused)
    assert stack.current_step() == "sync"
    assert stack.price(stack.catalog, product) != LAGGED_PRICE

    # and once the sync runs again, the change arrives and the gate passes
    stack.ok("python", "-m", "monolith", "sync_stream", "catalog", "--enable")
    wait_until("the lagged change reaches the catalog",
               lambda: stack.price(stack.catalog, product) == LAGGED_PRICE)  # fmt: skip
    wait_until(
        "the sync gate passes", lambda: _gate(stack), lambda gate: gate.get("verdict") == "passed"
    )
    _applied(stack, "verify")
    assert stack.current_step() == "verify"


def test_a_service_answering_differently_blocks_the_shadow_gate(stack: Stack, walk: dict[str, Any]):
    product = walk["product"]
    _applied(stack, "shadow")

    # given: the catalog's own database says another price, written as the sync's own
    # apply does (capture silent, row version kept), so no version tells it from the monolith's
    stack.shell(
        "extracted.catalog",
        "from django.apps import apps\n"
        "from django.db import transaction\n"
        "from strangler.sync.marking import applying\n"
        "with transaction.atomic(), applying():\n"
        "    apps.get_model('catalog', 'Product')"
        f".objects.filter(pk={product}).update(price='{SHADOW_ONLY_PRICE}')",
    )
    assert stack.price(stack.catalog, product) == SHADOW_ONLY_PRICE
    assert stack.price(stack.monolith, product) == LAGGED_PRICE

    # when: real traffic through the proxy, the product among it
    statuses = _browse_with(stack, product, 250)
    assert statuses.get(200, 0) >= 200, statuses
    failed = wait_until(
        "the shadow gate fails on its compared requests",
        lambda: _gate(stack),
        lambda gate: gate.get("verdict") == "failed",
    )
    refused = stack.plan("next", PLAN)

    # then
    assert _figure(failed, "shadow_difference_rate")["verdict"] == "failed", failed
    assert refused.code == 1, str(refused)
    assert "gate of 'shadow' failed" in refused.output, str(refused)
    assert "shadow_difference_rate" in refused.output, str(refused)
    assert stack.current_step() == "shadow"

    # and the rollback lands on verify, which reconciles again: content compared, the
    # monolith's copy (the write owner's) put back in the catalog; with a fresh shadow
    # window, the plan goes on
    stack.plan("rollback", PLAN).expect(0, "rolled back from 'shadow' to 'verify'")
    assert {r["mode"] for r in stack.routes().values() if r["owner"] == "catalog"} == {"monolith"}
    assert stack.price(stack.catalog, product) == LAGGED_PRICE
    clean = stack.manage("monolith", "sync_reconcile", "--with", "catalog", "--full", "--json")
    assert _sum_diverged(clean.expect(0).json()) == 0, str(clean)
    _applied(stack, "shadow")
    _browse_with(stack, product, 250)
    _applied(stack, "canary-10")


def _products_for_writers(stack: Stack, exclude: int) -> list[int]:
    listing = stack.get(f"{stack.monolith}/api/v1/products/?page_size=100").json()
    return [int(row["id"]) for row in listing["results"] if int(row["id"]) != exclude][:42]


def _reconciled_clean(stack: Stack) -> None:
    reconcile = stack.manage("monolith", "sync_reconcile", "--with", "catalog", "--full", "--json")
    assert reconcile.code == 0, str(reconcile)
    assert _sum_diverged(reconcile.json()) == 0, reconcile.output


def _stale_reads(stack: Stack, writing: Writing, writer: Writer, *, keep_cookie: bool) -> int:
    """A service-cohort user writes and at once reads back through the proxy; how many of
    the reads show an older price. ``keep_cookie``: the browser sends the proxy's cookies."""
    stale = 0
    for n in range(READ_AFTER_WRITE_ROUNDS):
        product = writer.products[n % len(writer.products)]
        price = writing.write_once(writer, product)
        assert price is not None, writing.tally.errors[-1:]
        if not keep_cookie:
            writer.session.cookies.clear()  # as a client without a cookie jar
        read = writer.session.get(
            f"{stack.proxy}/api/v1/products/{product}/",
            headers={"Authorization": f"Token {writer.token}"},
            timeout=10,
        )
        assert read.status_code == 200, read.text
        stale += read.json()["price"] != price
    writer.session.cookies.clear()
    return stale


def test_writes_during_the_canary_reach_both_sides_and_a_writer_reads_their_own(
    stack: Stack, walk: dict[str, Any]
) -> None:
    product = walk["product"]
    writers = make_writers(stack, _products_for_writers(stack, product), count=8)
    for writer in writers:
        writer.in_service_cohort = in_service_cohort(writer.user_id, 50)
    through_proxy = [w for w in writers if w.base == stack.proxy]
    probe = next(w for w in through_proxy if w.in_service_cohort)
    background = [w for w in writers if w is not probe]
    assert {w.in_service_cohort for w in through_proxy if w is not probe} == {True, False}

    with Writing(background) as writing:
        stack.browse(CANARY_10_REQUESTS, BROWSED)
        _applied(stack, "canary-50")
        stack.browse(CANARY_50_REQUESTS, BROWSED)
        # A canary user in the service's cohort, reading right after each of their writes.
        stale_without = _stale_reads(stack, writing, probe, keep_cookie=False)
        stale_with = _stale_reads(stack, writing, probe, keep_cookie=True)
        # An operator moves every read to the service by hand, before any cutover: the
        # writes stay with the monolith all the same.
        for route in PLAN_ROUTES:
            stack.ok("strangler", "routes", "set", route, "--mode", "service")
        by_hand = {name: stack.routes()[name] for name in PLAN_ROUTES}
        issued_before = writing.tally.issued
        stack.browse(200, BROWSED)
        written_in_service_mode = writing.tally.issued - issued_before
        back = stack.plan("rollback", PLAN)
        stack.browse(100, BROWSED)
    tally = writing.tally

    assert {(r["mode"], r["write_owner"]) for r in by_hand.values()} == {("service", "monolith")}
    assert written_in_service_mode > 0
    back.expect(0, "rolled back from 'canary-50' to 'shadow'")
    assert tally.errors == []
    assert tally.accepted == tally.issued
    present = wait_for_both_sides(stack, tally)
    assert present == len(tally.last)
    _reconciled_clean(stack)
    assert stale_with == 0
    print(
        f"\ncanary 10 % -> 50 % -> service by hand ({written_in_service_mode} writes) -> "
        f"rollback: {tally.issued} writes issued, {tally.accepted} "
        f"accepted, {present} of {len(tally.last)} products' last writes on both sides; "
        f"canary reads older than the user's own write: {stale_without}/"
        f"{READ_AFTER_WRITE_ROUNDS} without read-your-writes, {stale_with}/"
        f"{READ_AFTER_WRITE_ROUNDS} with it"
    )
    walk["writers"] = background


def test_a_rollback_after_cutover_keeps_the_services_writes(stack: Stack, walk: dict[str, Any]):
    product = walk["product"]
    _browse_with(stack, product, 250)  # a fresh shadow window after the rollback
    _applied(stack, "canary-10")
    stack.browse(CANARY_10_REQUESTS, BROWSED)
    _applied(stack, "canary-50")
    stack.browse(CANARY_50_REQUESTS, BROWSED)
    writing = Writing(walk["writers"]).__enter__()
    _applied(stack, "cutover")
    walked = time.monotonic() - walk["began"]

    # given: a staff member changes a price through the proxy, and the service takes it
    token = stack.http.post(
        f"{stack.proxy}/api/v1/auth/token/",
        json={"username": "staff", "password": "staff-demo-password"},
        timeout=10,
    ).json()["token"]
    patched = stack.http.patch(
        f"{stack.proxy}/api/v1/products/{product}/",
        json={"price": STAFF_PRICE},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["price"] == STAFF_PRICE, patched.text
    assert stack.price(stack.catalog, product) == STAFF_PRICE
    assert _reverse_stream(stack)["enabled"]
    wait_until("the reverse sync carries the write to the monolith",
               lambda: stack.price(stack.monolith, product) == STAFF_PRICE)  # fmt: skip

    # when
    back = stack.plan("rollback", PLAN)
    stack.browse(100, BROWSED)
    tally = writing.stop()

    # then: the monolith answers again (shadow), with the service's write, and no row differs
    back.expect(0, "rolled back from 'cutover' to 'shadow'")
    assert tally.errors == []
    assert tally.accepted == tally.issued
    assert wait_for_both_sides(stack, tally) == len(tally.last)
    assert not _reverse_stream(stack)["enabled"], "the sync back to the monolith still runs"
    assert stack.current_step() == "shadow"
    catalog_routes = [r for r in stack.routes().values() if r["owner"] == "catalog"]
    assert {r["mode"] for r in catalog_routes} == {"shadow"}, catalog_routes
    assert stack.price(stack.monolith, product) == STAFF_PRICE
    assert stack.price(stack.proxy, product) == STAFF_PRICE
    assert stack.price(stack.catalog, product) == STAFF_PRICE
    reconcile = stack.manage("monolith", "sync_reconcile", "--with", "catalog", "--full", "--json")
    assert reconcile.code == 0, str(reconcile)
    assert _sum_diverged(reconcile.json()) == 0, reconcile.output
    print(
        f"\ncatalog plan: backfill to cutover took {walked:.0f} s; "
        f"to the rollback's checks {time.monotonic() - walk['began']:.0f} s; "
        f"through cutover and rollback {tally.issued} writes issued, {tally.accepted} accepted, "
        f"all {len(tally.last)} products' last writes on both sides"
    )
