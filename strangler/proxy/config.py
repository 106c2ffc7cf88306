"""The route table file: its schema, and loading it with errors that name file, entry, field.

```yaml
version: 1
legacy: monolith                 # the upstream that is the monolith
upstreams:
  monolith: {url: "http://127.0.0.1:8100"}
  catalog:
    url: "http://127.0.0.1:8200"
    health_path: /healthz
    pool_size: 100
    timeouts: {connect: 2, read: 30, total: 60}
routes:
  - name: product-detail
    path: /api/v1/products/<int:id>/    # whole path, Django-style converters
    methods: [GET, HEAD]
    owner: catalog                      # the extracted service the route moves to
    mode: canary                        # who answers reads: monolith | shadow | canary | service
    canary_percent: 10
    fallback: true
    write_owner: monolith               # who takes POST, PUT, PATCH, DELETE (default: legacy)
  - name: catalog-api
    prefix: /api/v1/products/           # everything under it
    owner: catalog
    mode: shadow
    shadow: {sample_rate: 0.5, noise_sample_rate: 0.1}
    compare:                            # this route's rules (strangler.compare.rules)
      critical: ["results[].price"]
    capture: {sample_rate: 0.05}        # this route's share recorded for replay
compare:                                # the rules every route starts from
  ignore: ["**.served_at"]
capture:                                # recording requests for offline replay
  path: capture/requests.jsonl          # relative to STRANGLER_VAR_DIR
  sample_rate: 0.01
  redact: [card_number]                 # more field names whose values never reach the file
```
A route's entry is ``strangler.proxy.route_config``; an upstream's (one URL, a list of
endpoints, or DNS discovery) is ``strangler.proxy.upstream_config``. Any string value may name
environment variables, ``${NAME}`` or ``${NAME:-default}`` (``url:
"http://127.0.0.1:${CATALOG_PORT:-8200}"``), expanded when the table is parsed. Paths no
route matches go to the ``legacy`` upstream; paths under ``internal_prefixes`` (default
``/internal/``) are never served to clients.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler.compare import CompareRules, RuleBook, RuleRefused
from strangler.envsubst import ExpansionError, expand_values
from strangler.proxy.errors import ConfigError
from strangler.proxy.route_config import RouteConfig, StrictModel
from strangler.proxy.upstream_config import (
    DiscoveryConfig,
    OutlierConfig,
    Timeouts,
    UpstreamConfig,
)

__all__ = [
    "CaptureConfig",
    "DiscoveryConfig",
    "OutlierConfig",
    "TableConfig",
    "Timeouts",
    "UpstreamConfig",
    "load_table_config",
    "parse_table_config",
]


class CaptureConfig(StrictModel):
    # Relative paths are under STRANGLER_VAR_DIR (default var/).
    path: str = "capture/requests.jsonl"
    # 1 % of a route at 100 req/s is ~86,000 records a day: ample for a replay.
    sample_rate: Annotated[float, Field(ge=0, le=1)] = 0.01
    # Header, query and body field names (any case) whose values are redacted, beyond the
    # credentials always redacted (cookies, authorization, tokens, passwords, CSRF).
    redact: list[str] = []
    max_body_bytes: Annotated[int, Field(ge=0, le=16 * 1024 * 1024)] = 16 * 1024
    max_file_bytes: Annotated[int, Field(ge=1024)] = 64 * 1024 * 1024
    backups: Annotated[int, Field(ge=0, le=1000)] = 5


class TableConfig(StrictModel):
    version: Literal[1] = 1
    legacy: str = "monolith"
    upstreams: dict[str, UpstreamConfig]
    routes: list[RouteConfig] = []
    # Paths only services call each other on (identity resolution, sync); a client asking
    # for one through the proxy gets 404, whatever spelling it uses.
    internal_prefixes: list[str] = ["/internal/"]
    # The comparison rules every route starts from (strangler.compare.rules).
    compare: CompareRules = CompareRules()
    # Recording a sampled share of requests for offline replay; off when left out.
    capture: CaptureConfig | None = None
    # After a write on a route whose reads may be answered by another side, the writer's
    # reads stay on the write owner this long (read your own writes; 0 turns it off). Keep
    # it above the sync's p99 lag: the plans' gates hold that under 10 s.
    read_your_writes_seconds: Annotated[int, Field(ge=0, le=3600)] = 15
    # The only cookies a request going to an extracted service keeps: the monolith's session
    # cookie and Authorization header never leave it (proxy.credentials). Django's CSRF
    # cookie by default, for services that check form tokens.
    service_cookies: list[str] = ["csrftoken"]

    @functools.cached_property
    def service_cookie_names(self) -> frozenset[bytes]:
        """``service_cookies`` as the header filter matches them (once per table)."""
        return frozenset(name.encode() for name in self.service_cookies)

    def rule_book(self) -> RuleBook:
        """The defaults and every route's rules, compiled (a refused rule raises)."""
        routes = {route.name: route.compare for route in self.routes if route.compare}
        return RuleBook(self.compare, routes)

    @model_validator(mode="after")
    def _consistent(self) -> TableConfig:
        if self.legacy not in self.upstreams:
            raise ValueError(f"legacy upstream {self.legacy!r} is not among the upstreams")
        seen: set[str] = set()
        for index, route in enumerate(self.routes):
            where = f"routes[{index}] ({route.name})"
            if route.name in seen:
                raise ValueError(f"{where}: the name is used by an earlier route")
            seen.add(route.name)
            if route.owner not in self.upstreams:
                raise ValueError(
                    f"{where}, field 'owner': {route.owner!r} is not an upstream "
                    f"(known: {', '.join(sorted(self.upstreams))})"
                )
            if route.owner == self.legacy and route.mode != "monolith":
                raise ValueError(
                    f"{where}, field 'mode': a route owned by the monolith can only be in "
                    f"mode 'monolith'; set 'owner' to the extracted service first"
                )
            self._write_owner_accepted(where, route)
            self._shadowed_writes_accepted(where, route)
        self._rules_accepted()
        return self

    def _write_owner_accepted(self, where: str, route: RouteConfig) -> None:
        writer = route.writer(self.legacy)
        if writer not in (self.legacy, route.owner):
            raise ValueError(
                f"{where}, field 'write_owner': {writer!r} is neither the legacy upstream "
                f"({self.legacy!r}) nor the route's owner ({route.owner!r})"
            )
        if writer != self.legacy and route.mode not in ("canary", "service"):
            raise ValueError(
                f"{where}, field 'write_owner': the owner can take the writes only once it "
                f"answers reads too (mode 'canary' or 'service', not {route.mode!r}): move "
                "reads first, writes last"
            )

    def _shadowed_writes_accepted(self, where: str, route: RouteConfig) -> None:
        if route.shadow.unsafe_methods and not self.upstreams[route.owner].sandbox:
            raise ValueError(
                f"{where}, field 'shadow.unsafe_methods': a shadowed write would also change "
                f"{route.owner!r}, which does not own the data; allowed only when that "
                "upstream is a sandbox (upstreams.<name>.sandbox: true)"
            )

    def _rules_accepted(self) -> None:
        """A rule that would hide a missing, extra or type change is refused, with the reason."""
        try:
            RuleBook(self.compare)
        except RuleRefused as exc:
            raise ValueError(f"field 'compare': {exc}") from exc
        for index, route in enumerate(self.routes):
            if route.compare is None:
                continue
            try:
                RuleBook(self.compare, {route.name: route.compare})
            except RuleRefused as exc:
                raise ValueError(f"routes[{index}] ({route.name}), field 'compare': {exc}") from exc


