"""Replaying requests against two real HTTP servers: verdicts, writes, noise, failures,
pacing and what is sent."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from strangler.compare import CompareEngine, Verdict
from strangler.compare.captures import CaptureRecord
from strangler.compare.redact import REDACTED
from strangler.compare.replay import ReplayCannotRun, ReplaySettings, replay
from strangler.compare.rulefile import load_rules, template_route
from tests.monolith.processes import free_port

from .servers import Answer, product, serving


def _gets(*ids: int) -> list[CaptureRecord]:
    return [CaptureRecord("GET", f"/api/v1/products/{i}/") for i in ids]


def _settings(base: str, candidate: str, **kwargs) -> ReplaySettings:
    kwargs.setdefault("base_twice", 0.0)
    return ReplaySettings(base=base, candidate=candidate, **kwargs)


async def _replay(records, settings, engine=None, **kwargs):
    engine = engine or CompareEngine()
    outcomes = []
    summary = await replay(
        records, settings=settings, engine=engine, on_outcome=outcomes.append, **kwargs
    )
    return engine, summary, outcomes


async def test_two_sides_answering_alike_compare_equal():
    with serving(product) as base, serving(product) as candidate:
        engine, summary, outcomes = await _replay(
            _gets(1, 2, 3), _settings(base.url, candidate.url)
        )

    assert summary.replayed == 3
    assert {o.result.verdict for o in outcomes} == {Verdict.EQUAL}
    assert [o.route for o in outcomes] == ["/api/v1/products/{id}/"] * 3
    (report,) = engine.reports()
    assert report.totals.equal == 3
    assert report.statuses == (("200", "200", 3),)
    assert report.base_latency is not None
    assert report.base_latency.count == 3


async def test_a_changed_price_is_a_real_difference_with_an_example():
    with (
        serving(product) as base,
        serving(lambda r: product(r, price="10.99")) as candidate,
    ):
        engine, _, outcomes = await _replay(_gets(7), _settings(base.url, candidate.url))

    (outcome,) = outcomes
    assert outcome.result.verdict is Verdict.DIFFERENT
    (cluster,) = engine.reports()[0].clusters
    assert cluster.signature == (("price", "value"),)
    assert cluster.examples[0].curl == f"curl {base.url}/api/v1/products/7/"


async def test_writes_are_skipped_and_never_sent_without_allow_writes():
    records = [*_gets(1), CaptureRecord("POST", "/api/v1/products/", body=b"{}")]
    with serving(product) as base, serving(product) as candidate:
        _, summary, outcomes = await _replay(records, _settings(base.url, candidate.url))

    assert base.methods() == ["GET"]
    assert candidate.methods() == ["GET"]
    assert summary.skipped == {"write (give --allow-writes to replay writes)": 1}
    (skipped,) = [o for o in outcomes if o.record.method == "POST"]
    assert skipped.result is None


async def test_an_allowed_write_reaches_each_side_once_even_when_sampled_for_noise():
    records = [CaptureRecord("POST", "/api/v1/products/", body=b'{"name": "Kettle"}')]
    with serving(product) as base, serving(product) as candidate:
        settings = _settings(
            base.url, candidate.url, allow_writes=True, base_twice=1.0, candidate_twice=1.0
        )
        await _replay(records, settings)

    assert base.methods() == ["POST"]
    assert candidate.methods() == ["POST"]
    assert base.received[0].body == b'{"name": "Kettle"}'


async def test_a_field_the_base_varies_on_by_itself_becomes_noise():
    ticks = itertools.count()
    lock = threading.Lock()

    def volatile(received):
        with lock:
            return product(received, served_at=next(ticks))

    with serving(volatile) as base, serving(volatile) as candidate:
        engine, _, _ = await _replay(
            _gets(*range(30)), _settings(base.url, candidate.url, base_twice=1.0)
        )

    (report,) = engine.reports()
    assert report.totals.real_different == 0
    assert report.totals.noise_only == 30
    assert [(f.key, f.real) for f in report.discarded] == [("served_at", False)]
    assert len(base.received) == 60


async def test_a_slow_candidate_is_a_candidate_error():
    with serving(product) as base, serving(lambda r: Answer(hang=True)) as candidate:
        engine, _, outcomes = await _replay(
            _gets(1), _settings(base.url, candidate.url, timeout=0.3)
        )

    (outcome,) = outcomes
    assert outcome.result.verdict is Verdict.CANDIDATE_ERROR
    assert outcome.result.reason.startswith("the candidate failed: timeout")
    report = engine.reports()[0]
    assert report.statuses == (("200", "timeout", 1),)
    assert report.totals.candidate_error == 1


async def test_a_candidate_answering_500_is_a_candidate_error():
    with serving(product) as base, serving(lambda r: Answer(500, {"error": "boom"})) as candidate:
        _, _, outcomes = await _replay(_gets(1), _settings(base.url, candidate.url))

    assert outcomes[0].result.verdict is Verdict.CANDIDATE_ERROR


async def test_a_slow_base_makes_the_request_not_comparable():
    with serving(lambda r: Answer(hang=True)) as base, serving(product) as candidate:
        engine, _, outcomes = await _replay(
            _gets(1), _settings(base.url, candidate.url, timeout=0.3)
        )

    assert outcomes[0].result.verdict is Verdict.NOT_COMPARABLE
    assert outcomes[0].result.reason.startswith("the base failed: timeout")
    assert engine.reports()[0].statuses == (("timeout", "200", 1),)


async def test_a_side_nobody_listens_on_stops_the_replay_before_any_request():
    nobody = f"http://127.0.0.1:{free_port()}"
    with serving(product) as base:
        with pytest.raises(ReplayCannotRun, match=f"cannot reach {nobody}"):
            await _replay(_gets(1), _settings(base.url, nobody))

        assert base.received == []


async def test_the_rate_spaces_request_starts():
    # Given 6 requests at 20 per second: the k-th starts no sooner than k x 50 ms after the
    # replay began, so the last cannot reach the server before 250 ms. (Measured from the
    # replay's start, not from the first arrival: on a loaded machine the first request's
    # connection can arrive late while the later ones keep to the schedule.)
    with serving(product) as base, serving(product) as candidate:
        began = time.monotonic()
        await _replay(_gets(*range(6)), _settings(base.url, candidate.url, rate=20))

    arrivals = sorted(r.at for r in base.received)
    assert len(arrivals) == 6
    assert arrivals[-1] - began >= 0.25 * 0.95
    assert arrivals[1] - began >= 0.05 * 0.95


async def test_concurrency_bounds_the_requests_in_flight_on_each_side():
    with serving(product, hold=0.02) as base, serving(product, hold=0.02) as candidate:
        await _replay(_gets(*range(12)), _settings(base.url, candidate.url, concurrency=2))

    assert base.most_in_flight <= 2
    assert candidate.most_in_flight <= 2
    assert len(base.received) == 12


async def test_redacted_headers_are_not_sent_and_given_headers_replace_recorded_ones():
    record = CaptureRecord(
        "GET",
        "/api/v1/products/1/",
        headers=(("Cookie", REDACTED), ("Accept-Language", "de"), ("Authorization", "old")),
    )
    with serving(product) as base, serving(product) as candidate:
        settings = _settings(base.url, candidate.url, headers=(("Authorization", "Token new"),))
        await _replay([record], settings)

    for side in (base, candidate):
        headers = {k.lower(): v for k, v in side.received[0].headers.items()}
        assert "cookie" not in headers
        assert headers["accept-language"] == "de"
        assert headers["authorization"] == "Token new"


async def test_a_cookie_one_answer_sets_does_not_ride_on_the_next_request():
    def sets_cookie(received):
        answer = product(received)
        return Answer(answer.status, answer.body, (("Set-Cookie", "sessionid=abc; Path=/"),))

    with serving(sets_cookie) as base, serving(sets_cookie) as candidate:
        await _replay(_gets(1, 2, 3), _settings(base.url, candidate.url, concurrency=1))

    assert all("Cookie" not in r.headers for r in base.received)


async def test_a_recorded_route_name_wins_over_the_rules_and_the_path(tmp_path):
    rules = tmp_path / "routes.yaml"
    rules.write_text("routes:\n  - {name: products, prefix: /api/v1/products/}\n")
    _, namer = load_rules(rules)
    records = [
        CaptureRecord("GET", "/api/v1/products/1/", route="catalog-products"),
        CaptureRecord("GET", "/api/v1/products/2/"),
        CaptureRecord("GET", "/api/v1/orders/5/"),
    ]
    with serving(product) as base, serving(product) as candidate:
        _, _, outcomes = await _replay(
            records, _settings(base.url, candidate.url, concurrency=1), namer=namer
        )

    assert [o.route for o in outcomes] == ["catalog-products", "products", "/api/v1/orders/{id}/"]


@pytest.mark.parametrize(
    ("target", "route"),
    [
        ("/api/v1/products/42/?page=2", "/api/v1/products/{id}/"),
        ("/api/v1/products/by-slug/item-7/", "/api/v1/products/by-slug/{id}/"),
        ("/api/v2/orders/0b6f8c1e-7d3a-4c2b-9a1e-5f6d7c8b9a0e/", "/api/v2/orders/{id}/"),
        ("/healthz", "/healthz"),
    ],
)
def test_a_path_without_a_route_is_named_with_its_ids_replaced(target, route):
    assert template_route(target) == route
