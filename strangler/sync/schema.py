"""Columns against registrations, on both sides (docs/sync.md, "Schema drift").

Source: every column of an outbound table is in ``fields`` or ``exclude``, and every
registered column exists. Receiver: every column sent lands in a local field (through
``field_map``), the primary key among them, and no local column that needs a value is left
out. Either side failing raises ``SchemaDrift`` naming table and columns; the stream pauses
until the registration is fixed (``sync_resume``), and nothing is skipped meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED

from strangler.sync.changelog import SendTable, send_table
from strangler.sync.config import OutboundTable, model_for, sync_settings
from strangler.sync.errors import SchemaDrift
from strangler.sync.fields import column_of, pk_of

__all__ = [
    "InboundTarget",
    "inbound_target",
    "inbound_targets",
    "outbound_columns_problems",
    "send_tables",
]


@dataclass(frozen=True)
class InboundTarget:
    """Where a sender's table lands here: the local model and a field per sent column."""

    sender_table: str
    model: type[models.Model]
    table: str
    pk: models.Field[Any, Any]
    pk_column: str
    fields: Mapping[str, models.Field[Any, Any]]  # sender column -> local field


def outbound_columns_problems(entry: OutboundTable) -> list[str]:
    """What is wrong with ``entry``'s columns against the database; empty when nothing."""
    model = model_for(entry.model)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        actual = {
            column.name for column in connection.introspection.get_table_description(cursor, table)
        }
    by_name = {f.name: column_of(f) for f in model._meta.concrete_fields}
    registered = {by_name.get(name, name) for name in (*entry.fields, *entry.exclude)}
    sent = {by_name.get(name, name) for name in entry.fields}
    model_columns = {column_of(f) for f in model._meta.concrete_fields}
    problems = []
    unlisted = sorted(actual - registered)
    if unlisted:
        problems.append(
            f"{table}: column(s) {', '.join(unlisted)} in neither 'fields' nor 'exclude' "
            f"of {entry.where}"
        )
    gone = sorted(registered - actual)
    if gone:
        problems.append(f"{table}: registered column(s) {', '.join(gone)} do not exist")
    unknown = sorted(sent - model_columns - set(gone))
    if unknown:
        problems.append(f"{table}: column(s) {', '.join(unknown)} are not fields of {entry.model}")
    pk = column_of(pk_of(model))
    if pk not in sent:
        problems.append(f"{table}: 'fields' of {entry.where} must include the primary key {pk}")
    return problems


def send_tables(peer: str) -> tuple[SendTable, ...]:
    """The stream's tables resolved for reading; ``SchemaDrift`` if any has drifted."""
    entries = sync_settings().outbound_to(peer)
    problems = [problem for entry in entries for problem in outbound_columns_problems(entry)]
    if problems:
        raise SchemaDrift("; ".join(problems))
    return tuple(send_table(entry) for entry in entries)


def inbound_targets(source: str, columns: Mapping[str, Sequence[str]]) -> dict[str, InboundTarget]:
    """A target per sender table in ``columns``; ``SchemaDrift`` when one does not fit."""
    targets: dict[str, InboundTarget] = {}
    problems: list[str] = []
    for sender_table, sent in columns.items():
        try:
            targets[sender_table] = inbound_target(source, sender_table, sent)
        except SchemaDrift as exc:
            problems.append(exc.message)
    if problems:
        raise SchemaDrift("; ".join(problems))
    return targets


def inbound_target(source: str, sender_table: str, sent: Sequence[str] | None) -> InboundTarget:
    """Where ``sender_table`` lands; ``sent=None`` (a tombstone's replay) checks no columns."""
    entry = sync_settings().inbound_for(source, sender_table)
    if entry is None:
        raise SchemaDrift(f"{sender_table}: no inbound registration from {source!r}")
    model = model_for(entry.model)
    pk = pk_of(model)
    lookup: dict[str, models.Field[Any, Any]] = {}
    for field in model._meta.concrete_fields:
        for name in (column_of(field), field.name, field.attname):
            lookup.setdefault(name, field)
    fields = {column: lookup.get(entry.local_name(column)) for column in sent or ()}
    unknown = sorted(column for column, field in fields.items() if field is None)
    if unknown:
        raise SchemaDrift(
            f"{sender_table}: column(s) {', '.join(unknown)} have no field in {entry.model} "
            f"(add them to the model or map them in {entry.where}['field_map'])"
        )
    resolved = {column: field for column, field in fields.items() if field is not None}
    if sent is not None:
        covered = set(resolved.values())
        missing = {
            column_of(f)
            for f in model._meta.concrete_fields
            if f not in covered and (_needs_value(f) or f is pk)
        }
        if missing:
            raise SchemaDrift(
                f"{sender_table}: local column(s) {', '.join(sorted(missing))} of "
                f"{entry.model} receive no value"
            )
    return InboundTarget(
        sender_table=sender_table,
        model=model,
        table=model._meta.db_table,
        pk=pk,
        pk_column=column_of(pk),
        fields=resolved,
    )


def _needs_value(field: models.Field[Any, Any]) -> bool:
    return not (
        field.null
        or field.default is not NOT_PROVIDED
        or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED  # Django 5.0+
        or field.primary_key
    )
