"""``strangler init``: what a team's Django monolith needs to take part in a migration, found
in its files and added to them, or printed as edits to make by hand.

Nothing here imports Django or the team's project: the files are found by path (the settings
module named in ``manage.py``, its ``ROOT_URLCONF``, the project package) and read as syntax
trees; ``python manage.py check`` runs in a child process after the files are written
(``init_guards``), and a failing check puts every file back as it was. The project changes all
at once or not at all: while one edit must be made by hand, nothing is written, so the project
is never half wired (the sync's URLs would import its models before its app is installed).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path

from strangler.scaffold.init_celery import celery_items
from strangler.scaffold.init_items import Item, Status
from strangler.scaffold.init_settings import settings_items
from strangler.scaffold.init_source import ScaffoldError, SourceFile, apply_edits
from strangler.scaffold.init_urls import urls_items

__all__ = [
    "FileChange",
    "InitPlan",
    "Project",
    "ScaffoldError",
    "locate_project",
    "plan_init",
    "restore",
    "settings_named_by_manage_py",
    "write_changes",
]

SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"


@dataclass(frozen=True)
class Project:
    root: Path
    settings_module: str
    manage_py: Path | None

    @property
    def package(self) -> str:
        """The project package, whose ``celery.py`` makes the Celery app: the settings' own
        package (``mysite`` for ``mysite.settings``), above a ``settings`` package
        (``config`` for ``config.settings.production``)."""
        parts = self.settings_module.split(".")[:-1]
        while len(parts) > 1 and parts[-1] == "settings":
            parts.pop()
        return ".".join(parts) or self.settings_module

    @property
    def name(self) -> str:
        """The project's name: the sync's node name, the Celery app's and its queue's."""
        return self.package.rpartition(".")[2]


@dataclass(frozen=True)
class FileChange:
    path: Path
    relative: str
    before: str | None  # None: the file is created
    after: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                _lines(self.before or ""),
                _lines(self.after),
                fromfile="/dev/null" if self.before is None else f"a/{self.relative}",
                tofile=f"b/{self.relative}",
            )
        )


@dataclass(frozen=True)
class InitPlan:
    items: tuple[Item, ...]
    changes: tuple[FileChange, ...]

    @property
    def hand_edits(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.status is Status.HAND)


def locate_project(root: Path, settings: str | None = None) -> Project:
    """The project in ``root``: its settings module from ``settings`` or ``manage.py``."""
    if not root.is_dir():
        raise ScaffoldError(
            f"{root}: no such directory; pass the monolith's directory as --project."
        )
    manage_py = root / "manage.py"
    if not manage_py.is_file():
        if settings is None:
            raise ScaffoldError(
                f"{root}: no manage.py here: run strangler init in the monolith's directory "
                "(where manage.py is), or pass --project DIR, or --settings MODULE."
            )
        return Project(root=root, settings_module=settings, manage_py=None)
    return Project(
        root=root, settings_module=settings or _settings_of(manage_py), manage_py=manage_py
    )


def plan_init(project: Project) -> InitPlan:
    """Every item with what to do about it, and the files as they would be afterwards."""
    sources, main, refusal = _settings_sources(project)
    files = {main.relative: main}
    items = settings_items(sources, main=main, project=project.name, refusal=refusal)
    items += _urls_items(project, sources, files)
    package_dir = project.root.joinpath(*project.package.split("."))
    module = _source(project, package_dir / "celery.py", files)
    package = _source(project, package_dir / "__init__.py", files)
    items += celery_items(
        module,
        package,
        project=project.name,
        package_name=project.package,
        settings_module=project.settings_module,
    )
    changes = []
    for relative, source in files.items():
        edits = [edit for item in items if item.relative == relative for edit in item.edits]
        if not edits:
            continue
        after = apply_edits(source.text, edits)
        try:
            ast.parse(after)
        except SyntaxError as exc:  # a fault of this module, never of the team's file
            raise ScaffoldError(
                f"{relative}: the edits would not parse ({exc.msg}, line {exc.lineno}); "
                "nothing was changed, please report it."
            ) from None
        changes.append(
            FileChange(
                path=source.path,
                relative=relative,
                before=source.text if source.exists else None,
                after=after,
            )
        )
    return InitPlan(items=tuple(items), changes=tuple(changes))


def write_changes(changes: tuple[FileChange, ...]) -> None:
    for change in changes:
        change.path.write_text(change.after, encoding="utf-8")


def restore(changes: tuple[FileChange, ...]) -> None:
    """Every changed file as it was before ``write_changes``; created files removed."""
    for change in changes:
        if change.before is None:
            change.path.unlink(missing_ok=True)
        else:
            change.path.write_text(change.before, encoding="utf-8")


def _lines(text: str) -> list[str]:
    # A last line without its newline would run into the next line of the diff.
    return [line if line.endswith("\n") else f"{line}\n" for line in text.splitlines(keepends=True)]


def settings_named_by_manage_py(root: Path) -> str | None:
    """The settings module ``root/manage.py`` names, or None (no ``manage.py``, or one that
    names none as a plain string): the default of every command run in the monolith."""
    manage_py = root / "manage.py"
    if not manage_py.is_file():
        return None
    try:
        return _settings_of(manage_py)
    except (ScaffoldError, OSError, SyntaxError, ValueError):
        return None


def _settings_of(manage_py: Path) -> str:
    """The module ``manage.py`` sets as the default ``DJANGO_SETTINGS_MODULE``."""
    source = SourceFile(manage_py, relative="manage.py")
    for call in source.calls("setdefault"):
        arguments = call.args
        if (
            len(arguments) == 2
            and isinstance(arguments[0], ast.Constant)
            and arguments[0].value == SETTINGS_VARIABLE
            and isinstance(arguments[1], ast.Constant)
            and isinstance(arguments[1].value, str)
        ):
            return arguments[1].value
    raise ScaffoldError(
        f"manage.py: no os.environ.setdefault({SETTINGS_VARIABLE!r}, '...') with a plain string; "
        "pass --settings MODULE."
    )


def _module_path(project: Project, module: str) -> Path | None:
    base = project.root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _source(project: Project, path: Path, files: dict[str, SourceFile]) -> SourceFile:
    relative = path.relative_to(project.root).as_posix()
    if relative not in files:
        files[relative] = SourceFile(path, relative=relative)
    return files[relative]


def _settings_sources(project: Project) -> tuple[list[SourceFile], SourceFile, str]:
    """The settings' files, the one edits go to, and why it may not be edited (or "")."""
    path = _module_path(project, project.settings_module)
    if path is None:
        dotted = project.settings_module.replace(".", "/")
        raise ScaffoldError(
            f"settings {project.settings_module!r}: neither {dotted}.py nor {dotted}/__init__.py "
            f"is in {project.root}; pass --settings MODULE (the module your deployment uses)."
        )
    main = SourceFile(path, relative=path.relative_to(project.root).as_posix())
    if path.name == "__init__.py":
        sources = [main] + [
            SourceFile(other, relative=other.relative_to(project.root).as_posix())
            for other in sorted(path.parent.glob("*.py"))
            if other != path
        ]
        return sources, main, f"{main.relative} is a settings package (split settings)"
    star = main.star_import()
    if star is None:
        return [main], main, ""
    sources = [main]
    imported = _star_module(project, main, star)
    if imported is not None:
        sources.append(SourceFile(imported, relative=imported.relative_to(project.root).as_posix()))
    return sources, main, f"{main.relative}:{star.lineno} imports * (split settings)"


def _star_module(project: Project, main: SourceFile, star: ast.ImportFrom) -> Path | None:
    if star.level:
        package = project.settings_module.split(".")[: -star.level]
        module = ".".join([*package, *([star.module] if star.module else [])])
    else:
        module = star.module or ""
    return _module_path(project, module) if module else None


def _urls_items(
    project: Project, sources: list[SourceFile], files: dict[str, SourceFile]
) -> list[Item]:
    urlconf = next(
        (value for source in sources if (value := source.string_constant("ROOT_URLCONF"))), None
    )
    path = _module_path(project, urlconf) if urlconf else None
    if urlconf is None or path is None:
        where = sources[0].relative
        problem = (
            "ROOT_URLCONF is not a plain string in the settings"
            if urlconf is None
            else f"ROOT_URLCONF {urlconf!r} is not a file in the project"
        )
        return urls_items(
            SourceFile(project.root / where, relative=f"{where} (ROOT_URLCONF)", text=""),
            refusal=f"{problem}; in your root URLconf",
        )
    return urls_items(_source(project, path, files))
