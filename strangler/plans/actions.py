"""The real :class:`~strangler.plans.targets.Actions`: the proxy's admin API for routes and
write holds, each node's management commands for the sync, its status endpoint for drains.

With the shared control store (``STRANGLER_STORE_URL``) the proxy is a fleet of replicas: a
hold counts only once every replica acknowledged it, and a route change only once every
replica serves the new table. The admin API says so in its answer (a hold it could not get
acknowledged is ``503 fleet_not_acknowledged``); the plan checks the store itself as well
(``wait_for_fleet``), so an admin API that answered early cannot let a step go on. Changes
carry ``X-Strangler-Actor: plan:<plan> by <operator>`` into the store's audit trail.

Nodes are driven through their own ``manage`` command line (the plan's ``nodes.*.manage``):
the toolkit may not import the projects, and an operator can point it at ``kubectl exec``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from strangler.control import StoreError
from strangler.environment import path_with_own_python
from strangler.plans.figures import collect
from strangler.plans.fleet_counts import unanswered_writes
from strangler.plans.schema import Plan
from strangler.plans.targets import Direction, FleetNotConverged, Side, StepFailed
from strangler.proxy_admin import admin_headers, operator

if TYPE_CHECKING:
    from strangler.control import ControlStore

__all__ = ["FLEET_ACK_SECONDS", "FLEET_CONVERGE_SECONDS", "LiveActions"]

# The admin API answers from memory after an fsync of the route table: seconds at worst. In
# store mode a hold answers once the fleet acknowledged it, within its own 5 s bound.
ADMIN_TIMEOUT_SECONDS = (2.0, 30.0)
# A replica acknowledges a hold the moment it installs it (pushed by NOTIFY, milliseconds);
# the admin API waits 5 s for the whole fleet (the proxy's FLEET_ACK_SECONDS) and the plan's
# own check of the store allows as long: a replica silent that long is cut off or stopped.
FLEET_ACK_SECONDS = 5.0
# A route change reaches every replica within 1 s (the p99 bound); five times that
# means a replica is not taking changes, and the step must not go on as if it were.
FLEET_CONVERGE_SECONDS = 5.0
_T = TypeVar("_T")
# The admin API's answer when a hold or release is written but some replica did not
# acknowledge it in time.
_NOT_ACKNOWLEDGED = "fleet_not_acknowledged"
# Backfill and reconcile at demo size take seconds; at a million rows, minutes. An hour is
# the bound past which a step is stuck, not slow.
COMMAND_TIMEOUT_SECONDS = 3600.0
# Rows still in flight get this long to arrive before a reconcile labels them: a relay pass
# runs on every nudge and every 10 s (strangler.sync.schedule).
RECONCILE_SETTLE = 15.0


class LiveActions:
    def __init__(
        self,
        plan: Plan,
        *,
        admin_url: str,
        session: requests.Session,
        env: Mapping[str, str] | None = None,
        store: ControlStore | None = None,
    ) -> None:
        self.plan = plan
        self.admin_url = admin_url.rstrip("/")
        self.session = session
        self.env = dict(os.environ if env is None else env)
        self.env["PATH"] = path_with_own_python(self.env.get("PATH", ""))
        self.store = store
        self.actor = f"plan:{plan.name} by {operator(self.env)}"
        self.log: list[str] = []

    # -- the proxy ----------------------------------------------------------------------
    def set_routes(self, *, mode: str, percent: float | None, fallback: bool, writer: Side) -> None:
        plan = self.plan
        write_owner = plan.upstream_of(plan.service if writer == "service" else plan.legacy)
        change: dict[str, object] = {
            "mode": mode,
            "fallback": fallback,
            "write_owner": write_owner,
            "force": True,
        }
        if percent is not None:
            change["canary_percent"] = percent
        for route in self.plan.routes:
            self._admin("PATCH", f"/routes/{route}", change)
        self.log.append(f"routes {', '.join(self.plan.routes)}: {change}")
        if self.store is not None:
            version = self._store_call(self.store.table_version)
            self._await_fleet(
                f"route table version {version} (routes {', '.join(plan.routes)}: mode {mode})",
                table_version=version,
                timeout=FLEET_CONVERGE_SECONDS,
            )

    def hold_writes(self, *, seconds: float) -> None:
        versions: list[object] = []
        for route in self.plan.routes:
            answer = self._admin("POST", f"/routes/{route}/hold", {"seconds": seconds})
            versions.append(answer.get("holds_version"))
        self.log.append(f"writes held on {', '.join(self.plan.routes)} (<= {seconds:g} s)")
        if self.store is not None:
            # Every replica's acknowledgement, read from the store whatever the admin API
            # said: each hold's version, or the store's (at least as new) when not given.
            known = [v for v in versions if isinstance(v, int) and not isinstance(v, bool)]
            if len(known) < len(versions):
                known.append(self._store_call(self.store.holds_version))
            self._await_fleet(
                f"the write hold on {', '.join(self.plan.routes)}",
                holds_version=max(known),
                timeout=FLEET_ACK_SECONDS,
            )

    def unanswered_writes(self) -> str | None:
        return unanswered_writes(
            self.plan, admin_url=self.admin_url, session=self.session, store=self.store
        )

    def release_writes(self) -> None:
        for route in self.plan.routes:
            answer = self._admin("POST", f"/routes/{route}/release", {}, tolerate=_NOT_ACKNOWLEDGED)
            if answer.get("code") == _NOT_ACKNOWLEDGED:
                # Released in the store; a replica that has not taken it yet holds the
                # route's writes until the hold's own bound.
                self.log.append(f"release of {route}: {answer.get('message')}")
        self.log.append("writes released")

    def _admin(
        self, method: str, path: str, body: dict[str, object], *, tolerate: str = ""
    ) -> dict[str, Any]:
        """The admin API's JSON answer; :class:`StepFailed` on any error but ``tolerate``."""
        try:
            response = self.session.request(
                method,
                self.admin_url + path,
                json=body,
                headers=admin_headers(self.env, actor=self.actor),
                timeout=ADMIN_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise StepFailed(f"the proxy's admin API at {self.admin_url}: {exc}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        answer: dict[str, Any] = payload if isinstance(payload, dict) else {}
        if response.status_code >= 400 and not (tolerate and answer.get("code") == tolerate):
            if answer.get("code") == _NOT_ACKNOWLEDGED:
                raise FleetNotConverged(
                    f"{method} {self.admin_url}{path}: not every proxy replica acknowledged "
                    f"it: {answer.get('message')}"
                )
            raise StepFailed(
                f"{method} {self.admin_url}{path} answered {response.status_code}: "
                f"{response.text[:300]}"
            )
        return answer

    def _await_fleet(
        self,
        what: str,
        *,
        timeout: float,
        table_version: int | None = None,
        holds_version: int | None = None,
    ) -> None:
        """Wait until every member of the fleet serves these versions; else name who does not."""
        store = self.store
        assert store is not None
        ack = self._store_call(
            lambda: store.wait_for_fleet(
                table_version=table_version, holds_version=holds_version, timeout=timeout
            )
        )
        if not ack.acknowledged and not ack.missing:
            raise FleetNotConverged(
                f"{what}: no proxy replica is a member of the fleet in the control store at "
                f"{store.where}, so none can be said to serve it (is every proxy started with "
                "STRANGLER_STORE_URL?)"
            )
        if not ack.complete:
            raise FleetNotConverged(
                f"{what}: not acknowledged within {timeout:g} s by {ack.describe_missing()} "
                f"({len(ack.acknowledged)} of {len(ack.acknowledged) + len(ack.missing)} "
                "replicas did)"
            )
        self.log.append(f"{what}: served by all {len(ack.acknowledged)} replica(s)")

    def _store_call(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except StoreError as exc:
            raise StepFailed(exc.message) from exc

    # -- the sync nodes ---------------------------------------------------------------
    def _ends(self, direction: Direction) -> tuple[str, str]:
        """The sending node (its key in the plan's ``nodes``) and the receiver's sync name."""
        legacy, service = self.plan.legacy, self.plan.service
        source, receiver = (legacy, service) if direction == "forward" else (service, legacy)
        return source, self.plan.peer_of(receiver)

    def set_stream(self, direction: Direction, *, enabled: bool) -> None:
        source, peer = self._ends(direction)
        self._manage(source, "sync_stream", peer, "--enable" if enabled else "--disable")

    def backfill(self) -> None:
        source, peer = self._ends("forward")
        self._manage(source, "sync_backfill", "--to", peer)

    def reconcile(self, direction: Direction, *, changed_only: bool = False) -> int:
        """Compare content, settle what diverged with the write owner's copy, verify again.

        ``--full`` compares the rows' values, not only keys and versions: a row written on
        both sides at the same version (a canary write on the service and a monolith write)
        differs at equal versions, and neither side ever applies the other's copy. Every
        synced table of the stream, in full each time: at demo size that takes seconds (the
        bench has 25M rows at the keys level under 10 s), so ``changed_only`` is served by it.

        The direction's sender owns its writes whenever the plan reconciles it (before
        cutover the monolith; from cutover on, and while a rollback drains it, the service),
        so its copy wins (``--prefer``). When anything diverged, a second pass measures what
        the repair left: that pass is the reconcile the gates read.
        """
        source, peer = self._ends(direction)
        found = self._reconcile(source, peer, "--repair", "--prefer", self.plan.peer_of(source))
        if not found:
            return 0
        self.log.append(f"{found} row(s) differed: repaired with {source}'s copy")
        return self._reconcile(source, peer)

    def _reconcile(self, source: str, peer: str, *extra: str) -> int:
        """One ``sync_reconcile --full`` on ``source``: the rows labelled diverged."""
        args = ["sync_reconcile", "--with", peer, "--full", "--json"]
        args += ["--settle", str(RECONCILE_SETTLE), *extra]
        output = self._manage(source, *args, ok_codes=(0, 1))
        try:
            reports = json.loads(output)["reports"]
            return sum(int(report["labels"]["diverged"]) for report in reports)
        except (ValueError, KeyError, TypeError) as exc:
            raise StepFailed(f"reconcile on {source} gave no readable report: {exc}") from exc

    def drained(self, direction: Direction, *, since: float) -> bool:
        snapshot = collect(self.plan, admin_url=self.admin_url, session=self.session)
        stream = snapshot.forward if direction == "forward" else snapshot.reverse
        if stream is None or stream.backlog is None or stream.lag_seconds is None:
            return False
        heartbeat_at = time.time() - stream.lag_seconds
        return stream.backlog == 0 and heartbeat_at >= since

    def _manage(self, node: str, *args: str, ok_codes: tuple[int, ...] = (0,)) -> str:
        command = [*shlex.split(self.plan.nodes[node].manage), *args]
        self.log.append(f"{node}: {shlex.join(command)}")
        try:
            result = subprocess.run(  # noqa: S603 - the plan's own command line
                command,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StepFailed(f"{shlex.join(command)}: {exc}") from exc
        if result.returncode not in ok_codes:
            raise StepFailed(
                f"{shlex.join(command)} exited with {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()[-500:]}"
            )
        return result.stdout
