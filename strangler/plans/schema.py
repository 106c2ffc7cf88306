"""The plan file (``migration_plans/NAME.yaml``), validated on load.

A plan names the routes that move, the two sync nodes, and the ordered steps. Each step's
``gate`` is what must hold *while the step is current* before ``plan next`` applies the next
step: a shadow step's gate is the difference rate its shadowing measured, a canary step's the
service's error rate and latency at that percentage. An error names the file, the entry and
the field, and the plan is refused as a whole.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from strangler.envsubst import ExpansionError, expand_values
from strangler.yaml_files import first_error, read_mapping

__all__ = [
    "STEP_KINDS",
    "Condition",
    "Figures",
    "Gate",
    "Node",
    "Plan",
    "PlanError",
    "Step",
    "load_plan",
]

STEP_KINDS = (
    "backfill",
    "sync",
    "verify",
    "shadow",
    "canary",
    "cutover",
    "reverse_sync",
    "decommission",
)
StepKind = Literal[
    "backfill", "sync", "verify", "shadow", "canary", "cutover", "reverse_sync", "decommission"
]
# Figures a gate may test, and the bound each takes (see strangler.plans.figures).
Figure = Literal[
    "sync_lag_seconds",
    "sync_backlog",
    "sync_dead_letters",
    "reverse_sync_lag_seconds",
    "reverse_sync_backlog",
    "reconcile_diverged",
    "shadow_difference_rate",
    "service_error_rate",
    "service_error_rate_excess",
    "service_latency_p99_ratio",
]


# A sync node's name, as strangler.sync.config accepts it.
_NODE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"


class PlanError(ValueError):
    """A plan file that cannot be used; the message names the file, entry and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """``figure`` must be at most ``max``, measured over at least ``min_count`` events.

    ``min_count`` applies to figures counted over requests or comparisons since the step
    began (shadow comparisons, service requests); fewer is "inconclusive", never "passed".
    """

    figure: Figure
    max: float = Field(ge=0)
    min_count: int = Field(default=0, ge=0)


class Gate(_Strict):
    conditions: tuple[Condition, ...] = ()
    # A gate with conditions also needs the step to have been current this long: a canary
    # that has served for ten seconds has not shown its error rate yet.
    min_seconds: float = Field(default=0, ge=0)


class Step(_Strict):
    kind: StepKind
    name: str = ""
    percent: Annotated[float, Field(gt=0, lt=100)] | None = None
    gate: Gate = Gate()

    @model_validator(mode="after")
    def _percent_only_for_canary(self) -> Step:
        if self.kind == "canary" and self.percent is None:
            raise ValueError("a canary step needs 'percent' (0 < percent < 100)")
        if self.kind != "canary" and self.percent is not None:
            raise ValueError(f"'percent' belongs to canary steps, not to {self.kind}")
        if not self.name:
            label = f"canary-{self.percent:g}" if self.kind == "canary" else self.kind
            object.__setattr__(self, "name", label)
        return self


class Node(_Strict):
    """A Django project taking part in the sync: how to reach it, run its commands, and the
    names the other parts know it by.

    ``url`` may name environment variables, ``${NAME}`` or ``${NAME:-default}``, so one plan
    serves every environment (ports and hosts differ between a laptop and production): like
    every string value of the file, it expands on load (:mod:`strangler.envsubst`).
    ``peer`` is its name as a sync node (its ``STRANGLER_SYNC['node']``, the name the other
    node lists in its ``peers``) and ``upstream`` its name in the proxy's route table; each
    defaults to the entry's key in ``nodes`` (:meth:`Plan.peer_of`, :meth:`Plan.upstream_of`).
    """

    url: str = Field(pattern=r"^https?://")
    manage: str = Field(min_length=1, description="command prefix, e.g. 'python -m monolith'")
    peer: str | None = Field(default=None, pattern=_NODE_NAME)
    upstream: str | None = Field(default=None, min_length=1)


