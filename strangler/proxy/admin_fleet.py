"""The admin API of a fleet's replica (``STRANGLER_STORE_URL`` set): changes go to the shared
control store, not to a file, and this replica installs them at once; the others get them
pushed (``strangler.proxy.fleet_member``).

- PATCH reads the store's table, edits it as the file would be edited (comments kept),
  validates it as a load does, and writes it with a compare-and-set on its version, retried
  when another writer got in first. It answers once written (``table_version``); with
  ``?wait=fleet`` it also waits, bounded, until every member serves it and says who lags.
- A hold or release is written, installed here, then answered only once every member has
  acknowledged it (``FLEET_ACK_SECONDS``): a cutover must not go on while a replica still
  lets writes through. One that did not is named in a 503 ``fleet_not_acknowledged``.
- Every change is audited in the store: who (``X-Strangler-Actor``, else ``admin-api``),
  through what, on which route, the fields before and after.
"""

from __future__ import annotations

import logging

from aiohttp import web
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler import routes_file
from strangler.control import FleetAck, StoreUnavailable, TableRecord, VersionConflict
from strangler.control.postgres import MEMBER_EXPIRY_SECONDS
from strangler.proxy.admin_counters import route_counters, route_view
from strangler.proxy.admin_http import AdminError, find_route, proxy_state
from strangler.proxy.check import describe_route
from strangler.proxy.config import parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.fleet_member import FleetMember
from strangler.proxy.fleet_start import store_source
from strangler.proxy.route_edit import validated_edit
from strangler.proxy.routing import RouteTable

__all__ = [
    "ACTOR_HEADER",
    "CAS_ATTEMPTS",
    "FLEET_ACK_SECONDS",
    "actor_of",
    "fleet_view",
    "hold_in_store",
    "patch_in_store",
    "reload_from_store",
]

logger = logging.getLogger("proxy.admin")

# The fleet acknowledges a version within about a second (every member is pushed the change
# and writes its row at once: bench/bench_fleet_propagation.py); five seconds means a member
# is cut off from the store or stopped without leaving.
FLEET_ACK_SECONDS = 5.0
# A compare-and-set loses only to a writer that got in within the same few milliseconds; five
# losses in a row mean the table is changing too fast to edit safely, said as a 409.
CAS_ATTEMPTS = 5
# Who made a change, for the audit trail: the CLI sends the user's name.
ACTOR_HEADER = "X-Strangler-Actor"
ACTOR_CHARACTERS = 100
VIA = "admin-api"


def actor_of(request: web.Request) -> str:
    """The header's actor, printable and at most 100 characters; else ``admin-api``."""
    raw = request.headers.get(ACTOR_HEADER, "")
    printable = "".join(c if c.isprintable() else " " for c in raw)
    return " ".join(printable.split())[:ACTOR_CHARACTERS].strip() or VIA


def _fields(table: RouteTable | None, name: str, keys: list[str]) -> dict[str, object] | None:
    route = table.route(name) if table is not None else None
    if table is None or route is None:
        return None
    view = describe_route(route, legacy=table.legacy)
    return {key: view[key] for key in keys}


def _old_table(member: FleetMember, record: TableRecord) -> RouteTable | None:
    """The table a change starts from, for the audit's "before" (the one served when it is
    that version; ``None`` when the store's text is not a table)."""
    if member.tables.table_version == record.version:
        return member.tables.current
    source = store_source(member.control, record.version)
    try:
        return RouteTable(parse_table_config(YAML(typ="safe").load(record.text), source=source))
    except (ConfigError, YAMLError):
        return None


async def patch_in_store(
    request: web.Request,
    member: FleetMember,
    name: str,
    change: routes_file.RouteChange,
    force: bool,
) -> web.Response:
    keys = [key for key, _ in change.items()]
    changed, version = False, 0
    for _ in range(CAS_ATTEMPTS):
        record = await member.call(member.control.read_table)
        if record is None:
            raise AdminError(
                503,
                "store_unavailable",
                f"the control store at {member.where} holds no route table; put one there "
                f"with `strangler routes import FILE`",
            )
        edited, table = await member.call(
            validated_edit,
            record.text,
            name,
            change,
            force,
            source=store_source(member.control, record.version),
            sync_secret=member.settings.sync_secret,
        )
        version = record.version
        if table is None:
            break
        try:
            written = await member.call(
                member.control.write_table,
                edited,
                expected_version=record.version,
                actor=actor_of(request),
                via=VIA,
                action="set",
                subject=f"route:{name}",
                before=_fields(_old_table(member, record), name, keys),
                after=_fields(table, name, keys),
            )
        except VersionConflict:
            continue
        await member.install_table(written, table)
        changed, version = True, written.version
        logger.info("route %s changed through the admin API: %s (table version %d)",
                    name, dict(change.items()), version)  # fmt: skip
        break
    else:
        raise AdminError(
            409,
            "table_version_conflict",
            f"the route table kept changing under this change ({CAS_ATTEMPTS} tries): other "
            f"writers are changing it now. Read it again (GET /routes) and retry.",
        )
    current = member.tables.current
    body: dict[str, object] = {
        "changed": changed,
        "route": route_view(find_route(current, name), route_counters(), legacy=current.legacy),
        "table_version": version,
    }
    if request.query.get("wait") == "fleet":
        try:
            ack = await member.call(
                member.control.wait_for_fleet, table_version=version, timeout=FLEET_ACK_SECONDS
            )
        except StoreUnavailable as exc:
            raise AdminError(
                503,
                "store_unavailable",
                f"route {name!r} is changed in the store (table version {version}), but the "
                f"fleet's acknowledgement cannot be read: {exc.message}. See GET /fleet once "
                f"the store answers.",
                details=body,
            ) from exc
        body["fleet"] = _ack_json(ack)
    return web.json_response(body)


