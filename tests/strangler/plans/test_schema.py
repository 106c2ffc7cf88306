"""The plan file: the repository's plans load; a bad plan names file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler.plans.schema import PlanError, load_plan

REPO = Path(__file__).resolve().parents[3]

GOOD = """
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
nodes:
  monolith: {url: "http://127.0.0.1:8100", manage: "python -m monolith"}
  catalog: {url: "http://127.0.0.1:8200", manage: "python -m extracted.catalog"}
steps:
  - kind: shadow
    gate: {conditions: [{figure: shadow_difference_rate, max: 0.01, min_count: 10}]}
  - kind: canary
    percent: 10
  - kind: canary
    percent: 50
  - kind: cutover
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", sorted((REPO / "migration_plans").glob("*.yaml")))
def test_every_plan_in_the_repository_loads(path):
    plan = load_plan(path)
    assert plan.steps


def test_the_catalog_plan_walks_every_kind_of_step_in_order():
    plan = load_plan(REPO / "migration_plans" / "catalog.yaml")
    kinds = [step.kind for step in plan.steps]
    assert kinds == [
        "backfill", "sync", "verify", "shadow", "canary", "canary", "cutover",
        "reverse_sync", "decommission",
    ]  # fmt: skip


def test_a_canary_step_is_named_after_its_percentage(tmp_path):
    plan = load_plan(write(tmp_path, GOOD))
    assert [step.name for step in plan.steps] == ["shadow", "canary-10", "canary-50", "cutover"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    percent: 50\n", "    percent: 5\n", "canary percentages must rise"),
        ("  - kind: canary\n    percent: 10\n", "  - kind: canary\n", "needs 'percent'"),
        ("max: 0.01", "max: -1", "steps[0] (shadow).gate.conditions[0].max"),
        ("figure: shadow_difference_rate", "figure: vibes", "steps[0] (shadow).gate"),
        ("  - kind: cutover\n", "  - kind: cutover\n  - kind: sync\n", "cannot follow"),
        ("  catalog: {url", "  other: {url", "nodes: no entry for 'catalog'"),
        ("name: demo", "name: Demo Plan", "name"),
        ("routes: [products]", "routes: []", "routes"),
        ('manage: "python -m extracted.catalog"}', 'manage: "x", peer: monolith}', "same peer"),
        ('manage: "python -m monolith"}', 'manage: "x", upstream: catalog}', "same upstream"),
        ('manage: "python -m monolith"}', 'manage: "x", peer: "a b"}', "nodes.monolith.peer"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_entry_and_field(tmp_path, old, new, message):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(PlanError) as error:
        load_plan(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_plan_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(PlanError, match="expected a mapping"):
        load_plan(write(tmp_path, "- shadow\n"))


def test_node_urls_take_their_ports_from_the_environment(tmp_path, monkeypatch):
    text = GOOD.replace('"http://127.0.0.1:8100"', '"http://127.0.0.1:${MONOLITH_PORT:-8100}"')
    monkeypatch.delenv("MONOLITH_PORT", raising=False)
    assert load_plan(write(tmp_path, text)).nodes["monolith"].url == "http://127.0.0.1:8100"
    monkeypatch.setenv("MONOLITH_PORT", "18100")
    assert load_plan(write(tmp_path, text)).nodes["monolith"].url == "http://127.0.0.1:18100"


def test_a_node_url_naming_an_unset_variable_without_default_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("NOWHERE", raising=False)
    text = GOOD.replace('"http://127.0.0.1:8100"', '"${NOWHERE}"')
    with pytest.raises(PlanError, match=r"nodes.monolith.url: .*\$\{NOWHERE\} is not set"):
        load_plan(write(tmp_path, text))


def test_a_node_s_sync_and_proxy_names_default_to_its_key(tmp_path):
    plan = load_plan(write(tmp_path, GOOD))
    assert (plan.peer_of("catalog"), plan.upstream_of("catalog")) == ("catalog", "catalog")


def test_a_node_may_name_its_sync_peer_and_proxy_upstream_apart_from_its_key(tmp_path):
    text = GOOD.replace(
        'manage: "python -m extracted.catalog"}',
        'manage: "python -m extracted.catalog", peer: catalog-sync, upstream: catalog-api}',
    )
    plan = load_plan(write(tmp_path, text))
    assert (plan.peer_of("catalog"), plan.upstream_of("catalog")) == ("catalog-sync", "catalog-api")
    assert plan.peer_of("monolith") == plan.upstream_of("monolith") == "monolith"


def test_every_string_value_of_a_plan_expands_not_only_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG_MANAGE", "python -m my_catalog")
    text = GOOD.replace('"python -m extracted.catalog"', '"${CATALOG_MANAGE}"')
    assert load_plan(write(tmp_path, text)).nodes["catalog"].manage == "python -m my_catalog"


def test_an_unset_variable_in_a_step_is_refused_naming_file_step_and_field(tmp_path, monkeypatch):
    monkeypatch.delenv("NOWHERE", raising=False)
    text = GOOD.replace("kind: cutover", 'kind: cutover\n    name: "${NOWHERE}"')
    path = write(tmp_path, text)
    with pytest.raises(PlanError) as error:
        load_plan(path)
    assert str(error.value).startswith(f"{path}: steps[3] (${{NOWHERE}}).name: ${{NOWHERE}} is")
