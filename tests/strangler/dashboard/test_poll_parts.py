"""The poll's parts on their own: the rates over a window, the public document, the patches
between two polls, and the one-pass reading of a proxy's ``/metrics``."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from strangler.dashboard.poller import Channel, RateWindow, public_document
from strangler.overview.poll_session import PollSession
from strangler.plans.sources import metric_samples
from tests.strangler.dashboard.synthetic import FakeProxy
from tests.strangler.plans.fleet import http_server


def _document(at: float, requests: int, errors: int, mode: str = "canary") -> dict[str, Any]:
    return {
        "taken_at": at,
        "headline": {"overall": {}, "plans": {"p": {}}},
        "plans": [{"name": "p", "routes": ["a"]}],
        "routes": [
            {"name": "a", "mode": mode, "sides": {"svc": {"requests": requests, "errors": errors}}},
            {"name": "b", "mode": "shadow", "sides": {"mono": {"requests": 7, "errors": 0}}},
        ],
        "comparison": {
            "where": "x",
            "routes": [{"route": "a", "clusters": [{"label": "price", "example": {"curl": "c"}}]}],
        },
        "audit": [{"id": 1, "actor": "alice", "action": "hold"}],
    }


def test_rates_are_the_counters_difference_over_the_window():
    window = RateWindow(seconds=60)
    first = _document(100.0, 1000, 0)
    window.add(first)
    assert first["routes"][0]["rps"] is None  # one poll tells no rate

    later = _document(110.0, 1500, 50)
    window.add(later)

    side = later["routes"][0]["sides"]["svc"]
    assert side["rps"] == 50.0
    assert side["error_rate"] == 0.1
    assert later["routes"][1]["rps"] == 0.0
    assert later["headline"]["overall"]["rps"] == 50.0
    assert later["headline"]["plans"]["p"]["rps"] == 50.0


def test_a_proxy_restart_does_not_make_a_negative_rate():
    window = RateWindow(seconds=60)
    window.add(_document(100.0, 1000, 0))
    restarted = _document(110.0, 20, 0)
    window.add(restarted)
    assert restarted["routes"][0]["sides"]["svc"]["rps"] == 2.0


def test_the_public_document_has_no_example_and_no_actor_and_leaves_the_original():
    document = _document(1.0, 1, 0)
    original = copy.deepcopy(document)

    public = public_document(document)

    assert public["comparison"]["routes"][0]["clusters"] == [{"label": "price"}]
    assert public["audit"] == [{"id": 1, "actor": None, "action": "hold"}]
    assert document == original


def test_a_channel_sends_only_what_changed_and_nothing_when_nothing_did():
    async def scenario() -> None:
        channel = Channel(admin=False)
        assert await channel.update(_document(1.0, 1, 0))
        assert channel.version == 1
        assert not await channel.update(_document(2.0, 1, 0))  # only the clock moved
        assert channel.version == 1

        assert await channel.update(_document(3.0, 1, 0, mode="service"))

        assert channel.version == 2
        patches = channel.patches_after(1)
        assert patches is not None
        assert len(patches) == 1
        assert '"name":"a"' in patches[0]
        assert '"name":"b"' not in patches[0]
        assert channel.patches_after(0) is None  # the first version is a document, not a patch
        assert channel.document is not None
        assert channel.document["access"] == {"admin": False}

    asyncio.run(scenario())


def test_metric_samples_reads_as_prometheus_client_does():
    text = FakeProxy(50).metrics() + (
        '# HELP odd odd\nodd_total{a="q\\"uo\\\\te\\nnl",b="}{,"} 3.0\n'
        'odd_bucket{le="+Inf"} +Inf\nodd_gauge 2 1700000000\n'
    )
    samples = metric_samples(text)

    assert ("odd_total", {"a": 'q"uo\\te\nnl', "b": "}{,"}, 3.0) in samples
    assert ("odd_bucket", {"le": "+Inf"}, float("inf")) in samples
    assert ("odd_gauge", {}, 2.0) in samples
    assert len(samples) == len([x for x in text.splitlines() if x and not x.startswith("#")])


def test_metric_samples_refuses_what_is_not_metrics():
    with pytest.raises(ValueError):
        metric_samples("<html>not metrics</html>")


def test_a_poll_reads_each_url_once_and_metrics_only_as_often_as_kept():
    proxy = FakeProxy(3)
    with http_server(proxy.answer) as (url, received):
        session = PollSession(keep={"/metrics": 60.0})
        for _ in range(3):  # three polls, each reading both twice
            session.new_poll()
            for path in ("/routes", "/metrics", "/routes", "/metrics"):
                assert session.get(f"{url}{path}", timeout=5).status_code == 200
        session.close()

    paths = [r.path for r in received]
    assert paths.count("/routes") == 3  # once a poll
    assert paths.count("/metrics") == 1  # once in its 60 s
