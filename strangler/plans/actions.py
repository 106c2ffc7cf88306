"""The real :class:`~strangler.plans.targets.Actions`: the proxy's admin API for routes and
write holds, each node's management commands for the sync, its status endpoint for drains.

Nodes are driven through their own ``manage`` command line (the plan's ``nodes.*.manage``):
the toolkit may not import the projects, and an operator can point it at ``kubectl exec``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Mapping

import requests

from strangler.environment import path_with_own_python
from strangler.plans.figures import collect
from strangler.plans.schema import Plan
from strangler.plans.targets import Direction, Side, StepFailed
from strangler.proxy_admin import admin_headers

__all__ = ["LiveActions"]

# The admin API answers from memory after an fsync of the route table: seconds at worst.
ADMIN_TIMEOUT_SECONDS = (2.0, 30.0)
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
    ) -> None:
        self.plan = plan
        self.admin_url = admin_url.rstrip("/")
        self.session = session
        self.env = dict(os.environ if env is None else env)
        self.env["PATH"] = path_with_own_python(self.env.get("PATH", ""))
        self.log: list[str] = []

    # -- the proxy --------------------------------------------------------------------
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

    def hold_writes(self, *, seconds: float) -> None:
        for route in self.plan.routes:
            self._admin("POST", f"/routes/{route}/hold", {"seconds": seconds})
        self.log.append(f"writes held on {', '.join(self.plan.routes)} (<= {seconds:g} s)")

    def release_writes(self) -> None:
        for route in self.plan.routes:
            self._admin("POST", f"/routes/{route}/release", {})
        self.log.append("writes released")

    def _admin(self, method: str, path: str, body: dict[str, object]) -> None:
        try:
            response = self.session.request(
                method,
                self.admin_url + path,
                json=body,
                headers=admin_headers(self.env),
                timeout=ADMIN_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise StepFailed(f"the proxy's admin API at {self.admin_url}: {exc}") from exc
        if response.status_code >= 400:
            raise StepFailed(
                f"{method} {self.admin_url}{path} answered {response.status_code}: "
                f"{response.text[:300]}"
            )

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
