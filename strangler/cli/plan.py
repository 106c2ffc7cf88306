"""``strangler plan status|next|rollback NAME``: drive a migration plan (strangler.plans).

``NAME`` is a plan file's stem under ``--plans`` (default ``migration_plans/``) or a path.
Exit status: 0 done (or, for ``status``, the current gate passed); 1 refused (a gate not
passed, a failed step put back, nothing to do); 2 could not run (bad plan file, a name of the
plan the proxy or a sync node does not know, a control store that cannot be reached, ...).
``next`` checks every name first (``strangler.plans.preflight``), ``--dry-run`` too, and
changes nothing when one is wrong.

With ``STRANGLER_STORE_URL`` the plan's state lives in the shared control store, its steps
wait for every proxy replica to take each change, and its figures are the whole fleet's
(from Prometheus when the plan's ``figures.prometheus`` or ``$STRANGLER_PROMETHEUS_URL`` names
one, else from every replica's ``/metrics``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.store import control_store, store_failed
from strangler.control import ControlStore, StoreError
from strangler.environment import var_dir
from strangler.plans.actions import LiveActions
from strangler.plans.audit import PlanAudit, plan_audit
from strangler.plans.figures import Snapshot, collect
from strangler.plans.preflight import Preflight, preflight
from strangler.plans.prometheus import PrometheusSource, prometheus_source
from strangler.plans.runner import Outcome, advance, plan_status, rollback
from strangler.plans.schema import Plan, PlanError, load_plan
from strangler.proxy_admin import admin_location, announce_admin

__all__ = ["register"]

# Figures move with heartbeats (every 2 s in the demo) and requests: a second between looks
# is enough, and cheap for the proxy and the nodes asked.
WAIT_POLL_SECONDS = 1.0


def _default_state_dir() -> Path:
    return var_dir() / "plans"


def register(groups: Any) -> None:
    parser = groups.add_parser("plan", help="show, advance or roll back a migration plan")
    commands = parser.add_subparsers(dest="plan_command", metavar="COMMAND", required=True)
    for name, handler, text in (
        ("status", _status, "each step, the current gate's figures and verdict"),
        ("next", _next, "apply the next step if the current step's gate has passed"),
        ("rollback", _rollback, "return routes and sync direction to the last safe step"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("name", metavar="NAME", help="plan name (file stem) or path")
        sub.add_argument("--plans", type=Path, default=Path("migration_plans"), metavar="DIR")
        sub.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            metavar="DIR",
            help="where plan state files live (default: $STRANGLER_VAR_DIR/plans); with "
            "STRANGLER_STORE_URL set, plan state lives in the shared store instead",
        )
        sub.add_argument(
            "--admin",
            default=None,
            metavar="URL",
            help="the proxy's admin API (default: $STRANGLER_ADMIN_URL or "
            "http://127.0.0.1:$PROXY_ADMIN_PORT, else port 8001, said on stderr; token from "
            "$PROXY_ADMIN_TOKEN)",
        )
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "next":
            sub.add_argument(
                "--dry-run",
                action="store_true",
                help="show what the step would change; change nothing",
            )
            sub.add_argument(
                "--wait",
                type=float,
                default=0.0,
                metavar="SECONDS",
                help="while the gate is inconclusive (too little data yet), wait up to this "
                "long for it to pass or fail",
            )
        sub.set_defaults(command=handler)


def _plan(args: argparse.Namespace) -> Plan:
    try:
        return load_plan(_path(args))
    except PlanError as exc:
        raise CommandError(str(exc), exit_code=ExitCode.CANNOT_RUN) from exc


def _path(args: argparse.Namespace) -> Path:
    candidate = Path(args.name)
    return candidate if candidate.suffix in (".yaml", ".yml") else args.plans / f"{args.name}.yaml"


def _state_dir(args: argparse.Namespace) -> Path:
    return args.state_dir if args.state_dir is not None else _default_state_dir()


@dataclass(frozen=True)
class _System:
    """What a plan command reaches: the proxy's admin API, the control store when one is
    configured, and Prometheus when the figures come from it."""

    plan: Plan
    admin_url: str
    session: requests.Session
    store: ControlStore | None
    prometheus: PrometheusSource | None

    def snapshot(self) -> Snapshot:
        return collect(
            self.plan, admin_url=self.admin_url, session=self.session, store=self.store,
            prometheus=self.prometheus,
        )  # fmt: skip

    def audit(self) -> PlanAudit:
        return plan_audit(
            self.plan.name, admin_url=self.admin_url, session=self.session, store=self.store
        )

    def actions(self) -> LiveActions:
        return LiveActions(
            self.plan, admin_url=self.admin_url, session=self.session, store=self.store
        )


@contextlib.contextmanager
def _system(plan: Plan, args: argparse.Namespace) -> Iterator[_System]:
    location = admin_location(args.admin)
    args.admin = location.url
    announce_admin(location)
    with requests.Session() as session, control_store() as store:
        try:
            yield _System(plan, args.admin, session, store, prometheus_source(plan))
        except StoreError as exc:  # the store failed midway (state, the fleet's members)
            raise store_failed(exc) from exc


def _status(args: argparse.Namespace) -> int:
    plan = _plan(args)
    with _system(plan, args) as system:
        status = plan_status(
            plan, state_dir=_state_dir(args), now=system.snapshot(), store=system.store
        )
    if args.json:
        print(json.dumps(asdict(status), indent=2, default=str))
    else:
        print(f"plan {plan.name}: {plan.description}".rstrip(": "))
        for step in status.steps:
            marker = {"done": "✓", "current": "▶", "next": "→"}.get(step["state"], " ")
            print(f"  {marker} {step['index'] + 1:>2}. {step['name']:<16} {step['state']}")
        if status.pending:
            print(
                f"  interrupted while running {status.pending['action']} to step "
                f"{status.pending['to'] + 1}: run `plan next` to resume or `plan rollback`"
            )
        if status.gate is None:
            print("  not started: `strangler plan next` applies the first step")
        else:
            print(
                f"  gate of the current step: {status.gate.verdict.upper()} ({status.gate.reason})"
            )
            for check in status.gate.conditions:
                value = "no data" if check.value is None else f"{check.value:g}"
                count = f", over {check.count}" if check.count is not None else ""
                print(
                    f"    {check.figure:<28} {value:>10}  max {check.max:g}{count}  "
                    f"[{check.verdict}]"
                )
        for name in plan.routes:
            sides = status.routes.get(name)
            if sides is not None:
                print(
                    f"  route {name}: mode {sides.mode}, reads from "
                    f"{' and '.join(sides.read_sides)}, writes to {sides.write_owner}"
                )
        for error in status.errors:
            print(f"  (could not read: {error})")
    if status.gate is not None and status.gate.verdict == "passed":
        return int(ExitCode.OK)
    return int(ExitCode.OK if status.gate is None else ExitCode.REFUSED)


def _next(args: argparse.Namespace) -> int:
    plan = _plan(args)
    with _system(plan, args) as system:
        names = preflight(plan, admin_url=args.admin, session=system.session)
        if not args.dry_run:
            _stop_unless_confirmed(plan, args, names)  # before anything changes
        if args.wait > 0:
            _wait_for_a_verdict(system, args)
        outcome = advance(
            plan,
            state_dir=_state_dir(args),
            now=system.snapshot(),
            actions=system.actions(),
            dry_run=args.dry_run,
            take_snapshot=system.snapshot,
            store=system.store,
            audit=system.audit(),
        )
    code = _report(outcome, args, ok=outcome.done or (args.dry_run and bool(outcome.changes)))
    if args.dry_run:  # what the step would change, then whether its names would hold
        _stop_unless_confirmed(plan, args, names)
        if not args.json and names.checked:
            print("names checked against the running system:")
            for line in names.checked:
                print(f"  - {line}")
    return code


def _stop_unless_confirmed(plan: Plan, args: argparse.Namespace, names: Preflight) -> None:
    """``CommandError`` (could not run) listing each name the running system did not confirm."""
    for note in names.notes:
        print(f"note: {note}", file=sys.stderr)
    if names.problems:
        sys.stdout.flush()  # the step's report first, as a terminal shows it
        path = _path(args)
        lines = "\n".join(f"  {problem.render(path)}" for problem in names.problems)
        raise CommandError(
            f"plan {plan.name}: {len(names.problems)} name(s) not confirmed by the running "
            f"system; nothing was changed:\n{lines}",
            exit_code=ExitCode.CANNOT_RUN,
        )


def _wait_for_a_verdict(system: _System, args: argparse.Namespace) -> None:
    """Poll the current gate while it is inconclusive; ``next`` then decides on its verdict."""
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        gate = plan_status(
            system.plan, state_dir=_state_dir(args), now=system.snapshot(), store=system.store
        ).gate
        if gate is None or gate.verdict != "inconclusive":
            return
        time.sleep(WAIT_POLL_SECONDS)


def _rollback(args: argparse.Namespace) -> int:
    plan = _plan(args)
    with _system(plan, args) as system:
        outcome = rollback(
            plan,
            state_dir=_state_dir(args),
            actions=system.actions(),
            take_snapshot=system.snapshot,
            store=system.store,
            audit=system.audit(),
        )
    return _report(outcome, args, ok=outcome.done)


def _report(outcome: Outcome, args: argparse.Namespace, *, ok: bool) -> int:
    if args.json:
        print(json.dumps(asdict(outcome), indent=2, default=str))
    else:
        print(outcome.message)
        for change in outcome.changes:
            print(f"  - {change}")
    return int(ExitCode.OK if ok else ExitCode.REFUSED)
