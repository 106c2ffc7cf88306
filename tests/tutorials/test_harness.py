"""The tutorial harness: what a shown output block accepts and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tutorials.harness import Session, matches, parse


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "c"], False),
        (["a"], ["a", "b"], False),
        (["...", "b"], ["x", "y", "b"], True),
        (["a", "...", "c"], ["a", "c"], True),
        (["id: ..."], ["id: 42"], True),
        (["id: ...!"], ["id: 42"], False),
        (["a  "], ["a"], True),
    ],
)
def test_shown_output_matches_with_ellipses(expected, actual, ok):
    assert matches(expected, actual) is ok


def test_a_console_block_is_read_as_commands_with_their_output(tmp_path: Path):
    page = tmp_path / "t.md"
    page.write_text(
        'text\n\n<!-- run: background until="ready" -->\n```console\n$ serve\nready\n```\n\n'
        "```console\n$ echo 1\n1\n$ echo 2\n2\n```\n\n```python\nnot = 'run'\n```\n",
        encoding="utf-8",
    )
    commands = parse(page).commands
    assert [(c.text, c.expected, c.background_until) for c in commands] == [
        ("serve", ["ready"], "ready"),
        ("echo 1", ["1"], None),
        ("echo 2", ["2"], None),
    ]


def test_the_readers_var_paths_are_the_sessions_private_directory(tmp_path: Path):
    reader = Session(tmp_path / "var")
    inside = reader.inwards("cat var/a > var/b; ls /var/log ./var/c my-var/d")
    assert inside == (f"cat {tmp_path}/var/a > {tmp_path}/var/b; ls /var/log ./var/c my-var/d")
    assert reader.outwards(f"wrote {tmp_path}/var/b") == "wrote var/b"


def test_a_stack_that_fell_over_says_which_process_stopped_first_and_its_last_words():
    from tests.tutorials.harness import _first_to_stop

    lines = [
        "07:19:50 catalog         | fine",
        "07:19:53 monolith-worker | json.decoder.JSONDecodeError: Extra data",
        "07:19:54 system          | monolith-worker stopped (rc=1)",
        "07:19:55 system          | proxy stopped (rc=-15)",
    ]
    told = _first_to_stop(lines)
    assert "monolith-worker stopped first" in told
    assert "JSONDecodeError" in told
    assert "fine" not in told
    assert _first_to_stop(lines[-1:]) == ""


def test_cd_and_a_venvs_activation_last_for_the_commands_after_them(tmp_path: Path):
    from tests.tutorials.harness import Command

    reader = Session(tmp_path / "var")
    (tmp_path / "var" / "work" / "team" / "bin").mkdir(parents=True)
    (tmp_path / "var" / "work" / "team" / "bin" / "activate").write_text("# a venv's script\n")

    reader.run(Command(1, "cd var/work", []))
    reader.run(Command(2, ". team/bin/activate", []))
    shown = reader.run(Command(3, 'pwd; echo "$VIRTUAL_ENV"; echo "$PATH" | cut -d: -f1', []))

    assert shown == ["var/work", "var/work/team", "var/work/team/bin"]
    with pytest.raises(AssertionError, match="no directory"):
        reader.run(Command(4, "cd var/nowhere", []))


def test_an_export_keeps_what_bash_computed_for_the_commands_after_it(tmp_path: Path):
    from tests.tutorials.harness import Command

    reader = Session(tmp_path / "var")
    reader.run(Command(1, "export A=$(echo computed) B='two words'", []))
    reader.run(Command(2, "export C=$A-x", []))
    shown = reader.run(Command(3, 'echo "$A|$B|$C"', []))

    assert shown == ["computed|two words|computed-x"]
    with pytest.raises(AssertionError, match="line 4"):
        reader.run(Command(4, "export D=$(exit 3) && false", []))


def test_names_with_one_default_get_one_port(tmp_path: Path):
    reader = Session(tmp_path / "var")

    assert reader.ports["SHELF_PORT"] == reader.ports["CATALOG_PORT"]
    assert len({reader.ports[n] for n in ("PROXY_PORT", "PROXY_ADMIN_PORT", "MONOLITH_PORT")}) == 3
    assert reader.outwards(f"http://127.0.0.1:{reader.ports['SHELF_PORT']}/") == (
        "http://127.0.0.1:8200/"
    )
