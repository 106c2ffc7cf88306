"""The admin API's audit trail: ``GET /audit`` reads it, ``POST /audit`` adds a plan's entry.

Where the table lives, the trail lives: the shared control store's ``strangler_audit`` in a
fleet, the file beside the table otherwise (:mod:`strangler.audit_file`). Both need the
admin token, reads too: an entry names who made a change (an identity, which the issue
keeps behind the token, as comparison examples are), while ``GET /routes`` shows only the
table. A plan adds its steps and rollbacks here when it reaches only this API (one host,
maybe another machine): the proxy knows where its table, and so its trail, is; the plan
does not. Only ``plan.*`` actions are taken: a route's change is recorded by the change
itself, never by a caller's say-so.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web

from strangler import audit_file
from strangler.control import StoreUnavailable
from strangler.proxy.admin_fleet import actor_of
from strangler.proxy.admin_http import AdminError, authorise, proxy_state

__all__ = ["AUDIT_LIMIT", "add_plan_entry", "read_audit"]

# `GET /audit` answers the newest 100 entries unless told; a dashboard's timeline, a screenful.
AUDIT_LIMIT = 100
MAX_AUDIT_LIMIT = 10_000
PLAN_VIA = "plan"
_PLAN_ACTION = re.compile(r"plan\.[a-z_]{1,40}")
_STEP_CHARS = 200


async def read_audit(request: web.Request) -> web.Response:
    authorise(request)
    raw = request.query.get("limit", str(AUDIT_LIMIT))
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_AUDIT_LIMIT:
        raise AdminError(
            400, "bad_limit", f"limit: give a whole number from 1 to {MAX_AUDIT_LIMIT}, got {raw!r}"
        )
    state = proxy_state(request)
    if state.fleet is not None:
        member = state.fleet
        try:
            entries = await member.call(member.control.audit, limit=limit)
        except StoreUnavailable as exc:
            raise AdminError(503, "store_unavailable", exc.message) from exc
        return web.json_response(
            {"store": member.where, "entries": [e.as_json() for e in entries], "problem": None}
        )
    try:
        trail = await asyncio.to_thread(audit_file.read_trail, state.store.path, limit=limit)
    except OSError as exc:
        raise AdminError(
            500, "audit_unreadable", f"{audit_file.audit_path(state.store.path)}: {exc.strerror}"
        ) from exc
    return web.json_response(trail.as_json())


def _step(body: dict[str, object], key: str) -> str | None:
    value = body.get(key)
    if value is None or (isinstance(value, str) and len(value) <= _STEP_CHARS):
        return value
    raise AdminError(400, "bad_audit", f"field {key!r}: a step's name or null, got {value!r}")


async def add_plan_entry(request: web.Request) -> web.Response:
    """POST /audit {"action": "plan.next", "plan": NAME, "before": STEP, "after": STEP}."""
    authorise(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AdminError(400, "bad_request", "Send a JSON object.")
    unknown = sorted(set(body) - {"action", "plan", "before", "after"})
    if unknown:
        raise AdminError(400, "bad_audit", f"unknown field(s) {', '.join(unknown)}")
    action, plan = body.get("action"), body.get("plan")
    if not isinstance(action, str) or not _PLAN_ACTION.fullmatch(action):
        raise AdminError(400, "bad_audit", f"field 'action': give plan.<what>, got {action!r}")
    if not isinstance(plan, str) or not 0 < len(plan) <= _STEP_CHARS:
        raise AdminError(400, "bad_audit", f"field 'plan': give the plan's name, got {plan!r}")
    entry: dict[str, Any] = {
        "actor": actor_of(request),
        "via": PLAN_VIA,
        "action": action,
        "subject": f"plan:{plan}",
        "before": _step(body, "before"),
        "after": _step(body, "after"),
    }
    state = proxy_state(request)
    if state.fleet is not None:
        member = state.fleet
        try:
            await member.call(member.control.record, **entry)
        except StoreUnavailable as exc:
            raise AdminError(503, "store_unavailable", exc.message) from exc
        return web.json_response({"recorded": True, "store": member.where}, status=201)
    try:
        record = await asyncio.to_thread(audit_file.append, state.store.path, **entry)
    except OSError as exc:
        raise AdminError(
            500,
            "audit_unwritable",
            f"{audit_file.audit_path(state.store.path)}: cannot append: {exc.strerror}",
        ) from exc
    return web.json_response({"recorded": True, "entry": record.as_json()}, status=201)
