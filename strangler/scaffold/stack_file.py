"""A team's own ``stack.yaml`` for ``strangler up``, written or extended by the scaffolds.

``strangler init`` puts the monolith's processes (web, Celery worker and beat) and the proxy
in it; ``strangler extract`` adds a service's. Nothing a team wrote is changed: an entry
that is already there (an ``env`` default, a setup step of the same name, a process, a URL
label) is kept as it is and reported, so running a scaffold twice changes nothing. The
file's comments and layout survive (round-trip YAML), and the result is validated as
``strangler up`` will load it before it replaces the file, so a scaffold never leaves a
stack file that ``up`` refuses.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from strangler.stack import StackError, load_stack
from strangler.yaml_layout import round_trip_yaml, set_keeping_layout

__all__ = ["StackAddition", "StackChanges", "add_to_stack"]

_HEADER = (
    "# What `strangler up` prepares and runs on one machine (written by the toolkit's\n"
    "# scaffolds; yours to edit). Every variable under env is a default: one set in the\n"
    "# environment wins.\n"
)


@dataclass(frozen=True)
class StackAddition:
    """What one scaffold wants in the stack file."""

    env: Mapping[str, str] = field(default_factory=dict)
    setup: Sequence[tuple[str, str]] = ()  # (name, run)
    processes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)


@dataclass
class StackChanges:
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added)


def add_to_stack(path: Path, addition: StackAddition, *, dry_run: bool = False) -> StackChanges:
    """Add what ``addition`` names and ``path`` lacks; raises :class:`StackError` naming the
    file when it cannot be read or the result would not load."""
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    yaml = round_trip_yaml(text)
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        raise StackError(f"{path}: not valid YAML: {exc}") from exc
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise StackError(f"{path}: expected a mapping with a 'processes' entry.")
    changes = StackChanges()
    _merge_mapping(document, "env", addition.env, changes, what="env default")
    steps = _block(document, "setup", CommentedSeq)
    names = {step.get("name") for step in steps if isinstance(step, Mapping)}
    for name, run in addition.setup:
        if name in names:
            changes.kept.append(f"setup step {name!r}")
        else:
            steps.append(CommentedMap([("name", name), ("run", run)]))
            changes.added.append(f"setup step {name!r}")
    processes = {name: _mapping(spec) for name, spec in addition.processes.items()}
    _merge_mapping(document, "processes", processes, changes, what="process")
    _merge_mapping(document, "urls", addition.urls, changes, what="URL")
    if not document["setup"]:
        del document["setup"]
    out = io.StringIO()
    yaml.dump(document, out)
    new_text = out.getvalue()
    if not text.strip() or text == _HEADER:
        new_text = _HEADER + new_text
    _check(path, new_text)
    if changes.changed and not dry_run:
        _replace(path, new_text)
    return changes


def _block(document: CommentedMap, key: str, kind: type[Any]) -> Any:
    if key not in document or document[key] is None:
        set_keeping_layout(document, key, kind())
    value = document[key]
    if not isinstance(value, kind):
        raise StackError(f"{key}: expected a {'list' if kind is CommentedSeq else 'mapping'}")
    return value


def _merge_mapping(
    document: CommentedMap,
    key: str,
    wanted: Mapping[str, Any],
    changes: StackChanges,
    *,
    what: str,
) -> None:
    if not wanted:
        return
    block = _block(document, key, CommentedMap)
    for name, value in wanted.items():
        if name in block:
            changes.kept.append(f"{what} {name!r}")
        else:
            set_keeping_layout(block, name, value)
            changes.added.append(f"{what} {name!r}")


def _mapping(spec: Mapping[str, Any]) -> CommentedMap:
    result = CommentedMap()
    for key, value in spec.items():
        result[key] = _mapping(value) if isinstance(value, Mapping) else value
    if "env" in result and isinstance(result["env"], CommentedMap):
        result["env"].fa.set_flow_style()
    return result


def _check(path: Path, text: str) -> None:
    """Load ``text`` as ``strangler up`` will, with every variable it names defined (their
    values are the team's; only the file's shape is checked here)."""
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch, path.name)
        candidate.write_text(text, encoding="utf-8")
        try:
            load_stack(candidate, environ=_every_variable(text))
        except StackError as exc:
            raise StackError(str(exc).replace(str(candidate), str(path))) from exc


def _every_variable(text: str) -> dict[str, str]:
    """Each ``$NAME``/``${NAME}`` of ``text`` defined (as a port number, so that a
    ``port: ${NAME}`` entry checks too)."""
    return dict.fromkeys(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text), "1")


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` at once: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
