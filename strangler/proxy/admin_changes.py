"""The admin API's changes: a route's fields edited in the table file (validated as a
load validates it, written atomically, comments kept) and its writes held or released,
each recorded in the file's audit trail (:mod:`strangler.audit_file`) with who asked
(``X-Strangler-Actor``, else ``admin-api`` as in a fleet) and the values before and after.
A fleet's replica makes them in the shared control store instead (``admin_fleet``)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from pathlib import Path

from aiohttp import web

from strangler import audit_file, routes_file
from strangler.proxy.admin_counters import route_counters, route_view
from strangler.proxy.admin_fleet import VIA, actor_of, hold_in_store, patch_in_store
from strangler.proxy.admin_http import SETTINGS, AdminError, authorise, find_route, proxy_state
from strangler.proxy.check import describe_route
from strangler.proxy.holds import MAX_HOLD_SECONDS, write_hold
from strangler.proxy.route_edit import validated_edit
from strangler.proxy.routing import RouteTable
from strangler.proxy.table_store import WATCH_INTERVAL_SECONDS

__all__ = ["hold", "patch_route", "release"]

logger = logging.getLogger("proxy.admin")

# Other workers see a hold at their next poll of the holds file: one watch interval (0.5 s;
# measured: seen 0.34 s after the write on average, 0.49 s at most over 10 trials) plus a
# margin for a busy loop. A hold or release answers only after this, so it is in effect.
HOLD_PROPAGATION_SECONDS = WATCH_INTERVAL_SECONDS + 0.25


async def _change(request: web.Request) -> tuple[routes_file.RouteChange, bool]:
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if not isinstance(body, dict):
        raise AdminError(400, "bad_request", "Send a JSON object of the fields to change.")
    force = body.pop("force", False)
    if not isinstance(force, bool):
        raise AdminError(400, "bad_change", f"field 'force': expected true or false, got {force!r}")
    change = routes_file.RouteChange.from_mapping(body)
    if not change.items():
        raise AdminError(400, "bad_change", "Nothing to change: give at least one field.")
    return change, force


def _fields(table: RouteTable, name: str, keys: list[str]) -> dict[str, object] | None:
    route = table.route(name)
    if route is None:
        return None
    view = describe_route(route, legacy=table.legacy)
    return {key: view[key] for key in keys}


def _audit(
    path: Path, *, actor: str, via: str, action: str, subject: str, before: object, after: object
) -> None:
    """Append to the table's trail; a trail that cannot be written is logged, not fatal:
    the change is made and served, and refusing it now would not undo it."""
    try:
        audit_file.append(
            path, actor=actor, via=via, action=action, subject=subject, before=before, after=after
        )
    except OSError as exc:
        logger.error(
            "audit trail %s unwritable, %s %s by %s not recorded: %s",
            audit_file.audit_path(path), action, subject, actor, exc.strerror,
        )  # fmt: skip


def _edit_file(
    path: Path,
    name: str,
    change: routes_file.RouteChange,
    force: bool,
    sync_secret: str,
    *,
    served: RouteTable,
    actor: str,
) -> bool:
    """Edit, validate, replace the file and audit the change under the writers' lock;
    ``False``: a no-op. ``served``: the table before it (the audit's "before").
    Blocking (lock, fsync): run in a thread."""
    with routes_file.locked(path):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise routes_file.RoutesFileError(f"{path}: cannot read: {exc.strerror}") from exc
        edited, table = validated_edit(
            text, name, change, force, source=str(path), sync_secret=sync_secret
        )
        if table is None:
            return False
        try:
            routes_file.write_atomically(path, edited)
        except OSError as exc:
            raise AdminError(
                500, "table_unwritable", f"{path}: cannot write beside it: {exc.strerror}"
            ) from exc
        keys = [key for key, _ in change.items()]
        _audit(
            path,
            actor=actor,
            via=VIA,
            action="set",
            subject=f"route:{name}",
            before=_fields(served, name, keys),
            after=_fields(table, name, keys),
        )
        return True


async def patch_route(request: web.Request) -> web.Response:
    authorise(request)
    name = request.match_info["name"]
    change, force = await _change(request)
    state = proxy_state(request)
    if state.fleet is not None:
        return await patch_in_store(request, state.fleet, name, change, force)
    store = state.store
    changed = await asyncio.to_thread(
        _edit_file,
        store.path,
        name,
        change,
        force,
        store.sync_secret,
        served=store.current,
        actor=actor_of(request),
    )
    if changed:
        result = await store.reload()
        if result.error is not None:  # the file changed again under us, into something invalid
            raise AdminError(409, "invalid_table", result.error)
        logger.info("route %s changed through the admin API: %s", name, dict(change.items()))
    view = route_view(
        find_route(store.current, name), route_counters(), legacy=store.current.legacy
    )
    return web.json_response({"changed": changed, "route": view})


async def _json_object(request: web.Request, allowed: frozenset[str]) -> dict[str, object]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if not isinstance(body, dict):
        raise AdminError(400, "bad_request", "Send a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "no fields"
        raise AdminError(400, "bad_hold", f"unknown field(s) {', '.join(unknown)}; give {known}")
    return body


def _hold_file(path: Path, name: str, until: float, actor: str) -> None:
    """Write the hold (or release) and audit it as the control store does, under the
    table's lock: the route's ``hold_until`` before and after (``None``: not held).
    Blocking: run in a thread."""
    now = time.time()

    def audit(before: float | None) -> None:
        _audit(
            path,
            actor=actor,
            via=VIA,
            action="hold" if until > now else "release",
            subject=f"route:{name}",
            before={"hold_until": before} if before else None,
            after={"hold_until": until} if until > now else None,
        )

    write_hold(path, name, until, written=audit)


async def _set_hold(request: web.Request, name: str, until: float) -> web.Response:
    state = proxy_state(request)
    if state.fleet is not None:
        return await hold_in_store(request, state.fleet, name, until)
    store = state.store
    find_route(store.current, name)
    await asyncio.to_thread(_hold_file, store.path, name, until, actor_of(request))
    store.reload_holds()
    # Every other worker polls the holds file: answer once they all have, so the caller
    # knows the hold (or the release) is in effect everywhere.
    if request.app[SETTINGS].workers > 1:
        await asyncio.sleep(HOLD_PROPAGATION_SECONDS)
    held_until = store.holds.get(name, 0.0)
    logger.info("route %s writes %s", name, f"held until {held_until}" if until else "released")
    return web.json_response({"route": name, "held": held_until > 0, "hold_until": held_until})


async def hold(request: web.Request) -> web.Response:
    authorise(request)
    body = await _json_object(request, frozenset({"seconds"}))
    seconds = body.get("seconds")
    if (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or not math.isfinite(seconds)
        or not 0 < seconds <= MAX_HOLD_SECONDS
    ):
        raise AdminError(
            400,
            "bad_hold",
            f"field 'seconds': give a number of seconds above 0 and at most "
            f"{MAX_HOLD_SECONDS:g} (the hold's bound), got {seconds!r}",
        )
    return await _set_hold(request, request.match_info["name"], time.time() + seconds)


async def release(request: web.Request) -> web.Response:
    authorise(request)
    await _json_object(request, frozenset())
    return await _set_hold(request, request.match_info["name"], 0.0)
