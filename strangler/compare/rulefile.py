"""Routes and comparison rules for a replay, from a YAML file shaped like the route table.

```yaml
compare:                       # the defaults, for every route
  ignore: ["**.served_at"]
routes:
  - name: catalog-products
    prefix: /api/v1/products/  # or path: /api/v1/products/<int:id>/ (Django-style)
    compare:                   # this route's rules (strangler.compare.rules)
      critical: ["results[].price"]
```

The proxy's route table has this shape, so it can be given as it is: fields other than
``name``, ``path``, ``prefix`` and ``compare`` are left alone. A replayed request takes its
route from the capture record when it has one (the proxy wrote it), else from the first
route here that matches its path (an exact ``path``, then the most literal characters, a
pattern before a prefix, then file order), else from its own path with ids replaced:
``/api/v1/products/42/`` is the route ``/api/v1/products/{id}/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler.compare.captures import CaptureRecord
from strangler.compare.compiled import RuleBook
from strangler.compare.errors import RuleRefused, RulesInvalid
from strangler.compare.rules import CompareRules, parse_rules

__all__ = ["ReplayRoute", "RouteNamer", "load_rules", "template_route"]

_CONVERTERS = {
    "int": "[0-9]+",
    "str": "[^/]+",
    "slug": "[-a-zA-Z0-9_]+",
    "uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "path": ".+",
}
_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
_UUID = re.compile(_CONVERTERS["uuid"], re.IGNORECASE)
_VERSION = re.compile(r"v[0-9]+")


@dataclass(frozen=True, slots=True)
class ReplayRoute:
    name: str
    pattern: re.Pattern[str]
    exact: bool  # a whole path without converters
    literal: int  # characters outside converters: more is more specific
    prefix: bool
    order: int


def _route(entry: Mapping[str, Any], index: int, where: str) -> ReplayRoute:
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise RulesInvalid(f"{where}.name", "every route needs a name")
    path, prefix = entry.get("path"), entry.get("prefix")
    if (path is None) == (prefix is None):
        raise RulesInvalid(where, "give exactly one of 'path' (whole path) or 'prefix'")
    text = path if path is not None else prefix
    if not isinstance(text, str) or not text.startswith("/"):
        raise RulesInvalid(f"{where}.{'path' if path else 'prefix'}", "must start with /")
    if prefix is not None:
        return ReplayRoute(name, re.compile(re.escape(text)), False, len(text), True, index)
    regex, literal, position = "", 0, 0
    for match in _PARAMETER.finditer(text):
        regex += re.escape(text[position : match.start()])
        literal += match.start() - position
        converter = match.group(1) or "str"
        if converter not in _CONVERTERS:
            raise RulesInvalid(f"{where}.path", f"unknown converter {converter!r}")
        regex += f"(?:{_CONVERTERS[converter]})"
        position = match.end()
    regex += re.escape(text[position:])
    literal += len(text) - position
    exact = position == 0
    return ReplayRoute(name, re.compile(regex + r"\Z"), exact, literal, False, index)


def template_route(target: str) -> str:
    """A path's route when nothing names one: numeric, UUID and other id-like segments
    (any with a digit, but API versions such as ``v1``) become ``{id}``; no query."""
    path = target.split("?", 1)[0]
    segments = [
        "{id}"
        if segment
        and (
            _UUID.fullmatch(segment)
            or (any(c.isdigit() for c in segment) and not _VERSION.fullmatch(segment))
        )
        else segment
        for segment in path.split("/")
    ]
    return "/".join(segments)


class RouteNamer:
    def __init__(self, routes: Sequence[ReplayRoute] = ()) -> None:
        self.routes = sorted(routes, key=lambda r: (not r.exact, -r.literal, r.prefix, r.order))

    def name(self, record: CaptureRecord) -> str:
        if record.route:
            return record.route
        path = record.target.split("?", 1)[0]
        for route in self.routes:
            if route.pattern.match(path):
                return route.name
        return template_route(record.target)


def load_rules(path: Path) -> tuple[RuleBook, RouteNamer]:
    """The rule book and the route names of a rules file; ``RulesInvalid`` names the file
    and the field."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesInvalid(str(path), f"cannot read the rules file: {exc}") from exc
    except YAMLError as exc:
        raise RulesInvalid(str(path), f"not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesInvalid(str(path), "must be a mapping with 'compare' and/or 'routes'")
    defaults = parse_rules(data.get("compare"), source=f"{path}: compare")
    entries = data.get("routes") or []
    if not isinstance(entries, list):
        raise RulesInvalid(f"{path}: routes", "must be a list of routes with name and path")
    routes: list[ReplayRoute] = []
    rules: dict[str, CompareRules] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: routes[{index}]"
        if not isinstance(entry, dict):
            raise RulesInvalid(where, "must be a mapping with name and path or prefix")
        route = _route(entry, index, where)
        routes.append(route)
        if "compare" in entry:
            rules[route.name] = parse_rules(
                entry["compare"], source=f"{where} ({route.name}).compare"
            )
    try:
        book = RuleBook(defaults, rules)
    except RuleRefused as exc:
        raise RuleRefused(f"{path}: {exc.field}", exc.reason) from exc
    return book, RouteNamer(routes)
