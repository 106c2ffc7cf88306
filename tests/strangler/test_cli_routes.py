"""``strangler routes check|list|set``: on files, and against a real proxy process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from strangler.cli import main
from tests.monolith.processes import free_port, python_env, running, url_answers

TOKEN = "cli-test-token"

TABLE = """\
# Route table for the CLI tests.
upstreams:
  monolith: {url: "http://127.0.0.1:8100"}
  catalog: {url: "http://127.0.0.1:8200"}   # the extracted service
routes:
  - name: products
    prefix: /api/v1/products/   # listing and detail
    owner: catalog
    mode: canary
    canary_percent: 10

  # Categories have not moved.
  - name: categories
    prefix: /api/v1/categories/
    owner: catalog
"""
OVERLAPPING = (
    TABLE
    + """\
  - name: product-detail
    path: /api/v1/products/<int:id>/
    owner: catalog
    mode: service
"""
)
UNREACHABLE = (
    TABLE
    + """\
  - name: products-again
    prefix: /api/v1/products/
    owner: catalog
"""
)
INVALID = TABLE.replace("mode: canary", "mode: sideways")


def run(capfd, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capfd.readouterr()
    return status, out, err


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(TABLE)
    return path


@pytest.fixture
def nobody_listening() -> str:
    """An admin URL where connections are refused: the proxy is not running."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(autouse=True)
def no_admin_token(monkeypatch) -> None:
    monkeypatch.delenv("PROXY_ADMIN_TOKEN", raising=False)


# check


def test_check_passes_a_valid_table(table: Path, capfd) -> None:
    status, out, _ = run(capfd, "routes", "check", str(table))

    assert status == 0
    assert out == f"{table}: 2 routes, 0 errors, 0 warnings\n"


def test_check_warns_of_an_overlap_and_still_passes(tmp_path: Path, capfd) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(OVERLAPPING)

    status, out, _ = run(capfd, "routes", "check", str(path))

    assert status == 0
    assert "warning: route 'products': overlaps route 'product-detail'" in out


def test_check_fails_an_unreachable_route(tmp_path: Path, capfd) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(UNREACHABLE)

    status, out, _ = run(capfd, "routes", "check", str(path))

    assert status == 1
    assert "error: route 'products-again': unreachable" in out


def test_check_fails_an_invalid_table_naming_file_entry_and_field(tmp_path: Path, capfd) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(INVALID)

    status, _, err = run(capfd, "routes", "check", str(path))

    assert status == 1
    assert f"{path}: routes[0] (products), field 'mode'" in err


def test_check_json_passes_the_report_through(table: Path, capfd) -> None:
    status, out, _ = run(capfd, "routes", "check", "--json", str(table))

    assert status == 0
    # Most specific first: the longer prefix wins.
    assert [route["name"] for route in json.loads(out)["routes"]] == ["categories", "products"]


# list, without a running proxy


def test_list_reads_the_file_when_the_proxy_is_not_running(
    table: Path, nobody_listening: str, capfd
) -> None:
    status, out, _ = run(
        capfd, "routes", "list", "--json", "--config", str(table), "--admin", nobody_listening
    )

    listing = json.loads(out)
    assert status == 0
    assert (listing["source"], listing["location"]) == ("file", str(table))
    assert listing["routes"][1] == {
        "name": "products", "pattern": "/api/v1/products/", "kind": "prefix", "methods": None,
        "owner": "catalog", "mode": "canary", "canary_percent": 10, "fallback": False,
        "shadow_sample_rate": 1.0, "read_sides": ["monolith", "catalog"],
        "write_owner": "monolith", "unsynced_writes_accepted": False,
    }  # fmt: skip


def test_list_prints_a_readable_table(table: Path, capfd) -> None:
    status, out, _ = run(capfd, "routes", "list", "--offline", "--config", str(table))

    lines = out.splitlines()
    assert status == 0
    assert lines[0] == f"Routes in {table} (the proxy is not running), most specific first:"
    assert lines[1].split() == [
        "NAME", "PATTERN", "METHODS", "OWNER", "MODE", "CANARY", "FALLBACK", "SAMPLE"
    ]  # fmt: skip
    assert lines[3].split() == [
        "products", "/api/v1/products/*", "*", "catalog", "canary", "10%", "no", "-"
    ]  # fmt: skip
    assert lines[-1] == "Anything else goes to 'monolith'."


