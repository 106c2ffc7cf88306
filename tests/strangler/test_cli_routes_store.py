"""``strangler routes list|set|import|export|history`` with the shared control store
(``STRANGLER_STORE_URL``, a real PostgreSQL) and no proxy answering: the store is the table,
every replica is listed, every change is audited under the operator's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from strangler.cli import main
from strangler.cli.routes import stored
from strangler.control import ControlStore
from tests.monolith.processes import free_port, wait_until
from tests.strangler.plans.fleet import Received, Replica, control, control_url, http_server
from tests.strangler.test_cli_routes import TABLE

# Imported for pytest to find them here: fleet says why they are not in conftest.
FIXTURES = (control, control_url)

# The table of the file-store CLI tests: the store must edit it the same way.
INVALID = TABLE.replace("mode: canary", "mode: sideways")


@pytest.fixture
def nobody_listening() -> str:
    """An admin URL where connections are refused: no proxy answers."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def cli(control_url: str, nobody_listening: str, monkeypatch: pytest.MonkeyPatch, capfd):
    """Run ``strangler routes ...`` against the store, as operator ana; (status, out, err)."""
    monkeypatch.setenv("STRANGLER_STORE_URL", control_url)
    monkeypatch.setenv("STRANGLER_OPERATOR", "ana")
    monkeypatch.delenv("PROXY_ADMIN_TOKEN", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        admin = ["--admin", nobody_listening] if argv[0] in ("list", "set") else []
        status = main(["routes", *argv, *admin])
        out, err = capfd.readouterr()
        return status, out, err

    return run


@pytest.fixture
def seeded(control: ControlStore) -> ControlStore:
    control.seed_table(TABLE, actor="host-a/0", via="seed", source="routes.yaml")
    return control


def served_by(store: ControlStore, replica: str, version: int) -> bool:
    return any(r.replica == replica and r.table_version >= version for r in store.replicas())


# list


def test_list_shows_the_stores_table_and_every_replica_flagging_one_that_lags(
    cli, seeded, control_url
):
    following = Replica(control_url, "host-a/0", admin_url="http://10.0.0.1:8001")
    stuck = Replica(control_url, "host-b/0", admin_url="http://10.0.0.2:8001", follows=False)
    try:
        seeded.write_table(
            TABLE + "# two\n", expected_version=1, actor="t", via="cli", action="set", subject="t"
        )
        wait_until(lambda: served_by(seeded, "host-a/0", 2), deadline=5, what="host-a/0")
        text = cli("list")
        listing = cli("list", "--json")
    finally:
        following.stop()
        stuck.stop()

    status, out, _ = text
    lines = out.splitlines()
    assert status == 0
    assert lines[0].startswith("Routes in the control store at postgres://")
    assert lines[0].endswith("(table version 2) (no proxy answered), most specific first:")
    fleet_at = lines.index(next(line for line in lines if line.startswith("Proxy replicas")))
    assert lines[fleet_at].endswith(": table version 2, holds version 0):")
    assert lines[fleet_at + 1].split() == ["REPLICA", "ADMIN", "TABLE", "HOLDS", "LAST", "SEEN",
                                           "STATE"]  # fmt: skip
    assert lines[fleet_at + 2].split()[:4] == ["host-a/0", "http://10.0.0.1:8001", "2", "0"]
    assert lines[fleet_at + 2].endswith("ok")
    assert lines[fleet_at + 3].split()[:4] == ["host-b/0", "http://10.0.0.2:8001", "1", "0"]
    assert lines[fleet_at + 3].endswith("LAGGING: serves table version 1, the store has 2")
    assert lines[-1] == "1 of 2 replicas lag."
    fleet = json.loads(listing[1])["fleet"]
    assert [(r["replica"], r["table_version"], r["lagging"]) for r in fleet["replicas"]] == [
        ("host-a/0", 2, None),
        ("host-b/0", 1, "serves table version 1, the store has 2"),
    ]
    assert (fleet["table_version"], fleet["holds_version"]) == (2, 0)
    assert json.loads(listing[1])["source"] == "store"


def test_list_with_a_store_that_cannot_be_reached_names_it_without_its_password(cli, monkeypatch):
    port = free_port()
    monkeypatch.setenv("STRANGLER_STORE_URL", f"postgres://ops:hunter2@127.0.0.1:{port}/control")

    status, out, err = cli("list")

    assert (status, out) == (2, "")
    assert err.startswith(
        f"strangler: the control store at postgres://ops:***@127.0.0.1:{port}/control cannot be "
        "reached: "
    )
    assert err.rstrip().endswith("[store_unavailable]")
    assert "hunter2" not in err
    assert "Traceback" not in err


# import and export


def test_import_puts_a_checked_file_in_the_store_under_the_operators_name(cli, control, tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(TABLE, encoding="utf-8")

    status, out, _ = cli("import", str(path))

    record = control.read_table()
    assert status == 0
    assert out.startswith(f"imported {path} into the control store at postgres://")
    assert "table version 1; no proxy replica has joined the fleet yet" in out
    assert record is not None
    assert record.text == TABLE
    entry = control.audit()[-1]
    assert (entry.actor, entry.via, entry.action, entry.subject) == (
        "ana", "import", "import", "table"
    )  # fmt: skip
    assert (entry.before, entry.after) == (None, {"source": str(path)})


def test_import_of_an_invalid_file_is_refused_and_the_store_keeps_its_table(cli, seeded, tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(INVALID, encoding="utf-8")

    status, _, err = cli("import", str(path))

    assert status == 1
    assert f"{path}: routes[0] (products), field 'mode'" in err
    assert seeded.table_version() == 1


ENV_TABLE = TABLE.replace("127.0.0.1:8100", "127.0.0.1:${MONOLITH_PORT:-8100}")


def test_the_store_keeps_a_table_s_environment_references_through_import_and_set(
    cli, control, tmp_path, monkeypatch
):
    monkeypatch.setenv("MONOLITH_PORT", "19100")  # each replica expands them in its own
    path = tmp_path / "routes.yaml"
    path.write_text(ENV_TABLE, encoding="utf-8")

    imported = cli("import", str(path))
    changed = cli("set", "products", "--percent", "25", "--offline")

    record = control.read_table()
    assert (imported[0], changed[0]) == (0, 0), (imported, changed)
    assert record is not None
    assert record.text == ENV_TABLE.replace("canary_percent: 10", "canary_percent: 25")


def test_import_of_a_table_naming_an_unset_variable_is_refused(cli, control, tmp_path, monkeypatch):
    monkeypatch.delenv("CATALOG_HOST", raising=False)
    path = tmp_path / "routes.yaml"
    path.write_text(TABLE.replace("127.0.0.1:8200", "${CATALOG_HOST}:8200"), encoding="utf-8")

    status, _, err = cli("import", str(path))

    assert status == 1
    assert f"{path}: upstreams.catalog, field 'url': ${{CATALOG_HOST}} is not set" in err
    assert control.read_table() is None


def test_export_prints_the_stores_table_as_written(cli, seeded):
    status, out, _ = cli("export")

    assert (status, out) == (0, TABLE)


def test_export_of_an_empty_store_says_how_to_fill_it(cli):
    status, _, err = cli("export")

    assert status == 1
    assert "holds no route table yet" in err
    assert "strangler routes import FILE" in err


# set, no proxy answering


def test_set_changes_the_stores_table_and_says_which_replicas_served_it(cli, seeded, control_url):
    following = Replica(control_url, "host-a/0")
    stuck = Replica(control_url, "host-b/0", follows=False)
    try:
        status, out, _ = cli("set", "products", "--percent", "25")
    finally:
        following.stop()
        stuck.stop()

    record = seeded.read_table()
    assert status == 0
    assert out.startswith("route products in the control store at postgres://")
    assert "canary_percent 25 (table version 2, the proxy's admin API was not reached)" in out
    assert out.rstrip().endswith(
        "served by 1 of 2 proxy replicas within 1 s; not yet by host-b/0 (table 1, holds 0) "
        "(`strangler routes list` shows the fleet)"
    )
    assert record is not None
    assert record.text == TABLE.replace("canary_percent: 10", "canary_percent: 25")
    entry = seeded.audit()[-1]
    assert (entry.actor, entry.via, entry.action, entry.subject) == (
        "ana", "cli", "set", "route:products"
    )  # fmt: skip
    assert (entry.before, entry.after) == ({"canary_percent": 10}, {"canary_percent": 25})


def test_set_offline_goes_to_the_store_and_a_no_op_writes_nothing(cli, seeded):
    status, out, _ = cli("set", "products", "--percent", "10", "--offline")

    assert status == 0
    assert out == "route products in the control store: canary_percent 10: unchanged, already so\n"
    assert seeded.table_version() == 1


def test_set_in_the_store_refuses_an_invalid_change_and_leaves_the_table(cli, seeded):
    status, _, err = cli("set", "categories", "--mode", "sideways")

    assert status == 1
    assert "the store's route table (version 1): routes[1] (categories), field 'mode'" in err
    assert seeded.table_version() == 1


def test_set_in_the_store_refuses_to_lower_a_canary_unless_forced(cli, seeded):
    refused = cli("set", "products", "--percent", "5")
    forced = cli("set", "products", "--percent", "5", "--force")

    assert refused[0] == 1
    assert "only ramps up" in refused[2]
    assert forced[0] == 0
    assert seeded.table_version() == 2


def test_a_change_racing_another_writer_is_made_on_top_of_the_others(cli, seeded, monkeypatch):
    checked = stored.check_text
    raced: list[int] = []

    def another_writer_first(text: str, *, source: str):
        if not raced:  # between this change's read and its write, someone else writes
            record = seeded.read_table()
            assert record is not None
            raced.append(
                seeded.write_table(
                    record.text.replace("# Categories have not moved.", "# Not yet."),
                    expected_version=record.version, actor="bo", via="cli", action="set",
                    subject="route:categories",
                ).version
            )  # fmt: skip
        return checked(text, source=source)

    monkeypatch.setattr(stored, "check_text", another_writer_first)

    status, out, _ = cli("set", "products", "--percent", "25")

    record = seeded.read_table()
    assert (status, raced) == (0, [2])
    assert "(table version 3," in out
    assert record is not None
    assert "canary_percent: 25" in record.text
    assert "# Not yet." in record.text


# history


def test_history_prints_the_audit_trail_oldest_first(cli, seeded):
    cli("set", "products", "--percent", "25")

    status, out, _ = cli("history")
    newest = json.loads(cli("history", "--json", "--limit", "1")[1])

    lines = out.splitlines()
    assert status == 0
    assert len(lines) == 2
    assert lines[0].endswith(
        'host-a/0 via seed: seed table  - -> {"source": "routes.yaml", "version": 1}'
    )
    assert lines[1].endswith(
        'ana via cli: set route:products  {"canary_percent": 10} -> {"canary_percent": 25}'
    )
    assert [(e["actor"], e["action"]) for e in newest["entries"]] == [("ana", "set")]


@pytest.mark.parametrize("command", [["export"], ["import", "routes.yaml"]])
def test_the_store_commands_without_a_store_say_they_need_it(
    command: list[str], monkeypatch, capfd
):
    monkeypatch.delenv("STRANGLER_STORE_URL", raising=False)

    status = main(["routes", *command])

    assert status == 2
    assert "set STRANGLER_STORE_URL" in capfd.readouterr().err


def test_a_plan_command_with_a_store_that_cannot_be_reached_names_it(
    tmp_path: Path, monkeypatch, capfd
):
    plan = tmp_path / "demo.yaml"
    plan.write_text(
        """
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
nodes:
  monolith: {url: "http://127.0.0.1:1", manage: "true"}
  catalog: {url: "http://127.0.0.1:1", manage: "true"}
steps:
  - kind: shadow
""",
        encoding="utf-8",
    )
    port = free_port()
    monkeypatch.setenv("STRANGLER_STORE_URL", f"postgresql://ops:pw@127.0.0.1:{port}/control")

    status = main(["plan", "status", str(plan), "--admin", f"http://127.0.0.1:{free_port()}"])

    err = capfd.readouterr().err
    assert status == 2
    assert f"the control store at postgresql://ops:***@127.0.0.1:{port}/control" in err
    assert "Traceback" not in err


def test_list_through_a_proxy_in_store_mode_shows_the_fleet_it_lists(monkeypatch, capfd):
    monkeypatch.delenv("STRANGLER_STORE_URL", raising=False)
    fleet = {
        "table_version": 4, "holds_version": 2, "now": 1000.0,
        "members": [
            {"replica": "host-a/0", "admin_url": "http://10.0.0.1:8001", "table_version": 4,
             "holds_version": 2, "seen_at": 999.5, "lagging": None},
            {"replica": "host-b/0", "admin_url": "http://10.0.0.2:8001", "table_version": 3,
             "holds_version": 2, "seen_at": 990.0, "lagging": "no heartbeat for 10 s"},
        ],
    }  # fmt: skip
    routes = {"legacy": "monolith", "routes": []}

    def proxy(request: Received) -> tuple[int, object]:
        return (200, fleet) if request.path == "/fleet" else (200, routes)

    with http_server(proxy) as (admin, _):
        status = main(["routes", "list", "--admin", admin])
    out = capfd.readouterr().out.splitlines()

    assert status == 0
    assert out[-5] == f"Proxy replicas (the proxy at {admin}: table version 4, holds version 2):"
    assert out[-3].split()[:5] == ["host-a/0", "http://10.0.0.1:8001", "4", "2", "0.5"]
    assert out[-2].endswith("10.0 s ago  LAGGING: no heartbeat for 10 s")
    assert out[-1] == "1 of 2 replicas lag."
