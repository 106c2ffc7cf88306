"""``strangler plan next``: every name the plan uses is checked, ``--dry-run`` included, against
a real proxy and two real sync nodes (``tests/strangler/plans/live_system.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from strangler.cli import main
from tests.monolith.processes import REPO, free_port
from tests.strangler.plans.live_system import LiveSystem, live_system, plan_text

# Imported for pytest to find it here: live_system says why it is not in conftest.
FIXTURES = (live_system,)

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(live_system: LiveSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd):
    """Run ``strangler plan ...`` on a plan written from ``plan_text``; (status, out, err),
    ``err`` after the line that says which admin API the command asks (checked here)."""
    monkeypatch.setenv("STRANGLER_SYNC_SECRET", live_system.sync_secret)
    monkeypatch.delenv("PROXY_ADMIN_TOKEN", raising=False)

    def run(command: str, *flags: str, **names: str) -> tuple[int, str, str]:
        path = tmp_path / "widgets.yaml"
        path.write_text(plan_text(live_system, **names), encoding="utf-8")
        status = main(["plan", command, str(path), "--admin", live_system.admin_url,
                       "--state-dir", str(tmp_path / "state"), *flags])  # fmt: skip
        out, err = capfd.readouterr()
        said, _, rest = err.partition("\n")
        assert said == f"using the proxy's admin API at {live_system.admin_url} (from --admin)"
        return status, out, rest

    return run


def test_a_dry_run_with_matching_names_says_what_it_would_do_and_what_it_checked(cli):
    status, out, err = cli("next", "--dry-run")

    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "would apply step 'backfill'",
        "  - enable the sync alpha -> beta",
        "  - copy every row of widgets.Widget, widgets.Part to beta (backfill)",
        "names checked against the running system:",
        "  - proxy: routes widgets, parts move from upstream alpha to beta",
        "  - sync: nodes alpha and beta know each other; widgets.Widget, widgets.Part travel "
        "alpha -> beta and back",
    ]


def test_a_dry_run_with_a_name_the_sync_does_not_know_fails_naming_file_field_and_value(
    cli, tmp_path
):
    status, out, err = cli("next", "--dry-run", service="catalog", service_extra=", upstream: beta")

    assert status == 2
    assert out.splitlines()[0] == "would apply step 'backfill'"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == (
        "strangler: plan widgets: 3 name(s) not confirmed by the running system; nothing was "
        "changed:"
    )
    assert lines[1].startswith(
        f"  {tmp_path / 'widgets.yaml'}: nodes.catalog.peer (unset: the key): 'catalog': "
        "alpha's sync node at "
    )
    assert "'catalog' is not a peer of alpha" in lines[1]


def test_a_real_next_with_a_wrong_name_changes_nothing(cli, live_system, tmp_path):
    status, _, err = cli("next", routes="widgets, gadgets")

    assert status == 2
    assert "routes[1]: 'gadgets': not a route of the proxy's table" in err
    assert not (tmp_path / "state" / "widgets.json").exists()
    route = requests.get(f"{live_system.admin_url}/routes/widgets", timeout=5).json()
    assert route["mode"] == "monolith"


def test_a_dry_run_in_json_prints_the_outcome_only(cli):
    status, out, err = cli("next", "--dry-run", "--json")

    assert (status, err) == (0, "")
    assert json.loads(out)["message"] == "would apply step 'backfill'"


def test_a_dry_run_with_nothing_running_shows_the_step_and_what_it_could_not_check(
    monkeypatch, capfd, tmp_path
):
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("STRANGLER_SYNC_SECRET", raising=False)
    admin = f"http://127.0.0.1:{free_port()}"

    status = main(["plan", "next", "catalog", "--dry-run", "--admin", admin,
                   "--state-dir", str(tmp_path / "state")])  # fmt: skip
    out, err = capfd.readouterr()

    assert status == 2
    assert out.splitlines() == [
        "would apply step 'backfill'",
        "  - enable the sync monolith -> catalog",
        "  - copy every row of catalog.Category, catalog.Product to catalog (backfill)",
    ]
    said, first, routes, nodes = err.splitlines()
    assert said == f"using the proxy's admin API at {admin} (from --admin)"
    assert first == (
        "strangler: plan catalog: 2 name(s) not confirmed by the running system; nothing was "
        "changed:"
    )
    assert routes.startswith(
        "  migration_plans/catalog.yaml: routes: 'catalog-products, catalog-categories': the "
        f"proxy's route table could not be read at {admin} ("
    )
    assert routes.endswith("): start the proxy, or pass --admin")
    assert nodes == (
        "  migration_plans/catalog.yaml: nodes: 'monolith, catalog': set STRANGLER_SYNC_SECRET "
        "to check the nodes' sync names (their status reads are signed with it)"
    )
