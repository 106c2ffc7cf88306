"""Deterministic demo data for the storefront, behind ``python -m monolith seed_demo``.

Every value comes from ``random.Random`` streams seeded from ``seed``, one stream per kind of
row, so product 17 is the same product whether the catalogue holds 200 or 100,000. Rows are
upserted by natural key (username, category slug, product sku, order number ``DEMO-000001``);
a demo order's lines, reservations and history are replaced whole, since history has no key.
Timestamps are computed from a fixed demo clock, not read from the wall clock, so running the
seed twice leaves the same rows with the same values.

By concept: ``scale`` (the sizes), ``people`` and ``catalogue`` (the word lists), ``plans``
and ``order_plans`` (the rows, computed from the seed alone: customers and products, then
orders), ``writes`` (the bulk upserts) and ``seed`` (the entry point: one transaction).
"""

from __future__ import annotations

from monolith.core.demo_data.order_plans import demo_order_number
from monolith.core.demo_data.people import CUSTOMER_PASSWORD, STAFF_PASSWORD, STAFF_USERNAME
from monolith.core.demo_data.plans import DEMO_CLOCK
from monolith.core.demo_data.scale import DEMO_SIZES, MAX_PRODUCTS, DemoScale, demo_scale
from monolith.core.demo_data.seed import SeedSummary, demo_data_seed
from monolith.core.demo_data.writes import BATCH_SIZE, Progress

__all__ = [
    "BATCH_SIZE",
    "CUSTOMER_PASSWORD",
    "DEMO_CLOCK",
    "DEMO_SIZES",
    "MAX_PRODUCTS",
    "STAFF_PASSWORD",
    "STAFF_USERNAME",
    "DemoScale",
    "Progress",
    "SeedSummary",
    "demo_data_seed",
    "demo_order_number",
    "demo_scale",
]
