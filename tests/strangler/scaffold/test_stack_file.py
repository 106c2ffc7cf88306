"""The scaffolds' stack file: created when missing, extended without touching what is there,
and always loadable by `strangler up`."""

from __future__ import annotations

from pathlib import Path

import pytest

from strangler.scaffold.stack_file import StackAddition, add_to_stack
from strangler.stack import StackError, load_stack

MONOLITH = StackAddition(
    env={"MONOLITH_PORT": "8100"},
    setup=[("migrate the monolith", "python manage.py migrate --noinput")],
    processes={
        "monolith": {
            "run": "gunicorn library.wsgi --bind 127.0.0.1:$MONOLITH_PORT",
            "port": "${MONOLITH_PORT}",
            "ready": "http://127.0.0.1:${MONOLITH_PORT}/readyz",
            "env": {"STRANGLER_SERVICE": "monolith"},
        }
    },
    urls={"Monolith": "http://127.0.0.1:${MONOLITH_PORT}/"},
)
SERVICE = StackAddition(
    env={"SHELF_PORT": "8200"},
    processes={"shelf": {"run": "gunicorn shelf.wsgi", "port": "${SHELF_PORT}"}},
)


def test_a_missing_file_is_created_and_loads_as_strangler_up_loads_it(tmp_path: Path):
    path = tmp_path / "stack.yaml"

    changes = add_to_stack(path, MONOLITH)

    stack = load_stack(path, environ={})
    assert [p.name for p in stack.processes] == ["monolith"]
    assert stack.processes[0].port == 8100
    assert stack.processes[0].env == {"STRANGLER_SERVICE": "monolith"}
    assert [s.name for s in stack.setup] == ["migrate the monolith"]
    assert stack.urls == {"Monolith": "http://127.0.0.1:8100/"}
    assert "process 'monolith'" in changes.added
    assert path.read_text().startswith("# What `strangler up`")


def test_a_second_run_changes_nothing(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    add_to_stack(path, MONOLITH)
    before = path.read_bytes()

    changes = add_to_stack(path, MONOLITH)

    assert not changes.changed
    assert path.read_bytes() == before
    assert "process 'monolith'" in changes.kept


def test_a_service_is_added_beside_what_the_team_wrote_and_their_comments_stay(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text(
        "# our stack\n"
        "env:\n"
        "    MONOLITH_PORT: '9100'   # ours\n"
        "processes:\n"
        "    monolith:\n"
        "        run: ./run-monolith   # our own script\n"
        "        port: ${MONOLITH_PORT}\n"
    )

    changes = add_to_stack(path, SERVICE)
    add_to_stack(path, MONOLITH)

    text = path.read_text()
    for comment in ("# our stack", "# ours", "# our own script"):
        assert comment in text
    stack = load_stack(path, environ={})
    runs = {p.name: p.run for p in stack.processes}
    assert runs["monolith"] == "./run-monolith"  # theirs, not the scaffold's
    assert runs["shelf"] == "gunicorn shelf.wsgi"
    assert stack.env["MONOLITH_PORT"] == "9100"
    assert changes.added == ["env default 'SHELF_PORT'", "process 'shelf'"]


def test_dry_run_reports_without_writing(tmp_path: Path):
    path = tmp_path / "stack.yaml"

    changes = add_to_stack(path, MONOLITH, dry_run=True)

    assert changes.changed
    assert not path.exists()


def test_a_result_up_would_refuse_is_never_written(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    add_to_stack(path, MONOLITH)
    before = path.read_bytes()
    bad = StackAddition(processes={"Not A Name": {"run": "true"}})

    with pytest.raises(StackError, match=r"stack\.yaml: processes: .*process name 'Not A Name'"):
        add_to_stack(path, bad)

    assert path.read_bytes() == before


def test_a_file_that_is_not_a_mapping_is_refused_naming_it(tmp_path: Path):
    path = tmp_path / "stack.yaml"
    path.write_text("- just\n- a list\n")

    with pytest.raises(StackError, match=r"stack\.yaml: expected a mapping"):
        add_to_stack(path, MONOLITH)