def test_list_without_a_proxy_or_a_file_could_not_run(
    tmp_path: Path, nobody_listening: str, capfd
) -> None:
    missing = tmp_path / "routes.yaml"

    status, _, err = run(
        capfd, "routes", "list", "--config", str(missing), "--admin", nobody_listening
    )

    assert status == 2
    assert f"the proxy is not running (nothing at {nobody_listening})" in err


def test_list_of_an_invalid_file_is_refused(tmp_path: Path, capfd) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(INVALID)

    status, _, err = run(capfd, "routes", "list", "--offline", "--config", str(path))

    assert status == 1
    assert "field 'mode'" in err


# set, without a running proxy


def test_set_edits_the_file_keeping_everything_else(
    table: Path, nobody_listening: str, capfd
) -> None:
    status, out, _ = run(
        capfd, "routes", "set", "products", "--percent", "25", "--fallback",
        "--config", str(table), "--admin", nobody_listening,
    )  # fmt: skip

    assert status == 0
    assert "route products in" in out
    assert table.read_text() == TABLE.replace(
        "    canary_percent: 10\n", "    canary_percent: 25\n    fallback: true\n"
    )
    # No staged copy left behind; the change is in the audit trail beside the table.
    assert sorted(os.listdir(table.parent)) == ["routes.yaml", "routes.yaml.audit.jsonl"]


def test_set_keeps_the_table_s_environment_references(tmp_path: Path, capfd, monkeypatch) -> None:
    monkeypatch.setenv("MONOLITH_PORT", "19100")
    path = tmp_path / "routes.yaml"
    written = TABLE.replace("127.0.0.1:8100", "127.0.0.1:${MONOLITH_PORT:-8100}")
    path.write_text(written)

    status, _, _ = run(capfd, "routes", "set", "products", "--percent", "25", "--offline",
                       "--config", str(path))  # fmt: skip

    assert status == 0
    assert path.read_text() == written.replace("canary_percent: 10", "canary_percent: 25")


def test_list_says_which_admin_api_it_asks_and_why_that_one(
    table: Path, capfd, monkeypatch
) -> None:
    port = free_port()
    monkeypatch.delenv("STRANGLER_ADMIN_URL", raising=False)
    monkeypatch.setenv("PROXY_ADMIN_PORT", str(port))

    status, _, err = run(capfd, "routes", "list", "--config", str(table))

    assert status == 0
    assert err.splitlines()[0] == (
        f"using the proxy's admin API at http://127.0.0.1:{port} (from $PROXY_ADMIN_PORT)"
    )


def test_set_says_which_admin_api_it_asks(table: Path, nobody_listening: str, capfd) -> None:
    status, _, err = run(capfd, "routes", "set", "products", "--percent", "25",
                         "--config", str(table), "--admin", nobody_listening)  # fmt: skip

    assert status == 0
    assert f"using the proxy's admin API at {nobody_listening} (from --admin)" in err


def test_set_refuses_an_invalid_change_and_leaves_the_file(table: Path, capfd) -> None:
    status, _, err = run(
        capfd, "routes", "set", "categories", "--mode", "sideways", "--offline",
        "--config", str(table),
    )  # fmt: skip

    assert status == 1
    assert f"{table}: routes[1] (categories), field 'mode'" in err
    assert table.read_text() == TABLE
    assert os.listdir(table.parent) == ["routes.yaml"]


def test_set_refuses_to_lower_a_canary_unless_forced(table: Path, capfd) -> None:
    refused = run(capfd, "routes", "set", "products", "--percent", "5", "--offline",
                  "--config", str(table))  # fmt: skip
    unchanged = table.read_text()
    forced = run(capfd, "routes", "set", "products", "--percent", "5", "--force", "--offline",
                 "--config", str(table))  # fmt: skip

    assert refused[0] == 1
    assert "only ramps up" in refused[2]
    assert "--force" in refused[2]
    assert unchanged == TABLE
    assert forced[0] == 0
    assert "canary_percent: 5\n" in table.read_text()


