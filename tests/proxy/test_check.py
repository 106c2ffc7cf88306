"""``python -m strangler.proxy.check``: a route table validated without starting anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from strangler.proxy.check import main
from tests.proxy import yaml_writer

UPSTREAMS = {
    "monolith": {"url": "http://127.0.0.1:8100"},
    "catalog": {"url": "http://127.0.0.1:8200"},
}


def write(tmp_path: Path, *routes: dict[str, object]) -> Path:
    path = tmp_path / "routes.yaml"
    yaml_writer.write(path, {"upstreams": UPSTREAMS, "routes": list(routes)})
    return path


def test_a_valid_table_exits_0_with_a_summary(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"})

    status = main([str(path)])

    assert status == 0
    assert capsys.readouterr().out == f"{path}: 1 route, 0 errors, 0 warnings\n"


def test_an_overlap_is_a_warning_and_still_exits_0(tmp_path: Path, capsys) -> None:
    path = write(
        tmp_path,
        {"name": "detail", "path": "/api/v1/products/<int:id>/", "owner": "catalog",
         "mode": "service"},
        {"name": "all", "prefix": "/api/v1/products/", "owner": "catalog", "mode": "shadow"},
    )  # fmt: skip

    status = main([str(path)])

    out = capsys.readouterr().out
    assert status == 0
    assert "1 warning\n" in out
    assert "warning: route 'all': overlaps route 'detail'" in out


def test_an_unreachable_route_is_an_error_and_exits_1(tmp_path: Path, capsys) -> None:
    path = write(
        tmp_path,
        {"name": "first", "prefix": "/api/v1/products/", "owner": "catalog"},
        {"name": "second", "prefix": "/api/v1/products/", "owner": "catalog", "mode": "service"},
    )

    status = main([str(path)])

    assert status == 1
    assert "error: route 'second': unreachable" in capsys.readouterr().out


def test_an_invalid_table_exits_1_naming_file_entry_and_field(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, {"name": "products", "prefix": "/p/", "owner": "nobody"})

    status = main([str(path)])

    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(f"invalid: {path}: ")
    assert "routes[0] (products), field 'owner'" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read the route table"), ("routes: [unclosed\n", "not valid YAML")],
)
def test_a_missing_or_unparsable_file_exits_1(
    tmp_path: Path, capsys, content: str | None, expected: str
) -> None:
    path = tmp_path / "routes.yaml"
    if content is not None:
        path.write_text(content)

    status = main([str(path)])

    assert status == 1
    assert expected in capsys.readouterr().err


def test_json_reports_the_routes_in_precedence_order_and_the_findings(
    tmp_path: Path, capsys
) -> None:
    path = write(
        tmp_path,
        {"name": "all", "prefix": "/api/v1/products/", "owner": "catalog", "mode": "shadow",
         "shadow": {"sample_rate": 0.5}},
        {"name": "detail", "path": "/api/v1/products/<int:id>/", "methods": ["GET"],
         "owner": "catalog", "mode": "canary", "canary_percent": 10, "fallback": True},
    )  # fmt: skip

    status = main(["--json", str(path)])

    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert (report["valid"], report["ok"], report["error"]) == (True, True, None)
    assert report["legacy"] == "monolith"
    assert report["routes"] == [
        {"name": "detail", "pattern": "/api/v1/products/<int:id>/", "kind": "pattern",
         "methods": ["GET"], "owner": "catalog", "mode": "canary", "canary_percent": 10,
         "fallback": True, "shadow_sample_rate": 1.0,
         "read_sides": ["monolith", "catalog"], "write_owner": "monolith",
         "unsynced_writes_accepted": False},
        {"name": "all", "pattern": "/api/v1/products/", "kind": "prefix", "methods": None,
         "owner": "catalog", "mode": "shadow", "canary_percent": 0, "fallback": False,
         "shadow_sample_rate": 0.5, "read_sides": ["monolith"], "write_owner": "monolith",
         "unsynced_writes_accepted": False},
    ]  # fmt: skip
    assert [f["severity"] for f in report["findings"]] == ["warning"]


def test_source_names_the_real_file_when_checking_a_staged_copy(tmp_path: Path, capsys) -> None:
    staged = write(tmp_path, {"name": "products", "prefix": "/p/", "owner": "catalog",
                              "mode": "sideways"})  # fmt: skip

    status = main(["--json", "--source", "/etc/strangler/routes.yaml", str(staged)])

    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["valid"] is False
    assert report["error"].startswith("/etc/strangler/routes.yaml: routes[0] (products)")
    assert str(staged) not in report["error"]


def test_it_runs_as_a_module(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "products", "prefix": "/p/", "owner": "catalog"})

    completed = subprocess.run(
        [sys.executable, "-m", "strangler.proxy.check", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert "1 route, 0 errors" in completed.stdout
