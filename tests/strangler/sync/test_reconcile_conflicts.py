"""Equal-version conflicts (a row written on both sides at the same version) and the plan's
reconcile, which settles them with the write owner's copy, against a real receiver."""

from __future__ import annotations

import pytest
import requests

from strangler.plans.actions import LiveActions, StepFailed
from strangler.plans.schema import Plan
from strangler.sync.models import RowVersion
from strangler.sync.reconcile import reconcile_table
from strangler.sync.relay import relay_stream
from strangler.sync.runs import ReconcileRun
from tests.monolith.processes import PYTHON, REPO, free_port, wait_until
from tests.strangler.sync.conftest import Node, alpha_database_url, node_env
from tests.strangler.sync.ops_fixtures import (
    alpha_widgets,
    beta_versions,
    in_step,
    ops_beta,
    ops_beta_server,
    run_tables,
    widgets_table,
)
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (in_step, ops_beta, ops_beta_server, run_tables)


def _equal_version_conflict(beta: Node, pk: int = 7) -> None:
    """Row ``pk`` written once on each node: version 1 on both, different names.

    Alpha's change reaches beta and is stale there (equal versions): neither side will ever
    apply the other's copy, as with a canary write on the service and a monolith write.
    """
    beta.db.execute(f"UPDATE widgets_widget SET name = 'written on beta' WHERE id = {pk}")
    Widget.objects.filter(pk=pk).update(name="written on alpha")
    wait_until(
        lambda: relay_stream("beta").stale == 1, deadline=30, what="alpha's change to be stale"
    )
    assert beta_versions(beta)[pk] == (1, False)
    assert beta.db.widgets()[pk][1] == "written on beta"


def test_an_equal_version_conflict_is_missed_by_keys_and_diverged_at_the_rows_level(
    in_step: Node,
) -> None:
    _equal_version_conflict(in_step)

    keys = reconcile_table(widgets_table(), peer="beta", level="keys")
    rows = reconcile_table(widgets_table(), peer="beta", level="rows")

    assert keys.differences == ()
    [conflict] = rows.differences
    assert (conflict.pk, conflict.kind, conflict.label) == ("7", "content", "diverged")
    assert (conflict.source_version, conflict.peer_version, conflict.columns) == (1, 1, ("name",))


def test_a_repair_preferring_this_node_settles_an_equal_version_conflict_its_way(
    in_step: Node,
) -> None:
    _equal_version_conflict(in_step)

    report = reconcile_table(widgets_table(), peer="beta", level="rows", repair=True)
    again = reconcile_table(widgets_table(), peer="beta", level="rows")

    assert (report.repaired, report.preferred, report.state) == (1, "alpha", "repaired")
    assert in_step.db.widgets()[7][1] == "written on alpha"
    assert beta_versions(in_step)[7] == (2, False)
    assert again.differences == ()


def test_a_repair_preferring_the_peer_takes_the_peers_copy_here(in_step: Node) -> None:
    _equal_version_conflict(in_step)

    report = reconcile_table(widgets_table(), peer="beta", level="rows", repair=True, prefer="peer")
    again = reconcile_table(widgets_table(), peer="beta", level="rows")

    assert (report.repaired, report.preferred, report.state) == (1, "beta", "repaired")
    assert report.differences[0].repaired_version == 2
    assert Widget.objects.get(pk=7).name == "written on beta"
    assert in_step.db.widgets() == alpha_widgets()
    # Both sides at a version above either's; the peer's next write (3) still wins here.
    assert beta_versions(in_step)[7] == (2, False)
    assert RowVersion.objects.get(table_name="widgets_widget", row_pk="7").version == 2
    assert again.differences == ()


def test_a_repair_preferring_the_peer_resurrects_nothing_the_peer_deleted(in_step: Node) -> None:
    in_step.db.execute("DELETE FROM widgets_widget WHERE id = 12")

    report = reconcile_table(widgets_table(), peer="beta", level="rows", repair=True, prefer="peer")

    assert [(d.pk, d.kind) for d in report.differences] == [("12", "missing")]
    assert not Widget.objects.filter(pk=12).exists()
    assert in_step.db.widgets() == alpha_widgets()


@pytest.mark.postgres
def test_postgresqls_own_row_hash_finds_an_equal_version_conflict(in_step: Node) -> None:
    _equal_version_conflict(in_step, pk=2500)

    report = reconcile_table(widgets_table(), peer="beta", level="rows")

    assert report.algorithm == "pg"
    assert [(d.pk, d.kind, d.label) for d in report.differences] == [
        ("2500", "content", "diverged")
    ]
    assert report.rows_fetched < 3000  # found by the checksums, not by reading every row


def _plan_actions(beta: Node, *, peer_url: str | None = None) -> LiveActions:
    """The plan's live actions over alpha (legacy) and beta (service), as ``plan next`` runs
    them: each node's command line, here ``python -m django`` acting as alpha, which reaches
    beta at ``peer_url`` (beta's own by default)."""
    alpha = node_env("alpha", database_url=alpha_database_url(), peer_url=peer_url or beta.url)
    plan = Plan.model_validate(
        {
            "name": "widgets",
            "routes": ["widgets"],
            "legacy": "alpha",
            "service": "beta",
            "models": ["widgets.Widget"],
            "nodes": {
                "alpha": {"url": "http://127.0.0.1:9", "manage": f"{PYTHON} -m django"},
                "beta": {"url": beta.url, "manage": "false"},  # beta's commands are not run
            },
            "steps": [{"kind": "verify"}],
        }
    )
    return LiveActions(
        plan,
        admin_url="http://127.0.0.1:9",
        session=requests.Session(),
        env={**alpha, "PYTHONPATH": str(REPO)},
    )


def test_the_plans_reconcile_settles_an_equal_version_conflict_with_the_owners_copy(
    in_step: Node,
) -> None:
    _equal_version_conflict(in_step)
    actions = _plan_actions(in_step)

    left = actions.reconcile("forward")

    assert left == 0
    assert in_step.db.widgets() == alpha_widgets()
    assert "1 row(s) differed: repaired with alpha's copy" in actions.log
    runs = ReconcileRun.objects.filter(table_name="widgets_widget").order_by("started_at")
    repair, verify = runs[:2]
    assert (repair.level, repair.state, repair.diverged, repair.repaired) == (
        "rows", "repaired", 1, 1
    )  # fmt: skip
    assert (verify.level, verify.state, verify.diverged) == ("rows", "clean", 0)


def test_the_plans_reconcile_fails_with_the_commands_reason_when_no_report_is_made(
    ops_beta: Node,
) -> None:
    actions = _plan_actions(ops_beta, peer_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(StepFailed, match=r"(?s)exited with 2: .*Connection refused"):
        actions.reconcile("forward")
