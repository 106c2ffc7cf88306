"""Every tutorial, executed command by command against the real stack it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tutorials.harness import REPO, matches, parse, session

TUTORIALS = sorted((REPO / "docs" / "tutorials").glob("*.md"))


def test_every_tutorial_has_commands_to_run():
    assert TUTORIALS
    for path in TUTORIALS:
        assert parse(path).commands, path


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_as_written(path: Path, tmp_path: Path):
    tutorial = parse(path)
    with session(tmp_path / "var") as reader:
        for command in tutorial.commands:
            output = reader.run(command)
            if command.background_until:
                end = next(i for i, line in enumerate(output) if command.background_until in line)
                output = output[: end + 1]
            assert matches(command.expected, output), (
                f"{path.name}:{command.line}: `{command.text}` printed:\n"
                + "\n".join(output[-80:])
                + "\n\nbut the tutorial shows:\n"
                + "\n".join(command.expected)
                + "\n\nthe background commands' last lines:\n"
                + reader.background_tail()
            )
