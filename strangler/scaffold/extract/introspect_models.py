"""The models half of the introspection (run in the child process, with Django set up):
the extracted models as records, read-only mirrors of other apps' models the code reads,
and sample keys."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

__all__ = [
    "Refused",
    "code_names",
    "columns_of",
    "field_source",
    "mirror_records",
    "model_record",
    "plain_column",
    "sample_keys",
]


class Refused(Exception):
    """Input naming something the project lacks: a message for the user, exit 2."""


def field_source(field: Any, extracted: set[str], app_label: str) -> str:
    """A field as a line of a read-only mirror model: deconstructed, defaults and
    validators dropped (the sync writes every value), relations to extracted models kept
    without a database constraint, relations leaving the set turned into plain columns."""
    from django.db import models

    name, path, args, kwargs = field.deconstruct()
    for dropped in ("default", "validators", "auto_now", "auto_now_add", "help_text"):
        kwargs.pop(dropped, None)
    if field.is_relation and field.remote_field is not None:
        target = field.related_model._meta.label
        if target in extracted:
            kind = "OneToOneField" if field.one_to_one else "ForeignKey"
            keep = {k: kwargs[k] for k in ("null", "blank", "related_name") if k in kwargs}
            if field.primary_key:
                keep["primary_key"] = True
            arguments = ", ".join(
                [repr(target), "on_delete=models.DO_NOTHING", "db_constraint=False"]
                + [f"{k}={v!r}" for k, v in keep.items()]
            )
            return f"{name} = models.{kind}({arguments})"
        return plain_column(field)
    if not path.startswith("django.db.models"):
        path = f"models.{type(field).__name__}"
        if not hasattr(models, type(field).__name__):
            raise Refused(f"{field.model._meta.label}.{name}: a custom field type {path}")
    else:
        path = "models." + path.rsplit(".", 1)[1]
    rendered = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name} = {path}({', '.join(rendered)})"


def plain_column(field: Any) -> str:
    """A foreign key as a plain column of the target key's type, same column name."""
    target_pk = field.target_field
    kind = type(target_pk).__name__
    kind = {
        "AutoField": "IntegerField",
        "BigAutoField": "BigIntegerField",
        "SmallAutoField": "SmallIntegerField",
    }.get(kind, kind)
    extra = []
    if kind in ("CharField", "SlugField") and target_pk.max_length:
        extra.append(f"max_length={target_pk.max_length}")
    if field.null:
        extra.append("null=True")
    if field.primary_key:
        extra.append("primary_key=True")
    elif field.unique:
        extra.append("unique=True")
    elif field.db_index:
        extra.append("db_index=True")
    extra.append(f"db_column={field.column!r}")
    return f"{field.attname} = models.{kind}({', '.join(extra)})"


def columns_of(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def model_record(model: Any, extracted: set[str]) -> dict[str, Any]:
    meta = model._meta
    leaving = []
    for field in meta.concrete_fields:
        if field.is_relation and field.related_model._meta.label not in extracted:
            leaving.append(
                {
                    "field": field.name,
                    "column": field.column,
                    "target": field.related_model._meta.label,
                    "replacement": plain_column(field),
                }
            )
    pk = meta.pk
    return {
        "label": meta.label,
        "app": meta.app_label,
        "name": meta.object_name,
        "table": meta.db_table,
        "pk": pk.column,
        "pk_type": type(pk).__name__,
        "columns": columns_of(model),
        "leaving": leaving,
        "fields": {f.name: f.column for f in meta.concrete_fields},
        "types": {f.name: f.get_internal_type() for f in meta.concrete_fields},
    }


_LOOKUP = re.compile(r"^-?[a-z_][a-z0-9_]*(__[a-z0-9_]+)*$")


_TEMPLATE_CODE = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)


def code_names(directories: list[Path]) -> set[str]:
    """The names the app's code and templates use: attributes, keywords, lookups in strings
    (``"stock__on_hand"``), variables in templates; not words in comments or docstrings."""
    names: set[str] = set()
    for directory in directories:
        for path in sorted(directory.rglob("*")):
            if "migrations" in path.parts or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".py":
                try:
                    tree = ast.parse(text)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Attribute):
                        names.add(node.attr)
                    elif isinstance(node, ast.keyword) and node.arg:
                        names.update(node.arg.split("__"))
                    elif isinstance(node, ast.Constant) and _LOOKUP.match(str(node.value)):
                        names.update(str(node.value).lstrip("-").split("__"))
            elif path.suffix in (".html", ".txt", ".xml"):
                for match in _TEMPLATE_CODE.finditer(text):
                    names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", "".join(match.groups(""))))
    return names


def mirror_records(models_: list[Any], code: set[str]) -> list[dict[str, Any]]:
    """Models of other apps with a relation to an extracted model that the app's code uses
    (``product.stock``, ``select_related("stock")``, ``stock__on_hand``)."""
    from django.apps import apps

    extracted = {m._meta.label for m in models_}
    found = []
    for model in apps.get_models():
        if model._meta.label in extracted or model._meta.proxy:
            continue
        fields: list[Any] = list(model._meta.concrete_fields)
        for field in fields:
            if not field.is_relation or field.related_model._meta.label not in extracted:
                continue
            names = {field.related_query_name(), field.remote_field.get_accessor_name()}
            used = sorted(n for n in names if n and not n.endswith("+") and n in code)
            if used:
                source = "\n".join(
                    "    " + field_source(f, extracted, model._meta.app_label)
                    for f in model._meta.concrete_fields
                    if not (f.auto_created and f.primary_key and f.name == "id")
                )
                record = model_record(model, extracted)
                record["used_as"] = used
                record["through"] = field.related_model._meta.label
                record["source"] = source
                found.append(record)
                break
    return found


def sample_keys(models_: list[Any]) -> dict[str, dict[str, list[Any]]]:
    """A few values of each key-like column of each model (for the contract tests' paths)."""
    samples: dict[str, dict[str, list[Any]]] = {}
    for model in models_:
        fields = [f for f in model._meta.concrete_fields if f.primary_key or f.unique]
        rows = {}
        for field in fields:
            try:
                values = list(model._default_manager.values_list(field.attname, flat=True)[:3])
            except Exception:  # an unmigrated database: no samples, the tests read them later
                values = []
            rows[field.name] = [str(v) for v in values]
        samples[model._meta.label] = rows
    return samples