class Figures(_Strict):
    """Where the gates' traffic figures come from.

    ``prometheus``: a Prometheus server that scrapes every proxy replica's admin ``/metrics``
    as ``job`` (the way Flagger and Argo Rollouts judge a step); ``$STRANGLER_PROMETHEUS_URL``
    serves when the plan names none. Without either, the plan asks every replica itself
    (``strangler.plans.fleet_counts``). ``${NAME}`` and ``${NAME:-default}`` expand as in
    ``nodes.*.url``.
    """

    prometheus: str | None = Field(default=None, pattern=r"^https?://")
    job: str = Field(default="strangler-proxy", min_length=1)


class Plan(_Strict):
    version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    description: str = ""
    routes: tuple[str, ...] = Field(min_length=1)
    service: str = Field(min_length=1, description="the node (in 'nodes') taking the routes over")
    legacy: Literal["monolith"] | str = "monolith"
    models: tuple[str, ...] = Field(min_length=1, description="app_label.Model that move")
    nodes: dict[str, Node]
    # Bounds of the cutover's write hold and drain (strangler.plans.targets.move_to).
    cutover_hold_seconds: float = Field(default=10, gt=0, le=120)
    figures: Figures = Figures()
    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        for role in (self.legacy, self.service):
            if role not in self.nodes:
                raise ValueError(f"nodes: no entry for {role!r} (the legacy and the service)")
        for what, name_of in (("peer", self.peer_of), ("upstream", self.upstream_of)):
            if name_of(self.legacy) == name_of(self.service):
                raise ValueError(
                    f"nodes: {self.legacy} and {self.service} have the same {what} name "
                    f"{name_of(self.legacy)!r}; each side has its own"
                )
        names = [step.name for step in self.steps]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"steps: names must be unique; repeated: {', '.join(duplicated)}")
        percents = [step.percent for step in self.steps if step.percent is not None]
        if percents != sorted(percents) or len(set(percents)) != len(percents):
            raise ValueError("steps: canary percentages must rise from one canary to the next")
        kinds = [step.kind for step in self.steps]
        order = {kind: i for i, kind in enumerate(STEP_KINDS)}
        for before, after in itertools.pairwise(kinds):
            if order[after] < order[before]:
                raise ValueError(
                    f"steps: {after!r} cannot follow {before!r}; kinds go in the order "
                    f"{', '.join(STEP_KINDS)}"
                )
        return self

    def peer_of(self, node: str) -> str:
        """The sync node name of ``node`` (a key of ``nodes``): its ``peer``, else the key."""
        return self.nodes[node].peer or node

    def upstream_of(self, node: str) -> str:
        """The proxy upstream name of ``node``: its ``upstream``, else the key."""
        return self.nodes[node].upstream or node


def load_plan(path: Path) -> Plan:
    """Read and validate ``path``; raises :class:`PlanError` saying what to fix."""
    data = read_mapping(
        path,
        error=PlanError,
        what="the plan",
        expected="a mapping with 'name', 'routes' and 'steps'",
    )
    try:
        expanded = expand_values(data)
    except ExpansionError as exc:
        raise PlanError(f"{path}: {_location(data, exc.loc)}: {exc.message}") from exc
    try:
        return Plan.model_validate(expanded)
    except ValidationError as exc:
        loc, message = first_error(exc)
        raise PlanError(f"{path}: {_location(data, loc)}: {message}") from exc


def _location(data: Any, loc: tuple[int | str, ...]) -> str:
    """``steps[3] (canary-50).gate.conditions[0].max``: indices with the step's name."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node) and isinstance(node[part], dict):
                name = node[part].get("name") or node[part].get("kind")
                if name:
                    label += f" ({name})"
            parts.append(label)
        else:
            parts.append(f".{part}" if parts else str(part))
        node = _child(node, part)
    return "".join(parts) or "(top level)"


def _child(node: Any, key: int | str) -> Any:
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node[key]
    if isinstance(node, dict):
        return node.get(key)
    return None
