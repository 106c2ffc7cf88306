from __future__ import annotations

from pathlib import Path

import pytest

from strangler.proxy.config import load_table_config, parse_table_config
from strangler.proxy.errors import ConfigError

UPSTREAMS = {
    "monolith": {"url": "http://127.0.0.1:8100"},
    "catalog": {"url": "http://127.0.0.1:8200"},
}


def _table(*routes: dict[str, object], **extra: object) -> dict[str, object]:
    return {"upstreams": UPSTREAMS, "routes": list(routes), **extra}


def test_a_valid_table_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(
        "upstreams:\n  monolith: {url: 'http://127.0.0.1:8100/'}\n"
        "routes:\n  - {name: home, path: /, owner: monolith}\n"
    )

    config = load_table_config(path)

    assert config.legacy == "monolith"
    assert config.upstreams["monolith"].url == "http://127.0.0.1:8100"
    assert config.upstreams["monolith"].timeouts.connect == 2.0
    assert config.routes[0].mode == "monolith"
    assert config.routes[0].shadow.unsafe_methods is False


@pytest.mark.parametrize(
    ("route", "names"),
    [
        (
            {"name": "p", "path": "/x/", "owner": "catalog", "mode": "sideways"},
            ["routes[0] (p)", "'mode'"],
        ),
        ({"name": "p", "path": "/x/", "owner": "nowhere"}, ["routes[0] (p)", "'owner'", "nowhere"]),
        ({"name": "p", "owner": "catalog"}, ["routes[0] (p)", "exactly one of 'path'"]),
        (
            {"name": "p", "path": "x/", "owner": "catalog"},
            ["routes[0] (p)", "'path'", "start with '/'"],
        ),
        (
            {"name": "p", "path": "/x/", "owner": "catalog", "canary_percent": 120},
            ["'canary_percent'"],
        ),
        (
            {"name": "p", "path": "/x/", "owner": "catalog", "methods": ["GET", "BREW"]},
            ["'methods.1'"],
        ),
        ({"name": "p", "path": "/x/", "owner": "catalog", "colour": "red"}, ["'colour'"]),
        (
            {"name": "p", "path": "/x/", "owner": "monolith", "mode": "service"},
            ["'mode'", "owned by the monolith"],
        ),
        (
            {"name": "p", "path": "/x/", "owner": "catalog", "shadow": {"sample_rate": 2}},
            ["'shadow.sample_rate'"],
        ),
    ],
)
def test_a_bad_route_is_refused_naming_file_entry_and_field(
    route: dict[str, object], names: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_table_config(_table(route), source="routes.yaml")

    message = str(caught.value)
    assert message.startswith("routes.yaml: ")
    for name in names:
        assert name in message


def test_a_bad_upstream_url_names_the_upstream() -> None:
    with pytest.raises(ConfigError, match=r"upstreams\.catalog, field 'url'"):
        parse_table_config(
            {"upstreams": {**UPSTREAMS, "catalog": {"url": "ftp://x/y"}}}, source="r.yaml"
        )


def test_duplicate_route_names_are_refused() -> None:
    route = {"name": "p", "path": "/x/", "owner": "catalog"}
    with pytest.raises(ConfigError, match="name is used by an earlier route"):
        parse_table_config(_table(route, {**route, "path": "/y/"}), source="r.yaml")


def test_yaml_that_does_not_parse_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("upstreams: [unclosed\n")

    with pytest.raises(ConfigError, match=f"{path}: not valid YAML"):
        load_table_config(path)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the route table"):
        load_table_config(tmp_path / "absent.yaml")


ENV_TABLE = """\
upstreams:
  monolith: {url: "http://127.0.0.1:${MONOLITH_PORT:-8100}"}
  catalog:
    url: "http://${CATALOG_HOST}:${CATALOG_PORT:-8200}"
    timeouts: {connect: "${CONNECT_SECONDS:-2}"}
routes:
  - {name: products, prefix: /api/v1/products/, owner: catalog}
"""


def test_a_table_s_urls_and_numbers_follow_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(ENV_TABLE)
    monkeypatch.setenv("MONOLITH_PORT", "19100")
    monkeypatch.setenv("CATALOG_HOST", "catalog.internal")
    monkeypatch.delenv("CATALOG_PORT", raising=False)
    monkeypatch.setenv("CONNECT_SECONDS", "0.5")

    config = load_table_config(path)

    assert config.upstreams["monolith"].url == "http://127.0.0.1:19100"
    assert config.upstreams["catalog"].url == "http://catalog.internal:8200"
    assert config.upstreams["catalog"].timeouts.connect == 0.5
    assert "${MONOLITH_PORT:-8100}" in path.read_text()  # the file keeps its references


def test_an_unset_variable_is_refused_naming_file_entry_field_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(ENV_TABLE)
    monkeypatch.delenv("CATALOG_HOST", raising=False)

    with pytest.raises(ConfigError) as error:
        load_table_config(path)

    assert error.value.message.startswith(
        f"{path}: upstreams.catalog, field 'url': ${{CATALOG_HOST}} is not set"
    )


def test_an_unset_variable_in_a_route_names_the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOWHERE", raising=False)
    route = {"name": "p", "path": "/x/", "owner": "catalog", "mode": "${NOWHERE}"}

    expected = r"r.yaml: routes\[0\] \(p\), field 'mode': \$\{NOWHERE\} is not set"
    with pytest.raises(ConfigError, match=expected):
        parse_table_config(_table(route), source="r.yaml")