def _ack_json(ack: FleetAck) -> dict[str, object]:
    return {
        "complete": ack.complete,
        "acknowledged": list(ack.acknowledged),
        "missing": [r.replica for r in ack.missing],
        "lagging": ack.describe_missing(),
    }


async def hold_in_store(
    request: web.Request, member: FleetMember, name: str, until: float
) -> web.Response:
    find_route(member.tables.current, name)
    held = await member.call(member.control.set_hold, name, until, actor=actor_of(request), via=VIA)
    await member.install_holds(held)
    held_until = held.holds.get(name, 0.0)
    what = f"held until {held_until}" if until else "released"
    answer: dict[str, object] = {
        "route": name,
        "held": held_until > 0,
        "hold_until": held_until,
        "holds_version": held.version,
    }
    try:
        ack = await member.call(
            member.control.wait_for_fleet, holds_version=held.version, timeout=FLEET_ACK_SECONDS
        )
    except StoreUnavailable as exc:
        raise AdminError(
            503,
            "store_unavailable",
            f"route {name!r} writes {what} in the store (holds version {held.version}), but "
            f"the fleet's acknowledgement cannot be read: {exc.message}. Do not take it as in "
            f"force everywhere; retry once the store answers.",
            details=answer,
        ) from exc
    answer["acknowledged"] = list(ack.acknowledged)
    if not ack.complete:
        missing = [r.replica for r in ack.missing]
        logger.warning("route %s writes %s; not acknowledged by %s", name, what, missing)
        raise AdminError(503, "fleet_not_acknowledged", _unacknowledged(name, until, held_until,
                         held.version, ack), details={**answer, "missing": missing})  # fmt: skip
    logger.info("route %s writes %s (holds version %d, fleet acknowledged)",
                name, what, held.version)  # fmt: skip
    return web.json_response(answer)


def _unacknowledged(name: str, until: float, held_until: float, version: int, ack: FleetAck) -> str:
    late = (
        f"{ack.describe_missing()} did not acknowledge holds version {version} within "
        f"{FLEET_ACK_SECONDS:g} s"
    )
    if until:
        return (
            f"the hold on route {name!r} is written, but {late}: they may still let its "
            f"writes through, so do not go on with the cutover. Check them (GET /fleet; a "
            f"replica stopped without leaving drops out of the fleet after "
            f"{MEMBER_EXPIRY_SECONDS:g} s), then hold again or release it. The hold ends on "
            f"its own at {held_until} (epoch seconds) at the latest."
        )
    return (
        f"the release of route {name!r} is written, but {late}: they may hold its writes "
        f"until their hold's own bound. Check them (GET /fleet) and release again."
    )


async def reload_from_store(member: FleetMember) -> web.Response:
    """POST /reload: the store read again now (the file is not a fleet's table)."""
    changed = await member.refresh()
    if member.refused is not None:
        message = f"{member.refused} (the running table keeps serving)"
        raise AdminError(400, "invalid_table", message)
    return web.json_response(
        {
            "changed": changed,
            "routes": len(member.tables.current.routes),
            "table_version": member.tables.table_version,
            "holds_version": member.tables.holds_version,
        }
    )


async def fleet_view(request: web.Request) -> web.Response:
    """GET /fleet: every member with the versions it serves, and which lag."""
    member = proxy_state(request).fleet
    if member is None:
        raise AdminError(
            404,
            "not_a_fleet",
            "This proxy runs on the table file of one host: set STRANGLER_STORE_URL on every "
            "replica to run them as a fleet.",
        )
    now, members = await member.call(member.control.fleet)
    table_version, holds_version = await member.call(member.versions)
    shown = [r.as_json(now=now, table_version=table_version) for r in members]
    return web.json_response(
        {
            "store": member.where,
            "replica": member.name,
            "now": now,
            "table_version": table_version,
            "holds_version": holds_version,
            "members": shown,
            "lagging": [m["replica"] for m in shown if m["lagging"]],
        }
    )
