"""``strangler plan next``: every name the plan uses is checked, ``--dry-run`` included, against
a real proxy and two real sync nodes (``tests/strangler/plans/live_system.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from strangler.cli import main
from tests.strangler.plans.live_system import LiveSystem, live_system, plan_text

# Imported for pytest to find it here: live_system says why it is not in conftest.
FIXTURES = (live_system,)

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli(live_system: LiveSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd):
    """Run ``strangler plan ...`` on a plan written from ``plan_text``; (status, out, err)."""
    monkeypatch.setenv("STRANGLER_SYNC_SECRET", live_system.sync_secret)
    monkeypatch.delenv("PROXY_ADMIN_TOKEN", raising=False)

    def run(command: str, *flags: str, **names: str) -> tuple[int, str, str]:
        path = tmp_path / "widgets.yaml"
        path.write_text(plan_text(live_system, **names), encoding="utf-8")
        status = main(["plan", command, str(path), "--admin", live_system.admin_url,
                       "--state-dir", str(tmp_path / "state"), *flags])  # fmt: skip
        out, err = capfd.readouterr()
        return status, out, err

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

    assert (status, out) == (2, "")
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == (
        "strangler: plan widgets: the running system does not know these names; nothing was "
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
    status, out, _ = cli("next", "--dry-run", "--json")

    assert status == 0
    assert json.loads(out)["message"] == "would apply step 'backfill'"
