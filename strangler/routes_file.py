"""Editing the route table file in place: one route's settings, the rest of the file untouched.

Shared by the proxy's admin API and ``strangler routes set`` so both change the file the same
way. It knows only the file's shape (a ``routes`` list of mappings with a ``name``), not the
schema: the caller validates the edited text (the proxy with its own schema, the CLI through
``python -m strangler.proxy.check``) before :func:`write_atomically` or :func:`commit` puts it
in place.

Comments, quoting, key order and indentation survive (ruamel.yaml round-trip mode).

RoutesFileError             table_unreadable   the file is not a YAML mapping with a routes list
├── RouteNotFound           route_not_found
├── BadChange               bad_change         an unknown field or a value of the wrong type
├── RampRefused             canary_ramp_down   a canary lowered without ``force``
└── TableBusy               table_busy         another writer held the file lock too long
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from strangler.yaml_layout import round_trip_yaml, set_keeping_layout

__all__ = [
    "BadChange",
    "RampRefused",
    "RouteChange",
    "RouteNotFound",
    "RoutesFileError",
    "TableBusy",
    "commit",
    "edit_route",
    "locked",
    "stage",
    "write_atomically",
]

# A writer holds the lock for one read, edit, validation and rename: milliseconds. Ten
# seconds means the holder is stuck, and the caller should say so rather than hang.
LOCK_TIMEOUT_SECONDS = 10.0
_LOCK_POLL_SECONDS = 0.05


class RoutesFileError(Exception):
    code: ClassVar[str] = "table_unreadable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RouteNotFound(RoutesFileError):
    code = "route_not_found"


class BadChange(RoutesFileError):
    code = "bad_change"


class RampRefused(RoutesFileError):
    code = "canary_ramp_down"


class TableBusy(RoutesFileError):
    code = "table_busy"


@dataclass(frozen=True)
class RouteChange:
    """The settings of one route that may change while it serves; ``None``: leave as is."""

    owner: str | None = None
    mode: str | None = None
    canary_percent: float | None = None
    fallback: bool | None = None
    shadow_sample_rate: float | None = None
    write_owner: str | None = None
    unsynced_writes_accepted: bool | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> RouteChange:
        """From a JSON object; types are checked here, values (ranges, modes) by the schema."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadChange(
                f"unknown field(s) {', '.join(unknown)}; "
                f"a change may set {', '.join(sorted(known))}"
            )
        values: dict[str, object] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key in ("owner", "mode", "write_owner"):
                ok = isinstance(value, str)
                expected = "a string"
            elif key in ("fallback", "unsynced_writes_accepted"):
                ok = isinstance(value, bool)
                expected = "true or false"
            else:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                expected = "a number"
            if not ok:
                raise BadChange(f"field {key!r}: expected {expected}, got {value!r}")
            values[key] = value
        return cls(**values)  # type: ignore[arg-type]

    def items(self) -> list[tuple[str, object]]:
        return [
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) is not None
        ]


def _tidy_number(value: float) -> float | int:
    # 25.0 from JSON is written as 25, as a person would.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _find_route(document: object, name: str) -> CommentedMap:
    if not isinstance(document, CommentedMap) or not isinstance(
        document.get("routes"), CommentedSeq
    ):
        raise RoutesFileError("the file is not a mapping with a 'routes' list")
    matches = [
        r for r in document["routes"] if isinstance(r, CommentedMap) and r.get("name") == name
    ]
    if not matches:
        known = [str(r.get("name")) for r in document["routes"] if isinstance(r, CommentedMap)]
        raise RouteNotFound(f"no route named {name!r} (routes: {', '.join(known) or 'none'})")
    if len(matches) > 1:
        raise RoutesFileError(f"{len(matches)} routes are named {name!r}; names must be unique")
    return matches[0]


def _check_ramp(route: CommentedMap, name: str, change: RouteChange) -> None:
    current_mode = route.get("mode", "monolith")
    current = route.get("canary_percent", 0)
    wanted = change.canary_percent
    if current_mode != "canary" or (change.mode or current_mode) != "canary" or wanted is None:
        return
    if isinstance(current, int | float) and not isinstance(current, bool) and wanted < current:
        raise RampRefused(
            f"route {name!r} is at canary {current:g}%: a canary only ramps up, since lowering "
            f"it moves users already on the service back to the monolith. To roll back set the "
            f"mode to 'shadow' or 'monolith'; to lower it anyway, force it (--force, or "
            f'"force": true in the admin API)'
        )


def edit_route(text: str, name: str, change: RouteChange, *, force: bool = False) -> str:
    """``text`` with route ``name`` changed; unchanged text when the change is a no-op."""
    yaml = round_trip_yaml(text)
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        raise RoutesFileError(f"not valid YAML: {exc}") from exc
    route = _find_route(document, name)
    if not force:
        _check_ramp(route, name, change)
    for key, value in change.items():
        value = _tidy_number(value) if isinstance(value, float) else value
        if key == "shadow_sample_rate":
            shadow = route.get("shadow")
            if isinstance(shadow, CommentedMap):
                set_keeping_layout(shadow, "sample_rate", value)
            else:
                set_keeping_layout(route, "shadow", CommentedMap([("sample_rate", value)]))
        else:
            set_keeping_layout(route, key, value)
    out = io.StringIO()
    yaml.dump(document, out)
    edited = out.getvalue()
    return text if _same_document(text, edited) else edited


def _same_document(before: str, after: str) -> bool:
    # A change to the values already there writes nothing (no file event, no reload).
    return bool(YAML(typ="safe").load(before) == YAML(typ="safe").load(after))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the writers' lock of the table ``path`` (admin workers, the CLI, across processes).

    The lock is an advisory ``flock`` on the file's directory, so no lock file is left
    beside the table; editors that do not take it still replace the file atomically."""
    directory = os.open(path.resolve().parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(directory, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TableBusy(
                        f"{path}: another writer has held the table for "
                        f"{LOCK_TIMEOUT_SECONDS:g} s; try again"
                    ) from None
                time.sleep(_LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(directory)  # closing releases the lock


def stage(path: Path, text: str) -> Path:
    """Write ``text`` durably to a new file beside ``path`` (same file system, so the rename
    in :func:`commit` is atomic) with ``path``'s permissions; the caller commits or deletes it."""
    path = path.resolve()  # through a symlink: the link stays, its target is replaced
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    staged = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        os.chmod(staged, mode)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


def commit(staged: Path, path: Path) -> None:
    """Put the staged file in place: readers see the old table or the new one, never half."""
    path = path.resolve()
    os.replace(staged, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def write_atomically(path: Path, text: str) -> None:
    commit(stage(path, text), path)
