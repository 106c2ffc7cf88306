"""``python -m monolith seed_demo``: the demo storefront, the same on every run."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from monolith.core.demo_data import DEMO_SIZES, MAX_PRODUCTS, SeedSummary, demo_data_seed

DEFAULT_SEED = 42


def _product_count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_PRODUCTS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PRODUCTS:,}, got {value}")
    return value


class Command(BaseCommand):
    help = (
        "Write deterministic demo data (users, categories, products, stock, orders). "
        "Upserts by natural key: running it again leaves the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        size = parser.add_mutually_exclusive_group()
        size.add_argument(
            "--size",
            choices=list(DEMO_SIZES),
            help="products: "
            + ", ".join(f"{name} {count:,}" for name, count in DEMO_SIZES.items())
            + " (default small)",
        )
        size.add_argument("--products", type=_product_count, help="an exact number of products")
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="the same seed gives the same data"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        products = options["products"] or DEMO_SIZES[options["size"] or "small"]
        seed = options["seed"]
        self.stdout.write(f"Seeding demo data: {products:,} products, seed {seed}")
        summary = demo_data_seed(products=products, seed=seed, progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(_summary_line(summary)))


def _summary_line(summary: SeedSummary) -> str:
    return (
        f"Demo data ready in {summary.elapsed_seconds:.1f} s: {summary.users:,} users "
        f"({summary.addresses_created:,} new addresses), {summary.categories:,} categories, "
        f"{summary.products:,} products with stock, {summary.orders:,} orders "
        f"({summary.order_lines:,} lines, {summary.reservations:,} reservations, "
        f"{summary.status_changes:,} status changes). "
        f"Log in as staff / staff-demo-password or alice / demo-password."
    )
