"""Every name a plan will use, checked against the running system before it changes anything.

A plan calls each of its two nodes by three names: its key in ``nodes`` (the plan's own, for
messages and the ``manage`` command line), its ``upstream`` in the proxy's route table (routes
and write owners) and its ``peer``, its name as a sync node (streams, backfill, reconcile).
``plan next`` (``--dry-run`` included) runs :func:`preflight` first; a name that does not match
is a :class:`NameProblem` naming the plan's field, its value and what to fix, and nothing is
changed. What it asks:

- the proxy's admin API: each of the plan's routes is in the table and moves to the service's
  upstream; the table's legacy upstream is the legacy node's;
- each node's signed status, signed as the other node: the call verifies only if the node
  has that sync name and knows the other by its peer name (``wrong_receiver``,
  ``unknown_sender``); its ``registration`` then says whether the plan's models travel between
  them, forwards and, for a plan with a cutover, back;
- for a plan with a cutover: the proxy's write guard reads the service's sync status by the
  upstream names (``proxy.write_guard``), so there each node's upstream and peer must agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import requests

from strangler.plans.schema import Plan
from strangler.plans.sources import SYNC_SECRET_VARIABLE, node_status, proxy_table
from strangler.sync.errors import ReceiverError, SyncError
from strangler.sync.status_document import Registration, SyncStatus

__all__ = ["NameProblem", "Preflight", "preflight"]


@dataclass(frozen=True)
class NameProblem:
    """A name of the plan that the running system does not know: where, what, what to fix."""

    field: str
    value: str
    problem: str

    def render(self, path: Path) -> str:
        return f"{path}: {self.field}: {self.value!r}: {self.problem}"


@dataclass
class Preflight:
    problems: list[NameProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What could not be checked, though nothing was wrong (a node older than the check)."""
    checked: list[str] = field(default_factory=list)
    """What was checked and found matching, one line each."""


def preflight(
    plan: Plan, *, admin_url: str, session: requests.Session, secret: str | None = None
) -> Preflight:
    """Check the plan's routes, upstreams, sync names and models; ``secret``: the sync secret
    the status reads are signed with, else ``$STRANGLER_SYNC_SECRET``."""
    found = Preflight()
    _check_proxy(plan, admin_url, session, found)
    if secret is None:
        secret = os.environ.get(SYNC_SECRET_VARIABLE, "")
    if not secret:
        found.problems.append(
            NameProblem(
                "nodes",
                ", ".join(plan.nodes),
                f"set {SYNC_SECRET_VARIABLE} to check "
                "the nodes' sync names (their status reads are signed with it)",
            )
        )
    else:
        legacy = _status(plan, plan.legacy, plan.service, secret, session, found)
        service = _status(plan, plan.service, plan.legacy, secret, session, found)
        if legacy is not None and service is not None:
            _check_models(plan, legacy, service, found)
    if _reverses(plan):
        _check_write_guard_names(plan, found)
    return found


def _key_field(plan: Plan, node: str, name: str) -> str:
    """``nodes.NODE.NAME``, saying so when it is unset and the key stands in for it."""
    unset = getattr(plan.nodes[node], name) is None
    return f"nodes.{node}.{name}" + (" (unset: the key)" if unset else "")


def _reverses(plan: Plan) -> bool:
    return any(step.kind in ("cutover", "reverse_sync") for step in plan.steps)


def _check_proxy(plan: Plan, admin_url: str, session: requests.Session, found: Preflight) -> None:
    try:
        table = proxy_table(admin_url, session)
    except (requests.RequestException, ValueError) as exc:
        found.problems.append(
            NameProblem(
                "routes",
                ", ".join(plan.routes),
                f"the proxy's route table could not "
                f"be read at {admin_url} ({exc}): start the proxy, or pass --admin",
            )
        )
        return
    upstream = plan.upstream_of(plan.service)
    for index, route in enumerate(plan.routes):
        owner = table.owners.get(route)
        if owner is None:
            known = ", ".join(sorted(table.owners)) or "none"
            found.problems.append(
                NameProblem(
                    f"routes[{index}]",
                    route,
                    "not a route of the proxy's table "
                    f"(its routes: {known}): name the route as the table does",
                )
            )
        elif owner != upstream:
            found.problems.append(
                NameProblem(
                    _key_field(plan, plan.service, "upstream"),
                    upstream,
                    f"the proxy's route {route!r} moves to upstream {owner!r}: set "
                    f"nodes.{plan.service}.upstream: {owner}, or make {upstream!r} "
                    "the route's owner in the table",
                )
            )
    legacy = plan.upstream_of(plan.legacy)
    if table.legacy != legacy:
        found.problems.append(
            NameProblem(
                _key_field(plan, plan.legacy, "upstream"),
                legacy,
                f"the proxy's legacy upstream is {table.legacy!r}: set "
                f"nodes.{plan.legacy}.upstream: {table.legacy}",
            )
        )
    if not found.problems:
        found.checked.append(
            f"proxy: routes {', '.join(plan.routes)} move from upstream {legacy} to {upstream}"
        )


