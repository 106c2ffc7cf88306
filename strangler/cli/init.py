"""``strangler init``: wire a team's Django monolith for the migration (docs/init.md).

Adds the sync and identity apps, the internal and health URLs, the toolkit's settings and
the Celery app (:mod:`strangler.scaffold.init_project`), or prints the exact edits when a
file cannot be changed safely. Idempotent: a second run changes nothing and says so.

Prints a unified diff of each change, then one line per item (``added``, ``already
present``, ``edit by hand``), then a last line saying where things stand. No backup is
written: the team commits first, and a project in git with uncommitted changes to the files
concerned is refused unless ``--force``.

Exit status: 0 everything in place (or added); 1 hand edits remain, the files have
uncommitted changes, or the project's check failed after the edits (the files are put back);
2 the project cannot be read (no ``manage.py``, no settings module).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from strangler.cli.errors import CommandError, ExitCode
from strangler.scaffold.init_guards import run_check, uncommitted_files
from strangler.scaffold.init_items import Status
from strangler.scaffold.init_project import (
    InitPlan,
    Project,
    ScaffoldError,
    locate_project,
    plan_init,
    restore,
    write_changes,
)
from strangler.scaffold.stack_entries import monolith_stack
from strangler.scaffold.stack_file import add_to_stack
from strangler.stack import StackError

__all__ = ["init_command", "register"]

STACK_FILE = "stack.yaml"


def register(groups: Any) -> None:
    command = groups.add_parser(
        "init",
        help="add what the monolith needs for the migration (apps, URLs, settings, Celery app)",
    )
    command.add_argument(
        "--project",
        metavar="DIR",
        type=Path,
        default=Path(),
        help="the monolith's directory, where manage.py is (default: the current directory)",
    )
    command.add_argument(
        "--settings",
        metavar="MODULE",
        help="the settings module to change (default: the one manage.py names)",
    )
    command.add_argument(
        "--dry-run", action="store_true", help="print the diff of what would change; change nothing"
    )
    command.add_argument(
        "--force", action="store_true", help="change files that have uncommitted git changes"
    )
    command.set_defaults(command=init_command)


def init_command(args: argparse.Namespace) -> int:
    try:
        project = locate_project(args.project.resolve(), args.settings)
        plan = plan_init(project)
    except ScaffoldError as exc:
        raise CommandError(str(exc), exit_code=ExitCode.CANNOT_RUN) from None
    hand = bool(plan.hand_edits)
    if plan.changes and not hand and not args.dry_run and not args.force:
        try:
            dirty = uncommitted_files(project, [change.path for change in plan.changes])
        except ScaffoldError as exc:
            raise CommandError(str(exc), exit_code=ExitCode.CANNOT_RUN) from None
        if dirty:
            raise CommandError(
                f"uncommitted changes in {', '.join(dirty)}: commit them first (init writes "
                "no backup; its diff is then yours to review and revert), or pass --force.",
                exit_code=ExitCode.REFUSED,
            )
    for change in plan.changes:
        print(change.diff(), end="")
    _print_items(plan, dry_run=args.dry_run or hand)
    if hand:
        print(
            f"hand edits remain ({len(plan.hand_edits)}): nothing was changed; make them, "
            "then run strangler init again to add the rest."
        )
        return ExitCode.REFUSED
    if not plan.changes:
        stacked = _stack(project, dry_run=args.dry_run)
        if not stacked:
            print("nothing to do: the project has everything strangler init adds.")
        return ExitCode.OK
    if args.dry_run:
        _stack(project, dry_run=True)
        print(f"dry run: {len(plan.changes)} file(s) would change; nothing was changed.")
        return ExitCode.OK
    return _write_and_check(plan, project)


def _stack(project: Project, *, dry_run: bool) -> bool:
    """The monolith's processes and the proxy in the project's ``stack.yaml`` (for
    ``strangler up``); whether anything was (or would be) added."""
    path = project.root / STACK_FILE
    try:
        changes = add_to_stack(path, monolith_stack(project.package), dry_run=dry_run)
    except StackError as exc:
        print(f"edit by hand: {exc}: add the monolith's processes and the proxy (docs/init.md)")
        return False
    verb = "to add" if dry_run else "added"
    if changes.added:
        print(f"{verb}: {STACK_FILE}: {', '.join(changes.added)}")
    if changes.kept:
        print(f"already present: {STACK_FILE}: {', '.join(changes.kept)}")
    return changes.changed


def _print_items(plan: InitPlan, *, dry_run: bool) -> None:
    for item in plan.items:
        if item.status is Status.ADD and dry_run and plan.hand_edits:
            print(f"to add after the hand edits: {item.what} ({item.relative})")
        else:
            print(item.describe(dry_run=dry_run))


def _write_and_check(plan: InitPlan, project: Project) -> int:
    try:
        write_changes(plan.changes)
    except OSError as exc:
        restore(plan.changes)
        raise CommandError(
            f"cannot write the project's files ({exc}); every file was put back as it was.",
            exit_code=ExitCode.CANNOT_RUN,
        ) from None
    check = run_check(project, os.environ)
    if not check.ok:
        restore(plan.changes)
        print(check.output)
        already = not run_check(project, os.environ).ok
        print(
            "the project's `manage.py check` failed after the edits (above): every file was "
            "put back as it was"
            + ("; it fails without them too: fix that first." if already else ".")
        )
        return ExitCode.REFUSED
    _stack(project, dry_run=False)
    demo = " (in demo mode: the toolkit's secrets are not set here)" if check.demo else ""
    print(
        f"done: {len(plan.changes)} file(s) changed, `manage.py check` passes{demo}. Next: "
        "`python manage.py migrate` (the sync's tables), and set STRANGLER_IDENTITY_SECRET "
        "and STRANGLER_SYNC_SECRET wherever the project runs outside demo mode."
    )
    return ExitCode.OK
