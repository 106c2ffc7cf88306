"""Tutorial 5 as a team follows it: the time from an empty virtualenv to the first route in
shadow on the library, the hand edits on the way, and the files copied from this repository.

Runs ``docs/tutorials/5-your-own-monolith.md`` command by command with the tutorials'
harness (a private ``var/``, free ports), from its first command (building the toolkit's
wheel, creating the empty virtualenv) to the one whose output shows ``applied step
'shadow'``: the proxy then compares the service's answers on the first routes. Prints the
seconds of each command that took one or more, then:

- hand edits: commands that write a file of the team's with the shell (``printf``/``echo``/
  ``cat`` redirected into a file, ``sed -i``, ``tee``), which a reader types or pastes;
- files copied from the repository: every file of the team's projects (the monolith and the
  generated service) whose bytes equal a file the repository tracks outside
  ``examples/library`` (the team's own project here), empty and tiny files (under 64 bytes,
  e.g. empty ``__init__.py``) aside; plus ``cp`` commands of repository paths other than the
  team's project.

    .venv/bin/python bench/bench_first_route.py        # about 2 minutes (pip install: ~50 s)

pip's cache makes a second run's install faster: ``--no-cache`` gives the first-day figure.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.tutorials.harness import Command, parse, session  # noqa: E402

TUTORIAL = REPO / "docs" / "tutorials" / "5-your-own-monolith.md"
FIRST_SHADOW = "applied step 'shadow'"
_HAND_EDIT = re.compile(
    r"(?:^|[;&|]\s*)(?:printf|echo|cat)\b[^|]*>>?\s*(?!/dev/null)\S|\bsed\s+-i\b|\btee\b"
)
_COPY = re.compile(r"(?:^|[;&|]\s*)cp\s+(?:-\w+\s+)*(?P<source>\S+)")
_TINY_BYTES = 64


def hand_edits(commands: list[Command]) -> list[Command]:
    return [c for c in commands if _HAND_EDIT.search(c.text)]


def copied_by_command(commands: list[Command]) -> list[str]:
    """Repository paths a ``cp`` takes, other than the team's own project."""
    found = []
    for command in commands:
        for match in _COPY.finditer(command.text):
            source = match["source"]
            if (REPO / source).exists() and not source.startswith("examples/library"):
                found.append(source)
    return found


def repository_digests() -> dict[str, str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    digests = {}
    for name in (n.decode() for n in listed if n):
        path = REPO / name
        if name.startswith("examples/library/") or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) >= _TINY_BYTES:
            digests[hashlib.sha256(data).hexdigest()] = name
    return digests


def copied_files(work: Path) -> list[tuple[str, str]]:
    """(team file, repository file) pairs with the same bytes."""
    digests = repository_digests()
    pairs = []
    for path in sorted(work.rglob("*")):
        if not path.is_file() or {"__pycache__", "var"} & set(path.parts):
            continue
        if path.suffix in (".sqlite3", ".pyc"):
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if len(data) >= _TINY_BYTES and digest in digests:
            pairs.append((path.relative_to(work).as_posix(), digests[digest]))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cache", action="store_true", help="pip without its cache")
    args = parser.parse_args()
    tutorial = parse(TUTORIAL)
    walked: list[Command] = []
    stages: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-first-route-") as scratch:
        var = Path(scratch) / "var"
        if args.no_cache:
            os.environ["PIP_NO_CACHE_DIR"] = "1"
        with session(var) as reader:
            start = time.monotonic()
            commands = iter(tutorial.commands)
            for command in commands:
                began = time.monotonic()
                output = reader.run(command)
                stages.append((command.text, time.monotonic() - began))
                walked.append(command)
                if any(FIRST_SHADOW in line for line in output):
                    break
            else:
                print(f"the tutorial never printed {FIRST_SHADOW!r}", file=sys.stderr)
                return 1
            total = time.monotonic() - start
            copied = copied_files(var / "work")
    print(f"{'seconds':>8}  command")
    for text, seconds in stages:
        if seconds >= 1.0:
            print(f"{seconds:8.1f}  {text[:110]}")
    others = sum(s for _, s in stages if s < 1.0)
    print(f"{others:8.1f}  ({sum(1 for _, s in stages if s < 1.0)} commands under 1 s each)")
    print(f"\nempty virtualenv to the first route in shadow: {total:.0f} s, {len(walked)} commands")
    edits = hand_edits(walked)
    print(f"hand edits: {len(edits)}")
    for command in edits:
        print(f"  - line {command.line}: {command.text[:100]}")
    by_command = copied_by_command(walked)
    print(f"files copied from the repository: {len(copied) + len(by_command)}")
    for team_file, repo_file in copied:
        print(f"  - {team_file} = {repo_file}")
    for source in by_command:
        print(f"  - cp {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
