"""The generated project's contract suite: every extracted GET route, with keys read from
the service's database, sent to the monolith and to the service by the toolkit's pytest
plugin (``side_by_side``)."""

from __future__ import annotations

import re
from typing import Any

from strangler.scaffold.extract.project import Extraction, literal, template, write

__all__ = ["contract_suite"]

_PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _model_for(x: Extraction, pattern: dict[str, Any], param: str) -> tuple[str, str] | None:
    models = x.report["models"]

    def field_of(model: dict[str, Any]) -> str | None:
        if param == "pk":
            return str(next(n for n, column in model["fields"].items() if column == model["pk"]))
        if param in model["fields"]:
            return param
        return None

    if pattern.get("model"):
        model = next((m for m in models if m["label"] == pattern["model"]), None)
        if model and field_of(model):
            return model["label"], field_of(model) or ""
    words = re.findall(r"[a-z]+", (pattern["full"] + " " + (pattern["name"] or "")).lower())
    for word in reversed(words):
        for model in models:
            name = model["name"].lower()
            if word in (name, name + "s", name[:-1] + "ies" if name.endswith("y") else name + "es"):
                field_name = field_of(model)
                if field_name:
                    return model["label"], field_name
    for model in models:
        field_name = field_of(model)
        if field_name:
            return model["label"], field_name
    return None


def _no_such_key(x: Extraction, label: str, field_name: str) -> str:
    """A value of the column's type that no row has (the contract of a 404)."""
    model = next(m for m in x.report["models"] if m["label"] == label)
    kind = model["types"].get(field_name, "")
    if kind == "UUIDField":
        return "00000000-0000-0000-0000-000000000000"
    if "Integer" in kind or "AutoField" in kind:
        return "999999999"
    return "no-such-key-strangler"


def contract_suite(x: Extraction) -> None:
    routes = []
    missing: list[tuple[str, str]] = []
    for pattern in x.patterns:
        if pattern["regex"]:
            x.checklist.add(
                "Contract tests",
                f"`{pattern['qualified']}` is a regex route: add its requests by hand",
            )
            continue
        placeholders = {}
        path_text = "/" + re.sub(r"[{}]", lambda m: m.group(0) * 2, pattern["full"])
        unknown = []
        for _kind, param in _PLACEHOLDER.findall(pattern["full"]):
            found = _model_for(x, pattern, param)
            if found is None:
                unknown.append(param)
            else:
                placeholders[param] = found
        if unknown:
            x.checklist.add(
                "Contract tests",
                f"`{pattern['qualified']}`: no model column for {', '.join(unknown)}; "
                "add its requests by hand",
            )
            continue
        path_text = _PLACEHOLDER.sub(lambda m: "{" + m.group(2) + "}", path_text)
        name = pattern["qualified"] or pattern["view"]
        routes.append((name, path_text, placeholders))
        if placeholders:
            missing.append(
                (
                    name,
                    path_text.format(
                        **{p: _no_such_key(x, *placeholders[p]) for p in placeholders}
                    ),
                )
            )
    tests = x.out / "tests"
    write(tests / "__init__.py", "")
    write(tests / "conftest.py", template("conftest.py"))
    write(
        tests / "test_contract.py",
        template(
            "test_contract.py",
            service=x.service,
            routes=literal(routes, 0),
            missing=literal(missing, 0),
        ),
    )
    write(x.out / "pytest.ini", "[pytest]\ntestpaths = tests\n")