@pytest.mark.parametrize(
    ("argv", "expected_status", "expected"),
    [
        (["nope", "--mode", "service"], 1, "no route named 'nope'"),
        (["products"], 2, "nothing to change"),
    ],
    ids=["unknown-route", "no-change"],
)
def test_set_says_what_to_fix(
    table: Path, capfd, argv: list[str], expected_status: int, expected: str
) -> None:
    status, _, err = run(capfd, "routes", "set", *argv, "--offline", "--config", str(table))

    assert status == expected_status
    assert expected in err


def test_set_on_a_missing_file_could_not_run(tmp_path: Path, capfd) -> None:
    missing = tmp_path / "absent" / "routes.yaml"

    status, _, err = run(capfd, "routes", "set", "products", "--mode", "service", "--offline",
                         "--config", str(missing))  # fmt: skip

    assert status == 2
    assert "cannot edit" in err


def test_the_cli_runs_as_a_module_with_its_exit_codes(table: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "strangler.cli", "routes", "set", "nope", "--mode", "service",
         "--offline", "--config", str(table)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip

    assert completed.returncode == 1
    assert completed.stderr.startswith("strangler: refused")


# against a running proxy


@pytest.fixture
def running_proxy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``python -m strangler.proxy`` for real; yields its admin URL and its route table file."""
    config = tmp_path / "routes.yaml"
    config.write_text(TABLE)
    port, admin_port = free_port(), free_port()
    admin = f"http://127.0.0.1:{admin_port}"
    args = [sys.executable, "-m", "strangler.proxy", "--config", str(config), "--port", str(port),
            "--admin-port", str(admin_port)]  # fmt: skip
    env = python_env(PROXY_ADMIN_TOKEN=TOKEN, PROXY_WORKERS="1")
    with running(args, env=env, log=tmp_path / "proxy.log", ready=url_answers(f"{admin}/healthz")):
        yield admin, config


@pytest.mark.e2e
def test_list_shows_the_running_proxys_routes_with_counters(running_proxy, capfd) -> None:
    admin, _ = running_proxy

    status, out, _ = run(capfd, "routes", "list", "--json", "--admin", admin)

    listing = json.loads(out)
    assert status == 0
    assert listing["source"] == "admin"
    assert [route["name"] for route in listing["routes"]] == ["categories", "products"]
    assert set(listing["routes"][1]["counters"]) == {"requests", "fallbacks", "shadow"}


@pytest.mark.e2e
def test_set_through_the_admin_api_changes_the_running_table_and_the_file(
    running_proxy, capfd, monkeypatch
) -> None:
    admin, config = running_proxy
    monkeypatch.setenv("PROXY_ADMIN_TOKEN", TOKEN)

    status, out, _ = run(capfd, "routes", "set", "products", "--percent", "30", "--admin", admin)

    served = requests.get(f"{admin}/routes/products", timeout=5).json()
    assert status == 0
    assert "through the proxy" in out
    assert served["canary_percent"] == 30
    assert "    canary_percent: 30\n" in config.read_text()
    assert "# Categories have not moved." in config.read_text()


@pytest.mark.e2e
def test_set_through_the_admin_api_without_the_token_is_refused(running_proxy, capfd) -> None:
    admin, config = running_proxy

    status, _, err = run(capfd, "routes", "set", "products", "--percent", "30", "--admin", admin)

    assert status == 1
    assert "PROXY_ADMIN_TOKEN" in err
    assert config.read_text() == TABLE


@pytest.mark.e2e
def test_the_admin_api_refuses_to_lower_a_canary_too(running_proxy, capfd, monkeypatch) -> None:
    admin, config = running_proxy
    monkeypatch.setenv("PROXY_ADMIN_TOKEN", TOKEN)

    status, _, err = run(capfd, "routes", "set", "products", "--percent", "5", "--admin", admin)

    assert status == 1
    assert "[canary_ramp_down]" in err
    assert config.read_text() == TABLE


def _elsewhere(tmp_path: Path, text: str) -> Path:
    """Another team's copy of a table, in a directory of its own."""
    path = tmp_path / "elsewhere" / "routes.yaml"
    path.parent.mkdir()
    path.write_text(text)
    return path


ENV_TABLE = TABLE.replace("127.0.0.1:8100", "127.0.0.1:${MONOLITH_PORT:-8100}")


@pytest.mark.e2e
def test_list_refuses_a_proxy_serving_another_table(
    running_proxy, tmp_path: Path, capfd, monkeypatch
) -> None:
    admin, _ = running_proxy
    monkeypatch.setenv("MONOLITH_PORT", "19100")  # this team's monolith is elsewhere
    ours = _elsewhere(tmp_path, ENV_TABLE)

    status, out, err = run(capfd, "routes", "list", "--config", str(ours), "--admin", admin)

    assert status == 1
    assert out == ""
    assert f"the proxy at {admin} serves" in err
    assert "upstream monolith is http://127.0.0.1:8100 there, http://127.0.0.1:19100 here" in err


@pytest.mark.e2e
def test_set_refuses_to_change_a_proxy_serving_other_routes(
    running_proxy, tmp_path: Path, capfd, monkeypatch
) -> None:
    admin, config = running_proxy
    monkeypatch.setenv("PROXY_ADMIN_TOKEN", TOKEN)
    ours = _elsewhere(tmp_path, TABLE.replace("name: categories", "name: genres"))
    monkeypatch.setenv("STRANGLER_ROUTES", str(ours))  # the table given, by the environment

    status, _, err = run(capfd, "routes", "set", "products", "--percent", "30", "--admin", admin)

    assert status == 1
    assert "routes only in the table given: genres" in err
    assert "routes only in the proxy's: categories" in err
    assert requests.get(f"{admin}/routes/products", timeout=5).json()["canary_percent"] == 10
    assert config.read_text() == TABLE
    assert ours.read_text() == TABLE.replace("name: categories", "name: genres")


@pytest.mark.e2e
def test_set_goes_through_a_proxy_serving_the_file_given_or_the_same_table(
    running_proxy, tmp_path: Path, capfd, monkeypatch
) -> None:
    admin, config = running_proxy
    monkeypatch.setenv("PROXY_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("MONOLITH_PORT", raising=False)
    copy = _elsewhere(tmp_path, ENV_TABLE)  # expands to the proxy's table here

    same_file = run(capfd, "routes", "set", "products", "--percent", "30",
                    "--config", str(config), "--admin", admin)  # fmt: skip
    same_table = run(capfd, "routes", "set", "products", "--percent", "40",
                     "--config", str(copy), "--admin", admin)  # fmt: skip

    assert (same_file[0], same_table[0]) == (0, 0), (same_file, same_table)
    assert requests.get(f"{admin}/routes/products", timeout=5).json()["canary_percent"] == 40
    assert copy.read_text() == ENV_TABLE  # the proxy's own file changed, not the copy


@pytest.mark.e2e
def test_a_table_given_that_cannot_be_read_is_not_taken_for_the_proxys(
    running_proxy, tmp_path: Path, capfd, monkeypatch
) -> None:
    admin, _ = running_proxy
    monkeypatch.setenv("PROXY_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("NOWHERE", raising=False)
    ours = _elsewhere(tmp_path, TABLE.replace("127.0.0.1:8100", "${NOWHERE}:8100"))

    status, _, err = run(capfd, "routes", "set", "products", "--percent", "30",
                         "--config", str(ours), "--admin", admin)  # fmt: skip

    assert status == 1
    assert f"{ours}: upstreams.monolith, field 'url': ${{NOWHERE}} is not set" in err
    assert f"cannot tell whether the proxy at {admin}" in err
    assert requests.get(f"{admin}/routes/products", timeout=5).json()["canary_percent"] == 10
