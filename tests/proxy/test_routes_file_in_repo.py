"""The route table shipped in the repository loads and has nothing unreachable."""

from __future__ import annotations

from pathlib import Path

from strangler.proxy.config import load_table_config
from strangler.proxy.routing import RouteTable

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_route_table_is_valid_and_every_route_reachable() -> None:
    table = RouteTable(load_table_config(REPO / "routes.yaml"), source="routes.yaml")

    assert table.legacy == "monolith"
    assert [f for f in table.findings() if f.severity == "error"] == []
    assert {r.config.owner for r in table.routes} == {"catalog"}
