"""``strangler sync status|backfill|reconcile``: the node's commands as child processes."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest
from django.utils import timezone

from strangler.cli import CommandError
from strangler.cli import sync as cli_sync
from strangler.sync.models import Stream
from tests.monolith.processes import PYTHON, free_port
from tests.strangler.sync.conftest import Node, alpha_database_url
from tests.strangler.sync.ops_fixtures import (
    alpha_widgets,
    ops_beta,
    ops_beta_server,
    run_tables,
    seed_widgets,
)

SETTINGS = "tests.sync_project.settings"

# Imported for pytest to find them here: ops_fixtures says why they are not in conftest.
FIXTURES = (ops_beta, ops_beta_server, run_tables)


def strangler(capfd: Any, *argv: str) -> tuple[int, str, str]:
    """Run ``strangler ARGV`` as ``strangler.cli.main`` does, with the sync group registered."""
    parser = argparse.ArgumentParser(prog="strangler")
    groups = parser.add_subparsers(dest="group", required=True)
    cli_sync.register(groups)
    args = parser.parse_args(argv)
    try:
        status = args.command(args)
    except CommandError as exc:
        print(f"strangler: {exc.message}", file=sys.stderr)
        status = int(exc.exit_code)
    out, err = capfd.readouterr()
    return status, out, err


@pytest.fixture
def as_alpha(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    """Child processes act as alpha on this test's database, with beta at ``peer_url``."""

    def point(peer_url: str = "http://127.0.0.1:9") -> None:
        monkeypatch.setenv("SYNC_NODE", "alpha")
        monkeypatch.setenv("DATABASE_URL", alpha_database_url())
        monkeypatch.setenv("SYNC_PEER_URL", peer_url)
        monkeypatch.setenv("SYNC_RUN_ID", settings.RUN_ID)
        monkeypatch.setenv("STRANGLER_SYNC_SECRET", settings.STRANGLER_SYNC["secret"])

    point()
    return point


