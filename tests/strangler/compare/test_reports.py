"""The report formats: JSON, JUnit XML, the self-contained HTML page, the terminal summary
and the Prometheus metrics, drawn from the same comparisons; none shows a secret."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from rich.console import Console

from strangler.compare import (
    CandidateFailure,
    CompareEngine,
    Difference,
    DiffKind,
    HttpRequest,
    HttpResponse,
)
from strangler.compare.reports import (
    ReportMeta,
    print_summary,
    render_html,
    render_json,
    render_junit,
)
from strangler.compare.reports.prometheus import ResultsCollector
from strangler.compare.results import ResultsStore, ResultsWriter
from strangler.compare.route_report import Cluster, RouteReport
from strangler.compare.state import ClusterExample

JSON = (("Content-Type", "application/json"),)
META = ReportMeta(base="http://127.0.0.1:8100", candidate="http://127.0.0.1:8200", source="t")
SECRETS = ["c00kie-v4lue", "auth-t0ken-v4lue", "qu3ry-s3cret", "b0dy-p4ss", "r3sp-t0ken"]


def _json(value, status=200):
    return HttpResponse(status, JSON, json.dumps(value).encode())


def _secret_request(i: int) -> HttpRequest:
    return HttpRequest(
        "POST",
        f"/api/v1/products/{i}/?api_key={SECRETS[2]}",
        (
            ("Cookie", f"sessionid={SECRETS[0]}"),
            ("Authorization", f"Bearer {SECRETS[1]}"),
            ("Content-Type", "application/json"),
        ),
        json.dumps({"password": SECRETS[3], "qty": 1}).encode(),
        "http://127.0.0.1:8100",
    )


@pytest.fixture(scope="module")
def reports() -> list[RouteReport]:
    """Two routes: "products" with a price cluster, a timeout cluster and a secret field
    that differs; "categories" equal but for a noisy field."""
    engine = CompareEngine()
    for i in range(6):
        engine.compare(
            "products",
            _secret_request(i),
            _json({"id": i, "price": "1.00", "token": SECRETS[4] + "a"}),
            _json({"id": i, "price": "2.00" if i % 2 else "1.00", "token": SECRETS[4] + "b"}),
            base_latency=0.012,
            candidate_latency=0.040,
        )
    engine.compare(
        "products", _secret_request(9), _json({}), CandidateFailure("timeout", "after 10 s")
    )
    for i in range(10):
        engine.compare(
            "categories",
            HttpRequest("GET", "/api/v1/categories/"),
            _json({"served_at": i}),
            _json({"served_at": -i}),
            base_again=_json({"served_at": i + 50}),
        )
    return engine.reports()


def _everything(reports: list[RouteReport]) -> dict[str, str]:
    console = Console(file=io.StringIO(), width=200)
    print_summary(reports, META, console)
    return {
        "json": render_json(reports, META),
        "junit": render_junit(reports, META),
        "html": render_html(reports, META),
        "terminal": console.file.getvalue(),
    }


def test_no_secret_survives_into_any_report_format(reports):
    for name, text in _everything(reports).items():
        for secret in SECRETS:
            assert secret not in text, (name, secret)


def test_the_json_report_has_totals_statuses_latency_and_clusters(reports):
    document = json.loads(render_json(reports, META))

    assert document["version"] == 1
    assert document["summary"]["compared"] == 17
    products = next(r for r in document["routes"] if r["route"] == "products")
    assert products["totals"]["candidate_error"] == 1
    assert {"base": "200", "candidate": "timeout", "requests": 1} in products["statuses"]
    assert products["latency"]["candidate"]["p50"] >= 0.040
    labels = [c["label"] for c in products["clusters"]]
    assert labels == ["token (value)", "price (value), token (value)", "candidate error: timeout"]
    assert products["clusters"][0]["examples"][0]["curl"].startswith("curl -X POST")


def test_junit_has_a_case_per_route_and_per_cluster(reports):
    root = ET.fromstring(render_junit(reports, META))

    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"products", "categories"}
    products = [c.get("name") for c in suites["products"].iter("testcase")]
    assert products == [
        "route products",
        "cluster token (value)",
        "cluster price (value), token (value)",
        "cluster candidate error: timeout",
    ]
    failures = [c.find("failure").get("type") for c in suites["products"].iter("testcase")]
    assert failures == ["real_difference", "real_difference", "real_difference", "candidate_error"]
    (categories,) = suites["categories"].iter("testcase")
    assert categories.find("failure") is None
    assert "noise discarded" in categories.find("system-out").text
    assert root.get("failures") == "4"


def test_junit_stays_well_formed_with_control_characters_in_values():
    example = ClusterExample(
        1.0,
        "GET",
        "/x/",
        "curl http://h/x/",
        200,
        200,
        (Difference("a", "a", DiffKind.VALUE, "\x00\x1b[31m", "ok"),),
    )
    report = RouteReport(
        "r\x01",
        {"different": 1},
        1,
        0,
        0,
        1,
        0,
        (),
        (Cluster("r", (("a", "value"),), 1, 1.0, 1.0, (example,)),),
        0,
        0,
    )

    root = ET.fromstring(render_junit([report], META))

    assert root.find("testsuite").get("name") == "r\ufffd"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "action") and re.match(r"\s*(https?:)?//", value or ""):
                self.external.append((tag, name, value))


def test_the_html_page_is_self_contained(reports):
    page = render_html(reports, META)
    links = _Links()
    links.feed(page)

    assert links.external == []
    assert "link" not in links.tags
    assert not re.search(r"<script[^>]+src", page)
    assert "@import" not in page
    assert "url(" not in page


def test_the_html_page_shows_matrix_latency_clusters_and_curl_per_route(reports):
    page = render_html(reports, META)

    assert page.count('<section class="route"') == 2
    assert "base \\ candidate" in page
    assert all(q in page for q in ("<th>p50</th>", "<th>p95</th>", "<th>p99</th>"))
    assert "price (value), token (value)" in page
    assert page.count('data-copy="') == page.count("<pre id=")
    assert "Copy as curl" in page
    assert "&quot;1.00&quot;" in page
    assert "&quot;2.00&quot;" in page


def test_the_terminal_summary_names_failing_routes_and_the_verdict(reports):
    text = _everything(reports)["terminal"]

    assert "products" in text
    assert "categories" in text
    assert "price (value), token (value)" in text
    assert "noise discarded on served_at (value)" in text
    assert "Real differences" in text


def test_prometheus_shows_the_stores_totals_per_route_and_outcome(tmp_path):
    engine = CompareEngine()
    engine.compare(
        "products",
        HttpRequest("GET", "/"),
        _json({"a": 1}),
        _json({"a": 2}),
        base_latency=0.01,
        candidate_latency=0.02,
    )
    engine.compare("products", HttpRequest("GET", "/"), _json({"a": 1}), _json({"a": 1}))
    with ResultsStore(tmp_path / "r.sqlite3") as store:
        ResultsWriter(engine, store).flush()
        registry = CollectorRegistry()
        registry.register(ResultsCollector(store))

        text = generate_latest(registry).decode()

    assert 'strangler_compare_requests{outcome="real_different",route="products"} 1.0' in text
    assert 'strangler_compare_requests{outcome="equal",route="products"} 1.0' in text
    assert 'strangler_compare_latency_seconds{quantile="0.99",route="products",side="base"}' in text
