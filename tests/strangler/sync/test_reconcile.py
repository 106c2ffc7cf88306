"""Reconcile against a real receiver: differences found at row level, labelled, repaired."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from strangler.sync.errors import NotSent
from strangler.sync.reconcile import ReconcileReport, reconcile_table
from strangler.sync.relay import relay_stream
from strangler.sync.runs import ReconcileRun
from tests.strangler.sync.conftest import Node, is_postgres
from tests.strangler.sync.ops_fixtures import (
    alpha_widgets,
    beta_versions,
    in_step,
    ops_beta,
    ops_beta_server,
    relay_until,
    run_tables,
    seed_widgets,
    widgets_table,
    without_capture_on,
)
from tests.sync_project.widgets.models import Widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (in_step, ops_beta, ops_beta_server, run_tables)


def _by_pk(report: ReconcileReport) -> dict[str, tuple[str, str]]:
    return {d.pk: (d.kind, d.label) for d in report.differences}


def _plant_on_beta(beta: Node) -> None:
    """A changed column, a missing row, an extra row and a diverged version, all on beta."""
    beta.db.execute("UPDATE widgets_widget SET name = 'changed on beta' WHERE id = 10")
    beta.db.execute("DELETE FROM widgets_widget WHERE id = 1500")
    beta.db.execute(
        "INSERT INTO widgets_widget (id, sku, name, price, updated_at) "
        "VALUES (5000, 'EXTRA', 'only on beta', 1, CURRENT_TIMESTAMP)"
    )
    beta.db.execute(
        "UPDATE strangler_sync_row SET version = 9 "
        "WHERE table_name = 'widgets_widget' AND pk = '2999'"
    )


def test_identical_tables_have_no_differences(in_step: Node) -> None:
    report = reconcile_table(widgets_table(), peer="beta")

    assert report.differences == ()
    assert (report.rows_source, report.rows_peer, report.state) == (3000, 3000, "clean")
    assert report.rows_fetched == 0  # nothing was compared row by row
    assert report.algorithm == ("pg" if is_postgres() else "md5")  # the cheapest both compute


def test_identical_tables_have_no_differences_at_the_rows_level_either(in_step: Node) -> None:
    report = reconcile_table(widgets_table(), peer="beta", level="rows")

    assert report.differences == ()


def test_planted_differences_are_found_at_row_level_and_labelled_diverged(in_step: Node) -> None:
    _plant_on_beta(in_step)

    report = reconcile_table(widgets_table(), peer="beta")

    assert _by_pk(report) == {
        "10": ("content", "diverged"),
        "1500": ("missing", "diverged"),
        "2999": ("version", "diverged"),
        "5000": ("extra", "diverged"),
    }
    changed = next(d for d in report.differences if d.pk == "10")
    assert changed.columns == ("name",)
    assert (changed.source_version, changed.peer_version) == (0, 1)
    assert report.rows_fetched < 3000  # bisected, not compared row by row


def test_a_write_that_bypassed_capture_is_found_by_the_rows_level_only(in_step: Node) -> None:
    without_capture_on(in_step, "UPDATE widgets_widget SET price = 1.5 WHERE id = 77")

    keys = reconcile_table(widgets_table(), peer="beta", level="keys")
    rows = reconcile_table(widgets_table(), peer="beta", level="rows")

    assert keys.differences == ()
    assert _by_pk(rows) == {"77": ("content", "diverged")}
    assert rows.differences[0].columns == ("price",)


def test_a_change_not_yet_relayed_is_in_flight(in_step: Node) -> None:
    Widget.objects.filter(pk=42).update(name="renamed on alpha")

    report = reconcile_table(widgets_table(), peer="beta")

    assert _by_pk(report) == {"42": ("content", "in_flight")}


def test_a_row_in_flight_converges_once_the_relay_delivers_it(in_step: Node) -> None:
    Widget.objects.filter(pk=42).update(name="renamed on alpha")

    def relay_at_the_second_look(message: str) -> None:
        if "second look" in message:
            relay_until(lambda: in_step.db.widgets()[42][1] == "renamed on alpha", what="42")

    report = reconcile_table(
        widgets_table(), peer="beta", settle=10, progress=relay_at_the_second_look
    )

    [difference] = report.differences
    assert (difference.first_label, difference.label) == ("in_flight", "converged")
    assert report.state == "clean"


def test_repair_resends_diverged_rows_and_a_second_reconcile_is_clean(in_step: Node) -> None:
    _plant_on_beta(in_step)

    repaired = reconcile_table(widgets_table(), peer="beta", repair=True)
    again = reconcile_table(widgets_table(), peer="beta")

    assert repaired.repaired == 4
    assert repaired.state == "repaired"
    assert again.differences == ()
    assert in_step.db.widgets() == alpha_widgets()
    versions = beta_versions(in_step)
    assert versions[10] == (2, False)  # above beta's 1 and alpha's 0
    assert versions[2999] == (10, False)  # above beta's 9
    assert versions[5000] == (2, True)  # the extra row deleted, its tombstone above beta's 1


def test_a_repaired_row_still_takes_later_writes_from_the_source(in_step: Node) -> None:
    _plant_on_beta(in_step)
    reconcile_table(widgets_table(), peer="beta", repair=True)

    Widget.objects.filter(pk=2999).update(price=Decimal("1.00"))
    relay_until(lambda: in_step.db.widgets()[2999][2] == "1.00", what="the write to 2999")

    assert beta_versions(in_step)[2999] == (11, False)


def test_the_run_is_recorded_with_its_report(in_step: Node) -> None:
    _plant_on_beta(in_step)

    report = reconcile_table(widgets_table(), peer="beta")

    run = ReconcileRun.objects.get(pk=report.run_id)
    assert (run.state, run.diverged, run.in_flight, run.converged) == ("diverged", 4, 0, 0)
    assert run.finished_at is not None
    document = json.loads(json.dumps(run.report))
    assert document["labels"] == {"diverged": 4, "in_flight": 0, "converged": 0}
    assert {d["pk"] for d in document["differences"]} == {"10", "1500", "2999", "5000"}
    assert document["rows"] == {"source": 3000, "peer": 3000}


def test_a_peer_that_never_received_the_table_shows_every_row_missing(ops_beta: Node) -> None:
    seed_widgets(1200)

    report = reconcile_table(widgets_table(), peer="beta", repair=True)
    again = reconcile_table(widgets_table(), peer="beta")

    assert report.as_json()["labels"]["diverged"] == 1200
    assert {d.kind for d in report.differences} == {"missing"}
    assert again.differences == ()
    assert ops_beta.db.widgets() == alpha_widgets()


def test_a_relay_after_the_repair_sends_nothing_that_undoes_it(in_step: Node) -> None:
    _plant_on_beta(in_step)
    reconcile_table(widgets_table(), peer="beta", repair=True)

    relay_stream("beta")

    assert reconcile_table(widgets_table(), peer="beta").differences == ()


def test_preferring_a_peer_whose_copy_cannot_come_here_is_refused(
    ops_beta: Node, settings: Any
) -> None:
    config = dict(settings.STRANGLER_SYNC)
    config["inbound"] = [e for e in config["inbound"] if e["model"] != "widgets.Widget"]
    settings.STRANGLER_SYNC = config

    with pytest.raises(NotSent, match=r"widgets\.Widget does not come from beta here"):
        reconcile_table(widgets_table(), peer="beta", repair=True, prefer="peer")
