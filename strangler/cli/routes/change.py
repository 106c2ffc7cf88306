"""``strangler routes set``: one route's change, made where the table lives.

Through the running proxy's admin API when one answers (with the shared store, the command
then says which replicas served the change within a second); otherwise, or with
``--offline``, in the shared store's table when ``STRANGLER_STORE_URL`` names one
(:mod:`~strangler.cli.routes.stored`), else in the table file, which a running proxy loads.
Each is audited where it is made: by the proxy, in the store, or in the trail beside the
file (:mod:`strangler.audit_file`), with the operator as the actor.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from strangler import audit_file, routes_file
from strangler.cli.errors import CommandError, ExitCode
from strangler.cli.routes.admin import ProxyNotRunning, admin_request
from strangler.cli.routes.agreement import ensure_serving
from strangler.cli.routes.checker import check_report
from strangler.cli.routes.stored import as_written, fleet_served, route_fields, set_in_store
from strangler.cli.store import run_with_store
from strangler.control import ControlStore
from strangler.proxy_admin import ADMIN_TOKEN_VARIABLE, operator

__all__ = ["routes_set"]


def routes_set(args: argparse.Namespace, *, announce: Callable[[], None]) -> int:
    """``args.admin`` and ``args.config`` resolved (``commands.resolve_sources``);
    ``announce`` says which admin API is asked, before it is."""
    change = routes_file.RouteChange(
        owner=args.owner,
        mode=args.mode,
        canary_percent=args.percent,
        fallback=args.fallback,
        shadow_sample_rate=args.sample_rate,
        write_owner=args.write_owner,
        unsynced_writes_accepted=args.accept_unsynced_writes,
    )
    if not change.items():
        raise CommandError(
            "nothing to change: give --owner, --mode, --percent, --fallback/--no-fallback, "
            "--sample-rate or --write-owner",
            exit_code=ExitCode.CANNOT_RUN,
        )

    def run(store: ControlStore | None) -> int:
        if not args.offline:
            announce()
            try:
                if args.table_given:
                    ensure_serving(args.config, admin=args.admin)
                return _set_through_admin(args, change, store)
            except ProxyNotRunning:
                pass
        if store is not None:
            return set_in_store(
                store, args.name, change, force=args.force, summary=_describe(change)
            )
        return _set_in_file(args, change)

    return run_with_store(run)


def _describe(change: routes_file.RouteChange) -> str:
    def text(value: object) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{key} {text(value)}" for key, value in change.items())


def _set_through_admin(
    args: argparse.Namespace, change: routes_file.RouteChange, store: ControlStore | None
) -> int:
    url = f"{args.admin.rstrip('/')}/routes/{quote(args.name, safe='')}"
    body: dict[str, object] = dict(change.items())
    if args.force:
        body["force"] = True
    status, payload = admin_request("PATCH", url, body=body)
    if status == 200:
        done = "changed" if payload["changed"] else "unchanged, already so"
        served = ""
        if store is not None and payload["changed"]:
            version = payload.get("table_version")
            if not isinstance(version, int):
                version = store.table_version()
            served = f"; table version {version}, {fleet_served(store, version)}"
        print(
            f"route {args.name}: {_describe(change)}: {done} (through the proxy at "
            f"{args.admin}){served}"
        )
        return ExitCode.OK
    message = f"{payload.get('message')} [{payload.get('code')}]"
    if status in (401, 403):
        message += f"; the token is read from ${ADMIN_TOKEN_VARIABLE}"
    raise CommandError(
        f"refused: {message}" if status < 500 else f"the proxy failed: {message}",
        exit_code=ExitCode.REFUSED if status < 500 else ExitCode.CANNOT_RUN,
    )


def _audit(path: Path, name: str, text: str, change: routes_file.RouteChange) -> None:
    """Record the change made to the file; under the table's lock still, so the trail's
    order is the table's. A trail that cannot be written is said, not fatal: the table is
    already changed."""
    try:
        audit_file.append(
            path,
            actor=operator(),
            via="cli",
            action="set",
            subject=f"route:{name}",
            before=route_fields(text, name, change),
            after={key: as_written(value) for key, value in change.items()},
        )
    except OSError as exc:
        print(
            f"warning: the change is made but not recorded: cannot append to "
            f"{audit_file.audit_path(path)}: {exc.strerror or exc}",
            file=sys.stderr,
        )


def _set_in_file(args: argparse.Namespace, change: routes_file.RouteChange) -> int:
    path: Path = args.config
    try:
        with routes_file.locked(path):
            text = path.read_text(encoding="utf-8")
            edited = routes_file.edit_route(text, args.name, change, force=args.force)
            if edited == text:
                print(f"route {args.name} in {path}: {_describe(change)}: unchanged, already so")
                return ExitCode.OK
            staged = routes_file.stage(path, edited)
            try:
                report = check_report(staged, source=path)
                if not report["valid"]:
                    raise CommandError(
                        f"refused, {path} is unchanged: {report['error']}",
                        exit_code=ExitCode.REFUSED,
                    )
                routes_file.commit(staged, path)
            finally:
                staged.unlink(missing_ok=True)
            _audit(path, args.name, text, change)
    except routes_file.TableBusy as exc:
        raise CommandError(exc.message, exit_code=ExitCode.CANNOT_RUN) from exc
    except routes_file.RoutesFileError as exc:
        raise CommandError(f"refused: {path}: {exc.message}", exit_code=ExitCode.REFUSED) from exc
    except OSError as exc:
        raise CommandError(
            f"cannot edit {path}: {exc.strerror or exc}", exit_code=ExitCode.CANNOT_RUN
        ) from exc
    print(
        f"route {args.name} in {path}: {_describe(change)} "
        "(the proxy was not reached; a running proxy loads the file within a second)"
    )
    return ExitCode.OK
