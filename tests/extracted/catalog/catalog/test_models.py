"""The service's tables are the monolith's, column for column, so the sync copies rows as
they are; the stock mirror has the columns of the monolith's ``inventory_stocklevel``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import models

from extracted.catalog.catalog.models import Category, Product, StockLevel
from tests.extracted.catalog.processes import manage, project_env

_DESCRIBE = """
import json
from django.apps import apps

def describe(label):
    model = apps.get_model(label)
    return {"table": model._meta.db_table, "columns": [
        [f.column, f.get_internal_type(), f.null, f.max_length,
         getattr(f, "max_digits", None), getattr(f, "decimal_places", None),
         f.unique, f.primary_key]
        for f in model._meta.concrete_fields]}

print(json.dumps({label: describe(label) for label in LABELS}))
"""


def _describe(model: type[models.Model]) -> dict[str, Any]:
    return {
        "table": model._meta.db_table,
        "columns": [
            [
                f.column,
                f.get_internal_type(),
                f.null,
                f.max_length,
                getattr(f, "max_digits", None),
                getattr(f, "decimal_places", None),
                f.unique,
                f.primary_key,
            ]
            for f in model._meta.concrete_fields
        ],
    }


@pytest.fixture(scope="module")
def monolith_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    labels = ["catalog.Category", "catalog.Product", "inventory.StockLevel"]
    env = project_env(
        var_dir=Path(tmp_path_factory.mktemp("monolith")),
        DJANGO_SETTINGS_MODULE="monolith.settings",
    )
    program = _DESCRIBE.replace("LABELS", repr(labels))
    out = manage("monolith", "shell", "--no-imports", "-c", program, env=env)
    described: dict[str, Any] = json.loads(out)
    return described


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("label", "model"), [("catalog.Category", Category), ("catalog.Product", Product)]
)
def test_a_catalog_table_has_the_monoliths_name_and_columns(monolith_tables, label, model) -> None:
    assert _describe(model) == monolith_tables[label]


@pytest.mark.e2e
def test_the_stock_mirror_has_the_columns_of_the_monoliths_stock_levels(monolith_tables) -> None:
    mirror = _describe(StockLevel)

    assert mirror["table"] == "catalog_stocklevel"
    assert mirror["columns"] == monolith_tables["inventory.StockLevel"]["columns"]


def test_the_migrations_describe_the_models(db) -> None:
    call_command("makemigrations", "catalog", "--check", "--dry-run", verbosity=0)
