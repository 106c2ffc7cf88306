"""The live actions call each node by the name the other parts know it by.

A node's ``manage`` command line is a script that records its arguments, so the sync
commands a step runs are read back as the node received them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import requests

from strangler.plans.actions import LiveActions
from strangler.plans.schema import load_plan

RECORDER = """\
import json, pathlib, sys
with pathlib.Path(sys.argv[1]).open("a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[2:]) + "\\n")
print(json.dumps({"reports": []}))
"""


def _actions(tmp_path: Path) -> tuple[LiveActions, Path]:
    script, log = tmp_path / "manage.py", tmp_path / "calls.jsonl"
    script.write_text(RECORDER, encoding="utf-8")
    manage = f"{sys.executable} {script} {log}"
    path = tmp_path / "demo.yaml"
    path.write_text(
        f"""
name: demo
routes: [products]
service: catalog
models: [catalog.Product]
nodes:
  monolith: {{url: "http://127.0.0.1:1", manage: "{manage} monolith", peer: legacy-sync}}
  catalog: {{url: "http://127.0.0.1:1", manage: "{manage} catalog", peer: catalog-sync}}
steps:
  - kind: backfill
""",
        encoding="utf-8",
    )
    return LiveActions(
        load_plan(path), admin_url="http://127.0.0.1:1", session=requests.Session()
    ), log


def _calls(log: Path) -> list[str]:
    return [" ".join(json.loads(line)) for line in log.read_text(encoding="utf-8").splitlines()]


def test_streams_and_backfills_name_the_receiver_by_its_sync_peer_name(tmp_path):
    actions, log = _actions(tmp_path)

    actions.set_stream("forward", enabled=True)
    actions.backfill()
    actions.set_stream("reverse", enabled=False)

    assert _calls(log) == [
        "monolith sync_stream catalog-sync --enable",
        "monolith sync_backfill --to catalog-sync",
        "catalog sync_stream legacy-sync --disable",
    ]


def test_a_reconcile_prefers_the_sender_by_its_sync_peer_name(tmp_path):
    actions, log = _actions(tmp_path)

    assert actions.reconcile("reverse") == 0

    assert _calls(log) == [
        "catalog sync_reconcile --with legacy-sync --full --json --settle 15.0 --repair "
        "--prefer catalog-sync"
    ]
