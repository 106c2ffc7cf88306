"""Every name a plan uses, checked against a real proxy and two real sync nodes.

The nodes are alpha (legacy) and beta (service) of the sync test project; the proxy's routes
``widgets`` and ``parts`` move from upstream alpha to upstream beta (``live_system``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from strangler.plans.preflight import NameProblem, Preflight, preflight
from strangler.plans.schema import load_plan
from tests.strangler.plans.live_system import LiveSystem, live_system, plan_text

# Imported for pytest to find it here: live_system says why it is not in conftest.
FIXTURES = (live_system,)

pytestmark = pytest.mark.e2e


def check(system: LiveSystem, tmp_path: Path, *, secret: str | None = None, **names: str):
    path = tmp_path / "widgets.yaml"
    path.write_text(plan_text(system, **names), encoding="utf-8")
    with requests.Session() as session:
        return preflight(
            load_plan(path),
            admin_url=system.admin_url,
            session=session,
            secret=system.sync_secret if secret is None else secret,
        )


def fields(found: Preflight) -> list[tuple[str, str]]:
    return [(problem.field, problem.value) for problem in found.problems]


def test_a_plan_whose_names_all_match_passes_and_says_what_was_checked(live_system, tmp_path):
    found = check(live_system, tmp_path)

    assert (found.problems, found.notes) == ([], [])
    assert found.checked == [
        "proxy: routes widgets, parts move from upstream alpha to beta",
        "sync: nodes alpha and beta know each other; widgets.Widget, widgets.Part travel "
        "alpha -> beta and back",
    ]


def test_a_service_keyed_by_another_name_is_refused_naming_each_field_it_needs(
    live_system, tmp_path
):
    found = check(live_system, tmp_path, service="catalog")

    assert fields(found) == [
        ("nodes.catalog.upstream (unset: the key)", "catalog"),
        ("nodes.catalog.upstream (unset: the key)", "catalog"),
        ("nodes.catalog.peer (unset: the key)", "catalog"),
        ("nodes.catalog.peer (unset: the key)", "catalog"),
    ]
    route, _, unknown_to_alpha, wrong_name = found.problems
    assert "the proxy's route 'widgets' moves to upstream 'beta'" in route.problem
    assert "set nodes.catalog.upstream: beta" in route.problem
    assert "alpha's sync node" in unknown_to_alpha.problem
    assert "'catalog' is not a peer of alpha" in unknown_to_alpha.problem
    assert "has another name" in wrong_name.problem
    assert "this is 'beta'" in wrong_name.problem


def test_a_service_keyed_by_another_name_passes_once_its_peer_and_upstream_are_named(
    live_system, tmp_path
):
    found = check(
        live_system, tmp_path, service="catalog", service_extra=", peer: beta, upstream: beta"
    )

    assert found.problems == []


def test_a_route_the_proxy_does_not_have_is_named_with_the_table_s_routes(live_system, tmp_path):
    found = check(live_system, tmp_path, routes="widgets, gadgets")

    assert found.problems == [
        NameProblem(
            "routes[1]",
            "gadgets",
            "not a route of the proxy's table (its routes: parts, widgets): name the route as "
            "the table does",
        )
    ]


def test_a_model_the_nodes_do_not_sync_is_named(live_system, tmp_path):
    found = check(live_system, tmp_path, models="widgets.Widget, widgets.Gadget")

    assert fields(found) == [("models[1]", "widgets.Gadget")]
    assert "alpha sends no widgets.Gadget to beta" in found.problems[0].problem


def test_a_legacy_node_named_otherwise_in_the_sync_is_named(live_system, tmp_path):
    found = check(live_system, tmp_path, legacy_extra=", peer: monolith")

    assert fields(found) == [
        ("nodes.alpha.peer", "monolith"),
        ("nodes.alpha.peer", "monolith"),
        ("nodes.alpha.upstream (unset: the key)", "alpha"),  # the write guard's names differ
    ]
    wrong_name, unknown_to_beta, _ = found.problems
    assert "this is 'alpha'" in wrong_name.problem
    assert "'monolith' is not a peer of beta" in unknown_to_beta.problem


def test_an_upstream_other_than_the_sync_name_is_refused_for_a_plan_with_a_cutover(
    live_system, tmp_path
):
    found = check(live_system, tmp_path, service_extra=", upstream: beta-api")

    tie = [p for p in found.problems if p.problem.startswith("differs from nodes.beta.peer")]
    assert fields(Preflight(problems=tie)) == [("nodes.beta.upstream", "beta-api")]
    assert "the proxy checks the cutover's stream back by upstream names" in tie[0].problem


def test_a_node_that_does_not_answer_is_named_by_its_url(live_system, tmp_path):
    silent = "http://127.0.0.1:9"
    path = tmp_path / "widgets.yaml"
    path.write_text(plan_text(live_system).replace(live_system.beta_url, silent), "utf-8")

    with requests.Session() as session:
        found = preflight(
            load_plan(path),
            admin_url=live_system.admin_url,
            session=session,
            secret=live_system.sync_secret,
        )

    assert fields(found) == [("nodes.beta.url", silent)]
    assert "its sync status could not be read" in found.problems[0].problem


def test_without_the_sync_secret_the_sync_names_are_not_taken_as_checked(live_system, tmp_path):
    found = check(live_system, tmp_path, secret="")

    assert fields(found) == [("nodes", "alpha, beta")]
    assert "set STRANGLER_SYNC_SECRET" in found.problems[0].problem
