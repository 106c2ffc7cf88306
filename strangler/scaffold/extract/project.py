"""What every part of ``strangler extract``'s generator shares: the extraction (the
introspection report, the service's name and directory), its checklist, and the package's
file templates. No Django here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from pprint import pformat
from string import Template
from typing import Any

__all__ = ["Checklist", "Extraction", "literal", "template", "under_mount", "write"]


@dataclass
class Checklist:
    """What the generator could not copy safely, by heading."""

    items: dict[str, list[str]] = field(default_factory=dict)

    def add(self, heading: str, item: str) -> None:
        self.items.setdefault(heading, []).append(item)

    def markdown(self, service: str) -> str:
        lines = [
            f"# What `strangler extract` could not copy safely into {service}",
            "",
            "Each item is a hand edit or a decision before the service takes traffic.",
        ]
        for heading, items in self.items.items():
            lines += ["", f"## {heading}", ""] + [f"- {item}" for item in items]
        return "\n".join(lines) + "\n"


_PORT_VARIABLE = re.compile(r":\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):-(?P<default>[0-9]+)\}")


@dataclass
class Extraction:
    service: str
    out: Path
    report: dict[str, Any]
    patterns: list[dict[str, Any]]
    checklist: Checklist = field(default_factory=Checklist)
    # The monolith's URL as the team's route table writes it (its legacy upstream), e.g.
    # ``http://127.0.0.1:${MONOLITH_PORT:-8100}``; empty without --routes-file.
    legacy_url: str = ""
    # The monolith's management command line, run where the plan is used (its directory).
    legacy_manage: str = ""
    # The monolith's upstream name in the route table, when it is not its sync node name.
    legacy_upstream: str = ""

    @property
    def legacy_port(self) -> tuple[str, str]:
        """The variable the monolith's port is read from, and its default: the route
        table's (``${MONOLITH_PORT:-8100}``), else ``<NODE>_PORT`` and 8000."""
        found = _PORT_VARIABLE.search(self.legacy_url)
        if found:
            return found["name"], found["default"]
        return f"{self.report['sync_node'].upper()}_PORT", "8000"

    @property
    def package(self) -> Path:
        return self.out / self.service

    def app_module(self, app: dict[str, Any]) -> str:
        return f"{self.service}.{app['name'].rsplit('.', 1)[-1]}"

    def portable_module(self, name: str) -> str:
        """Where a module of the monolith copied as it is goes: ``monolith.core.errors`` ->
        ``<service>.core.errors``."""
        first, _, rest = name.partition(".")
        if first == self.report["root_package"] and rest:
            return f"{self.service}.{rest}"
        return f"{self.service}.{name}"

    def renames(self) -> dict[str, str]:
        renames = {name: self.portable_module(name) for name in self.report["portable"]}
        renames.update({app["name"]: self.app_module(app) for app in self.report["apps"]})
        return renames


def template(name: str, **values: Any) -> str:
    """The package's template ``name`` with ``values`` substituted (``string.Template``)."""
    text = resources.files("strangler.scaffold.extract").joinpath(f"templates/{name}.tmpl")
    return Template(text.read_text(encoding="utf-8")).substitute(values)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# -- the apps ---------------------------------------------------------------------------------


def literal(value: Any, indent: int = 4) -> str:
    text = pformat(value, indent=1, width=96, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def under_mount(report: dict[str, Any], pattern: dict[str, Any]) -> bool:
    return any(
        pattern["full"].startswith(m["full"])
        and pattern["namespaces"][: len(m["namespaces"])] == m["namespaces"]
        for m in report["mounts"]
    )