_INNER_FIELD = re.compile(r"^field '(?P<field>[^']+)': (?P<message>.*)$", re.DOTALL)


def _describe(error: ErrorDetails, data: object) -> str:
    entry, field = _entry_and_field(error["loc"], data)
    message = str(error["msg"]).removeprefix("Value error, ")
    # A model's own check names the field it refuses inside the message: put it in place.
    inner = _INNER_FIELD.match(message)
    if inner:
        field = f"{field}.{inner['field']}" if field else inner["field"]
        message = inner["message"]
    return _located(entry, field, message)


def _located(entry: str, field: str, message: str) -> str:
    parts = [p for p in (entry, f"field '{field}'" if field else "") if p]
    prefix = ", ".join(parts)
    return f"{prefix}: {message}" if prefix else message


def _entry_and_field(where: tuple[str | int, ...], data: object) -> tuple[str, str]:
    """``routes[0] (catalog-api)`` and ``shadow.sample_rate`` for a value's place."""
    loc = [str(part) for part in where]
    entry, field = "", ""
    if len(loc) >= 2 and loc[0] in ("routes", "upstreams"):
        entry = f"{loc[0]}[{loc[1]}]" if loc[0] == "routes" else f"upstreams.{loc[1]}"
        if loc[0] == "routes" and isinstance(data, dict):
            routes = data.get("routes")
            if isinstance(routes, list) and loc[1].isdigit() and int(loc[1]) < len(routes):
                route = routes[int(loc[1])]
                if isinstance(route, dict) and "name" in route:
                    entry += f" ({route['name']})"
        field = ".".join(loc[2:])
    elif loc:
        field = ".".join(loc)
    return entry, field


def parse_table_config(data: object, *, source: str) -> TableConfig:
    """Validate ``data`` (the parsed YAML); ``source`` names the file in errors.

    ``${NAME}`` and ``${NAME:-default}`` in its string values expand from the environment
    first (:mod:`strangler.envsubst`); the text the table came from keeps them.
    """
    try:
        data = expand_values(data)
    except ExpansionError as exc:
        entry, field = _entry_and_field(exc.loc, data)
        raise ConfigError(f"{source}: {_located(entry, field, exc.message)}") from exc
    try:
        return TableConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e, data) for e in exc.errors())
        raise ConfigError(f"{source}: {problems}") from exc


def load_table_config(path: Path) -> TableConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the route table: {exc.strerror}") from exc
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_table_config(data, source=str(path))
