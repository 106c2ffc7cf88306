"""Reconcile of tables keyed by a UUID, by text and by a big integer, against a real receiver:
the same findings, labels and repairs as for the widgets' integer keys."""

from __future__ import annotations

from typing import Any

import pytest

from strangler.sync import checksums
from strangler.sync.backfill import backfill_table
from strangler.sync.reconcile import ReconcileReport, reconcile_table
from tests.strangler.sync.conftest import Node
from tests.strangler.sync.keyed_tables import KEYED, Keyed
from tests.strangler.sync.ops_fixtures import (
    ops_beta,
    ops_beta_server,
    relay_until,
    run_tables,
    without_capture_on,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (ops_beta, ops_beta_server, run_tables)
ROWS = 2500


@pytest.fixture(params=sorted(KEYED))
def keyed(request: pytest.FixtureRequest) -> Keyed:
    return KEYED[request.param]


@pytest.fixture
def in_step(ops_beta: Node, keyed: Keyed) -> list[Any]:
    """``ROWS`` rows of the keyed table on both nodes, copied by a backfill; their keys."""
    keys = keyed.keys(ROWS + 1)
    keyed.seed(keys[:ROWS])
    backfill_table(keyed.send_table(), peer="beta")
    assert keyed.beta_rows(ops_beta) == keyed.alpha_rows()
    return keys


def _by_pk(report: ReconcileReport) -> dict[str, tuple[str, str]]:
    return {d.pk: (d.kind, d.label) for d in report.differences}


def _plant_on_beta(beta: Node, keyed: Keyed, keys: list[Any]) -> dict[str, str]:
    """A changed column, a missing row, an extra row and a diverged version, all on beta,
    spread over the key order; the kind expected of each wire key."""
    changed, missing, diverged, extra = keys[0], keys[ROWS // 2], keys[ROWS - 1], keys[ROWS]
    table, key = keyed.table, keyed.key_column
    beta.db.execute(
        f"UPDATE {table} SET name = 'changed on beta' WHERE {key} = %s",
        [keyed.db(beta, changed)],
    )
    beta.db.execute(f"DELETE FROM {table} WHERE {key} = %s", [keyed.db(beta, missing)])
    columns = {key: keyed.db(beta, extra), "name": "only on beta", **keyed.extra("x")}
    beta.db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
        list(columns.values()),
    )
    beta.db.execute(
        "UPDATE strangler_sync_row SET version = 9 WHERE table_name = %s AND pk = %s",
        [table, keyed.row_text(beta, diverged)],
    )
    return {
        str(changed): "content",
        str(missing): "missing",
        str(diverged): "version",
        str(extra): "extra",
    }


def test_identical_tables_have_no_differences(in_step: list[Any], keyed: Keyed) -> None:
    report = reconcile_table(keyed.send_table(), peer="beta", level="rows")

    assert report.differences == ()
    assert (report.rows_source, report.rows_peer, report.state) == (ROWS, ROWS, "clean")
    assert report.rows_fetched == 0  # nothing was compared row by row
    assert report.key_order == "native"  # both nodes order the key alike


def test_planted_differences_are_found_by_bisection_and_labelled_diverged(
    in_step: list[Any], keyed: Keyed, ops_beta: Node
) -> None:
    planted = _plant_on_beta(ops_beta, keyed, in_step)

    report = reconcile_table(keyed.send_table(), peer="beta")

    assert _by_pk(report) == {pk: (kind, "diverged") for pk, kind in planted.items()}
    assert report.rows_fetched < ROWS  # bisected, not compared row by row


def test_repair_settles_every_planted_difference_and_a_second_reconcile_is_clean(
    in_step: list[Any], keyed: Keyed, ops_beta: Node
) -> None:
    planted = _plant_on_beta(ops_beta, keyed, in_step)

    repaired = reconcile_table(keyed.send_table(), peer="beta", repair=True)
    again = reconcile_table(keyed.send_table(), peer="beta", level="rows")

    assert (repaired.repaired, repaired.state) == (4, "repaired")
    assert again.differences == ()
    assert keyed.beta_rows(ops_beta) == keyed.alpha_rows()
    versions = keyed.beta_versions(ops_beta)
    [diverged] = [pk for pk, kind in planted.items() if kind == "version"]
    [extra] = [pk for pk, kind in planted.items() if kind == "extra"]
    assert versions[diverged] == (10, False)  # above beta's 9
    assert versions[extra] == (2, True)  # deleted, its tombstone above beta's 1


def test_a_write_that_bypassed_capture_is_found_by_the_rows_level_only(
    in_step: list[Any], keyed: Keyed, ops_beta: Node
) -> None:
    key = in_step[77]
    without_capture_on(
        ops_beta,
        f"UPDATE {keyed.table} SET name = 'behind capture' WHERE {keyed.key_column} = %s",
        [keyed.db(ops_beta, key)],
    )

    keys = reconcile_table(keyed.send_table(), peer="beta", level="keys")
    rows = reconcile_table(keyed.send_table(), peer="beta", level="rows")

    assert keys.differences == ()
    assert _by_pk(rows) == {str(key): ("content", "diverged")}
    assert rows.differences[0].columns == ("name",)


def test_a_change_not_yet_relayed_is_in_flight_then_converges(
    in_step: list[Any], keyed: Keyed, ops_beta: Node
) -> None:
    key = in_step[42]
    keyed.model._base_manager.filter(pk=key).update(name="renamed on alpha")

    before = reconcile_table(keyed.send_table(), peer="beta")
    relay_until(
        lambda: keyed.beta_rows(ops_beta)[str(key)][0] == "renamed on alpha",
        what="the rename to reach beta",
    )
    after = reconcile_table(keyed.send_table(), peer="beta")

    assert _by_pk(before) == {str(key): ("content", "in_flight")}
    assert after.differences == ()


def test_a_repair_preferring_the_peer_takes_the_peers_copy_here(
    in_step: list[Any], keyed: Keyed, ops_beta: Node
) -> None:
    key = in_step[7]
    ops_beta.db.execute(
        f"UPDATE {keyed.table} SET name = 'written on beta' WHERE {keyed.key_column} = %s",
        [keyed.db(ops_beta, key)],
    )

    report = reconcile_table(
        keyed.send_table(), peer="beta", level="rows", repair=True, prefer="peer"
    )
    again = reconcile_table(keyed.send_table(), peer="beta", level="rows")

    assert (report.repaired, report.preferred) == (1, "beta")
    assert keyed.alpha_rows()[str(key)][0] == "written on beta"
    assert keyed.alpha_rows() == keyed.beta_rows(ops_beta)
    assert again.differences == ()


@pytest.mark.parametrize("keyed", ["text"], indirect=True)  # the others order alike anywhere
def test_text_keys_are_compared_in_code_point_order_when_the_sides_orders_differ(
    in_step: list[Any], keyed: Keyed, ops_beta: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if this node's key column had a collation the peer's has not.
    monkeypatch.setattr(checksums, "order_token", lambda shape, connection: "text:other")
    planted = _plant_on_beta(ops_beta, keyed, in_step)

    report = reconcile_table(keyed.send_table(), peer="beta")

    assert report.key_order == "binary"
    assert _by_pk(report) == {pk: (kind, "diverged") for pk, kind in planted.items()}
    assert report.rows_fetched < ROWS
