"""``python -m strangler.proxy.check FILE``: validate a route table without starting anything.

It loads the file exactly as the proxy would (schema, then the compiled table) and reports
the table's findings: unreachable routes (errors) and overlaps between routes served
differently (warnings). ``strangler routes check`` and ``strangler routes set`` run this as a
process, since the toolkit may not import the proxy; ``--json`` is their format.

Exit status: 0 the table loads (warnings allowed); 1 it does not, or a route is unreachable;
2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from strangler.proxy.config import parse_table_config
from strangler.proxy.errors import ConfigError
from strangler.proxy.routing import CompiledRoute, Finding, RouteTable
from strangler.proxy.write_guard import check_writes_carried, streams_to_check
from strangler.servicekit.secret_settings import PROXY_SYNC_SECRET, SecretRefused, read_secrets

__all__ = ["CheckReport", "check_text", "describe_route", "main", "read_sides"]


@dataclass(frozen=True)
class CheckReport:
    source: str
    table: RouteTable | None = None
    error: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.table is not None

    @property
    def ok(self) -> bool:
        return self.valid and not any(f.severity == "error" for f in self.findings)


def read_sides(route: CompiledRoute, legacy: str) -> list[str]:
    """The upstreams that may answer the route's reads (a shadow's copy answers nobody)."""
    config = route.config
    if config.mode == "monolith" or config.mode == "shadow":
        return [legacy]
    if config.mode == "service":
        return [config.owner]
    if config.canary_percent <= 0:
        return [legacy]
    return [config.owner] if config.canary_percent >= 100 else [legacy, config.owner]


def describe_route(route: CompiledRoute, *, legacy: str) -> dict[str, object]:
    """A route's settings as the admin API and ``--json`` show them."""
    config = route.config
    return {
        "name": route.name,
        "pattern": route.pattern,
        "kind": route.kind,
        "methods": list(config.methods) if config.methods is not None else None,
        "owner": config.owner,
        "mode": config.mode,
        "canary_percent": config.canary_percent,
        "fallback": config.fallback,
        "shadow_sample_rate": config.shadow.sample_rate,
        "read_sides": read_sides(route, legacy),
        "write_owner": config.writer(legacy),
        "unsynced_writes_accepted": config.unsynced_writes_accepted,
    }


def check_text(text: str, *, source: str) -> CheckReport:
    """``source`` names the file in messages (the real file when ``text`` is a staged copy)."""
    try:
        data = YAML(typ="safe").load(text)
        table = RouteTable(parse_table_config(data, source=source), source=source)
        if streams_to_check(table.config):  # the secret is read only when a check needs it
            check_writes_carried(table.config, source=source, secret=_sync_secret())
    except YAMLError as exc:
        return CheckReport(source, error=f"{source}: not valid YAML: {exc}")
    except ConfigError as exc:
        return CheckReport(source, error=exc.message)
    return CheckReport(source, table=table, findings=table.findings())


def _sync_secret() -> str:
    """The sync secret the CLI reads the nodes' status with: the environment's, or the
    demo's in demo mode (the check then names what is missing)."""
    try:
        return read_secrets(os.environ, (PROXY_SYNC_SECRET,))[PROXY_SYNC_SECRET.name]
    except SecretRefused as exc:
        raise ConfigError(str(exc)) from None


def _as_json(report: CheckReport) -> str:
    table = report.table
    return json.dumps(
        {
            "file": report.source,
            "valid": report.valid,
            "ok": report.ok,
            "error": report.error,
            "legacy": table.legacy if table else None,
            # Where each upstream is, expanded in this environment: the CLI compares them
            # with a running proxy's before it changes that proxy's table.
            "upstreams": {name: u.source for name, u in table.config.upstreams.items()}
            if table
            else {},
            "findings": [
                {"severity": f.severity, "route": f.route, "message": f.message}
                for f in report.findings
            ],
            "routes": [describe_route(r, legacy=table.legacy) for r in table.routes]
            if table
            else [],
        },
        indent=2,
    )


def _as_text(report: CheckReport) -> str:
    if report.table is None:
        return f"invalid: {report.error}"
    errors = sum(f.severity == "error" for f in report.findings)
    warnings = len(report.findings) - errors
    routes = len(report.table.routes)
    lines = [
        f"{report.source}: {routes} route{'s' * (routes != 1)}, "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    ]
    lines += [f"{f.severity}: route {f.route!r}: {f.message}" for f in report.findings]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m strangler.proxy.check", description="Validate a route table file."
    )
    parser.add_argument("file", type=Path, help="the route table (YAML)")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument("--source", help="the name to give the file in messages")
    args = parser.parse_args(argv)
    source = args.source or str(args.file)
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        report = CheckReport(source, error=f"{source}: cannot read the route table: {exc.strerror}")
    else:
        report = check_text(text, source=source)
    if args.json:
        print(_as_json(report))
    else:
        print(_as_text(report), file=sys.stdout if report.valid else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
