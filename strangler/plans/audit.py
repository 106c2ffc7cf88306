"""A plan's steps and rollbacks in the route table's audit trail, beside the route changes
they make (which the admin API records itself, as ``plan:<name> by <operator>``).

Where the table lives: the shared control store when ``STRANGLER_STORE_URL`` names one
(written directly), else the file beside the proxy's table. A plan reaches that proxy only
through its admin API (it may run on another host, and only the proxy knows which file it
serves), so the entry is sent there (``POST /audit``, with the admin token) and the proxy
appends it to its trail. An entry that cannot be recorded does not undo the step: the
runner says so in its outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import requests

from strangler.control import ControlStore, StoreError
from strangler.proxy_admin import admin_headers, operator

__all__ = ["PlanAudit", "plan_audit"]

PlanAudit = Callable[[str, str | None, str | None], str | None]
"""``(action, from_step, to_step)`` recorded as ``plan.<action>``; a warning, or ``None``."""

VIA = "plan"
# The proxy appends one line under a lock: a second is plenty, ten is a proxy in trouble.
AUDIT_TIMEOUT_SECONDS = 10.0


def plan_audit(
    plan: str,
    *,
    admin_url: str,
    session: requests.Session,
    store: ControlStore | None,
    env: Mapping[str, str] | None = None,
) -> PlanAudit:
    """The recorder of ``plan``'s transitions, as the CLI user (``$STRANGLER_OPERATOR``)."""
    actor = operator(env)

    def record(action: str, before: str | None, after: str | None) -> str | None:
        if store is not None:
            try:
                store.record(
                    actor=actor, via=VIA, action=f"plan.{action}", subject=f"plan:{plan}",
                    before=before, after=after,
                )  # fmt: skip
            except StoreError as exc:
                return f"not recorded in the control store's audit trail: {exc.message}"
            return None
        url = f"{admin_url.rstrip('/')}/audit"
        body = {"action": f"plan.{action}", "plan": plan, "before": before, "after": after}
        try:
            response = session.post(
                url, json=body, headers=admin_headers(env, actor=actor),
                timeout=AUDIT_TIMEOUT_SECONDS,
            )  # fmt: skip
        except requests.RequestException as exc:
            return f"not recorded in the audit trail: {url} did not answer: {exc}"
        if response.status_code != 201:
            return (
                f"not recorded in the audit trail: {url} answered {response.status_code}: "
                + (response.text[:200])
            )
        return None

    return record
