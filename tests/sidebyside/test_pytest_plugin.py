"""The pytest plugin on the storefront: a team's test file, run by pytest with the plugin
from its entry point, compares the monolith and the catalog service (both real, under
gunicorn) on the product list and detail reads of the catalog's contract corpus, under the
rules of the repository's own route table and a team's own marker on top."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.extracted.catalog.contract import read_corpus
from tests.sidebyside.services import Pair, credentials

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.e2e

ROUTES = Path(__file__).resolve().parents[2] / "routes.yaml"

_TEAM_TEST = """
import json

import pytest

CASES = json.loads({cases!r})


@pytest.mark.side_by_side(rules={{"critical": ["**.price", "**.stock_available", "**.in_stock"]}})
@pytest.mark.parametrize(("method", "path", "headers", "candidate_headers"), CASES)
def test_the_service_answers_the_product_reads_as_the_monolith(
    side_by_side, method, path, headers, candidate_headers
):
    answers = side_by_side.request(
        method, path, headers=headers, candidate_headers=candidate_headers
    )

    assert answers.result.route == "catalog-products"
    # The team's rules are in force on top of the table's: a price is never noise.
    assert side_by_side.engine.rules.for_route("catalog-products").node("results[].price").critical
"""


def _product_reads() -> list[list[object]]:
    cases: list[list[object]] = []
    for request in read_corpus():
        if request.method != "GET" or not request.path.startswith("/api/v1/products/"):
            continue
        if request.caller not in (None, "alice"):
            continue
        base, candidate = credentials(request.caller)
        cases.append([request.method, request.path, dict(base), dict(candidate[len(base) :])])
    return cases


def test_the_catalog_service_matches_the_monolith_on_product_reads_under_routes_yaml(
    pytester: pytest.Pytester, catalog_services: Pair
) -> None:
    cases = _product_reads()
    pytester.makepyfile(test_team=_TEAM_TEST.format(cases=json.dumps(cases)))
    started = time.monotonic()

    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:asyncio",
        "--strangler-base", catalog_services.monolith,
        "--strangler-candidate", catalog_services.catalog,
        # One argument: a path given on its own would make pytest look for its ini file
        # (and rootdir) beside the route table, in this repository.
        f"--strangler-routes={ROUTES}",
    )  # fmt: skip

    result.assert_outcomes(passed=len(cases))
    assert len(cases) > 60  # list pages, filters, orderings and details, anonymous and alice
    print(f"{len(cases)} product reads compared in {time.monotonic() - started:.1f} s")