def _status(
    plan: Plan, node: str, other: str, secret: str, session: requests.Session, found: Preflight
) -> SyncStatus | None:
    """``node``'s status, read as ``other`` would call it; ``None`` with the problem found."""
    url, name, caller = plan.nodes[node].url, plan.peer_of(node), plan.peer_of(other)
    try:
        return node_status(url, name, caller, session, secret=secret)
    except ReceiverError as exc:
        if exc.code == "wrong_receiver":
            problem = NameProblem(
                _key_field(plan, node, "peer"),
                name,
                f"the sync node at {url} has another name ({exc.message}): "
                "set the node's STRANGLER_SYNC['node'] here",
            )
        elif exc.code == "unknown_sender":
            problem = NameProblem(
                _key_field(plan, other, "peer"),
                caller,
                f"{node}'s sync node at {url} has no such peer "
                f"({exc.message}): set the name {node} lists in its "
                "STRANGLER_SYNC['peers'], or add this one there",
            )
        else:
            problem = NameProblem(
                f"nodes.{node}.url",
                url,
                f"its sync node refused the status read ({exc.message}); "
                f"is {SYNC_SECRET_VARIABLE} the nodes' sync secret?",
            )
    except SyncError as exc:  # unreachable, or not a status document
        problem = NameProblem(
            f"nodes.{node}.url",
            url,
            f"its sync status could not be read ({exc.message}): start the node, or fix the URL",
        )
    found.problems.append(problem)
    return None


def _check_models(plan: Plan, legacy: SyncStatus, service: SyncStatus, found: Preflight) -> None:
    """The plan's models travel from the legacy node to the service (and back, for a plan
    with a cutover), as both nodes' registrations say."""
    legacy_peer, service_peer = plan.peer_of(plan.legacy), plan.peer_of(plan.service)
    if legacy.registration is None or service.registration is None:
        older = plan.legacy if legacy.registration is None else plan.service
        found.notes.append(
            f"models not checked: {older}'s sync node reports no registration (an older "
            "strangler.sync)"
        )
        if legacy.stream_to(service_peer) is None:
            found.problems.append(
                NameProblem(
                    _key_field(plan, plan.service, "peer"),
                    service_peer,
                    f"{plan.legacy}'s sync node sends nothing to it: add it to that "
                    "node's STRANGLER_SYNC['outbound'] ('to')",
                )
            )
        return
    before = len(found.problems)
    for index, model in enumerate(plan.models):
        where = f"models[{index}]"
        problem = _travels(
            model, legacy_peer, legacy.registration, service_peer, service.registration, back=False
        )
        if problem is None and _reverses(plan):
            problem = _travels(
                model,
                legacy_peer,
                legacy.registration,
                service_peer,
                service.registration,
                back=True,
            )
        if problem is not None:
            found.problems.append(NameProblem(where, model, problem))
    if len(found.problems) == before:
        way = " and back" if _reverses(plan) else ""
        found.checked.append(
            f"sync: nodes {legacy_peer} and {service_peer} know each other; "
            f"{', '.join(plan.models)} travel {legacy_peer} -> {service_peer}{way}"
        )


def _travels(
    model: str,
    legacy_peer: str,
    legacy: Registration,
    service_peer: str,
    service: Registration,
    *,
    back: bool,
) -> str | None:
    """What keeps ``model`` (the legacy node's label) from travelling, or ``None``.

    Forwards the legacy node must send it to the service and the service accept that table;
    back the legacy node must accept it from the service and the service send that table."""
    own, other = (legacy.receives, service.sends) if back else (legacy.sends, service.receives)
    way = "back (the cutover's stream back)" if back else "forwards"
    entry, verb = ("inbound", "accepts") if back else ("outbound", "sends")
    mine = [t for t in own if t.peer == service_peer and t.model == model]
    if not mine:
        direction = f"from {service_peer}" if back else f"to {service_peer}"
        return (
            f"{legacy_peer} {verb} no {model} {direction} ({way}): add it to {legacy_peer}'s "
            f"STRANGLER_SYNC['{entry}'], or name a model it {verb}"
        )
    table = mine[0].table
    if not any(t.peer == legacy_peer and t.table == table for t in other):
        entry, verb = ("outbound", "sends") if back else ("inbound", "accepts")
        direction = f"to {legacy_peer}" if back else f"from {legacy_peer}"
        return (
            f"{service_peer} {verb} no {table} {direction} ({way}): add it to "
            f"{service_peer}'s STRANGLER_SYNC['{entry}']"
        )
    return None


def _check_write_guard_names(plan: Plan, found: Preflight) -> None:
    """The proxy refuses a table giving the service the writes unless it can read the stream
    back, and reads it by upstream names: its upstream must be its sync name, and so on."""
    for node in (plan.service, plan.legacy):
        upstream, peer = plan.upstream_of(node), plan.peer_of(node)
        if upstream != peer:
            found.problems.append(
                NameProblem(
                    _key_field(plan, node, "upstream"),
                    upstream,
                    f"differs from nodes.{node}.peer {peer!r}; the proxy checks the "
                    "cutover's stream back by upstream names (docs/proxy.md, the "
                    "write owner), so give the upstream the node's sync name",
                )
            )