def test_the_sync_commands_import_no_django() -> None:
    probe = "import sys, strangler.cli, strangler.cli.sync; print('django' in sys.modules)"

    done = subprocess.run(
        [PYTHON, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )

    assert done.stdout.strip() == "False"


def test_status_without_settings_cannot_run(capfd: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)

    status, _, err = strangler(capfd, "sync", "status")

    assert status == 2
    assert "name the node's Django settings with --settings or $DJANGO_SETTINGS_MODULE" in err


@pytest.mark.django_db(transaction=True)
def test_status_json_describes_the_node_and_exits_0_when_healthy(capfd: Any, as_alpha: Any) -> None:
    status, out, _ = strangler(capfd, "sync", "status", "--json", "--settings", SETTINGS)

    document = json.loads(out)
    assert status == 0
    assert (document["node"], document["healthy"]) == ("alpha", True)
    assert [s["peer"] for s in document["streams"]] == ["beta"]


@pytest.mark.django_db(transaction=True)
def test_status_exits_1_and_names_the_problem_when_a_stream_is_stuck(
    capfd: Any, as_alpha: Any
) -> None:
    Stream.objects.create(peer="beta", acked_heartbeat_at=timezone.now() - dt.timedelta(hours=1))

    status, out, err = strangler(capfd, "sync", "status", "--settings", SETTINGS)

    assert status == 1
    assert out.startswith("node alpha: NOT healthy")
    assert "  - stream to beta is stuck: lag 36" in out
    assert "the sync needs attention" in err


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reconcile_exits_1_on_divergence_and_0_once_repaired(
    capfd: Any, as_alpha: Any, ops_beta: Node
) -> None:
    as_alpha(ops_beta.url)
    seed_widgets(30)
    command = ("sync", "reconcile", "widgets.Widget", "--settings", SETTINGS)

    found = strangler(capfd, *command)
    repaired = strangler(capfd, *command, "--repair")
    clean = strangler(capfd, *command, "--json")

    assert found[0] == 1
    assert "widgets_widget <-> beta: diverged; 30 rows here, 0 there; diverged 30" in found[1]
    assert "  diverged  pk 1: missing, v0 here, v0 there" in found[1]
    assert "30 diverged row(s) remain: run again with --repair" in found[2]
    assert repaired[0] == 0
    assert "repaired 30" in repaired[1]
    assert clean[0] == 0
    [report] = json.loads(clean[1])["reports"]
    assert report["labels"] == {"diverged": 0, "in_flight": 0, "converged": 0}
    assert ops_beta.db.widgets() == alpha_widgets()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_backfill_copies_and_exits_0(capfd: Any, as_alpha: Any, ops_beta: Node) -> None:
    as_alpha(ops_beta.url)
    seed_widgets(25)

    status, out, _ = strangler(
        capfd, "sync", "backfill", "widgets.Widget", "--settings", SETTINGS, "--batch-size", "10"
    )

    assert status == 0
    assert out.splitlines()[-1].startswith("widgets_widget -> beta: done, 25 rows")
    assert ops_beta.db.widgets() == alpha_widgets()


@pytest.mark.django_db(transaction=True)
def test_backfill_to_an_unreachable_peer_exits_2_and_keeps_its_progress(
    capfd: Any, as_alpha: Any
) -> None:
    as_alpha(f"http://127.0.0.1:{free_port()}")
    seed_widgets(5)

    status, _, err = strangler(capfd, "sync", "backfill", "widgets.Widget", "--settings", SETTINGS)

    assert status == 2
    assert "(progress is kept: run again to resume)" in err


@pytest.mark.django_db(transaction=True)
def test_backfill_of_a_model_that_is_not_registered_exits_1(capfd: Any, as_alpha: Any) -> None:
    status, _, err = strangler(
        capfd, "sync", "backfill", "contenttypes.ContentType", "--settings", SETTINGS
    )

    assert status == 1
    assert "contenttypes.ContentType is not registered in outbound to beta" in err


@pytest.mark.django_db(transaction=True)
def test_reconcile_that_cannot_reach_the_peer_answers_json_and_exits_2(
    capfd: Any, as_alpha: Any
) -> None:
    as_alpha(f"http://127.0.0.1:{free_port()}")

    status, out, err = strangler(
        capfd, "sync", "reconcile", "widgets.Voucher", "--settings", SETTINGS, "--json"
    )

    assert status == 2
    document = json.loads(out)
    assert document["reports"] == []
    [error] = document["errors"]
    assert (error["table"], error["code"]) == ("widgets_voucher", "receiver_unreachable")
    assert "widgets_voucher: " in err


@pytest.mark.django_db(transaction=True)
def test_reconcile_refuses_to_prefer_a_node_that_is_neither_side(capfd: Any, as_alpha: Any) -> None:
    status, _, err = strangler(
        capfd, "sync", "reconcile", "widgets.Widget", "--settings", SETTINGS, "--repair",
        "--prefer", "gamma",
    )  # fmt: skip

    assert status == 1
    assert "--prefer gamma: name this node (alpha) or the peer (beta)" in err


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_reconcile_repair_preferring_the_peer_keeps_the_peers_copy(
    capfd: Any, as_alpha: Any, ops_beta: Node
) -> None:
    as_alpha(ops_beta.url)
    seed_widgets(3)
    command = ("sync", "reconcile", "widgets.Widget", "--settings", SETTINGS, "--full")

    repaired = strangler(capfd, *command, "--repair", "--prefer", "beta")
    clean = strangler(capfd, *command)

    assert repaired[0] == 0, repaired[2]
    assert "diverged 3, in flight 0, converged 0, repaired 3 from beta" in repaired[1]
    assert clean[0] == 0
    assert alpha_widgets() == ops_beta.db.widgets() == {}  # beta has none: neither has now
