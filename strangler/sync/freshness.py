"""The sync versions of the rows an answer served, as a response header (docs/sync.md,
"Freshness for comparisons").

A request carrying ``X-Strangler-Want-Versions: 1`` gets ``X-Strangler-Data-Versions:
<key>=<version>,...``: one entry per synced row the answer serialized, so the proxy's shadow
mode can tell "the candidate has not received this change yet" from a real difference
(``strangler.compare.freshness``). Serializers report the rows they render
(``ServedRowsMixin`` or ``row_served``) into a request-scoped collector; the middleware reads
every version in one query at the end. Without the request header there is no collector: the
hook is one context-variable read, and nothing is queried or added.

A key names the row the same way on both nodes: ``<label>:<pk>``, where the label is the
table name the sync config gives the row on the wire (the source's table: the monolith's
``inventory_stocklevel`` is the catalog's ``catalog_stocklevel``, and both say
``inventory_stocklevel``), and the pk is the text the capture trigger and apply store.
The receiver stores the source's version when it applies a row, so equal versions mean equal
data. A row without a version row (seeded before capture, backfilled unchanged) is version 0.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from django.db import connection, models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from strangler.sync.config import SyncSettings, model_for, sync_settings
from strangler.sync.fields import pk_of
from strangler.sync.models import RowVersion

__all__ = [
    "MAX_ROWS",
    "TOO_MANY",
    "VERSIONS_HEADER",
    "WANT_HEADER",
    "ServedRows",
    "ServedRowsMixin",
    "data_versions_middleware",
    "row_served",
    "sync_label",
    "versions_header",
]

WANT_HEADER = "X-Strangler-Want-Versions"
VERSIONS_HEADER = "X-Strangler-Data-Versions"
# A list page is at most 100 products with a stock level each; 200 entries (~6 KB) stay well
# under the 8 KB a proxy or server typically allows a header line.
MAX_ROWS = 200
TOO_MANY = "*"
_WANT_META = "HTTP_X_STRANGLER_WANT_VERSIONS"


@dataclass
class ServedRows:
    """The synced rows one answer serialized: local model -> primary-key values."""

    rows: dict[type[models.Model], set[Any]] = field(default_factory=dict)

    def add(self, model: type[models.Model], pk: Any) -> None:
        if pk is not None:
            self.rows.setdefault(model, set()).add(pk)

    def count(self) -> int:
        return sum(len(pks) for pks in self.rows.values())


_served: ContextVar[ServedRows | None] = ContextVar("strangler_sync_served_rows", default=None)


def row_served(instance: models.Model, *, relations: Iterable[str] = ()) -> None:
    """Note ``instance`` (and its already loaded ``relations``) as served, when asked for.

    A relation is followed only when it is cached on the instance (``select_related``): the
    hook never queries. A synced relation that is not loaded is simply not listed.
    """
    served = _served.get()
    if served is None:
        return
    labels = _labels(sync_settings())
    _note(served, labels, instance)
    for name in relations:
        relation = instance._meta.get_field(name)
        related = relation.get_cached_value(instance, default=None)  # type: ignore[union-attr]
        if isinstance(related, models.Model):
            _note(served, labels, related)


def _note(
    served: ServedRows, labels: Mapping[type[models.Model], str], instance: models.Model
) -> None:
    model = instance._meta.concrete_model
    if model is not None and model in labels:
        served.add(model, instance.pk)


class ServedRowsMixin:
    """For a DRF serializer of a synced model: every instance it renders is noted as served.

    ``served_relations`` names relations whose rows feed the representation (a stock level
    behind an annotated ``stock_available``); they count when ``select_related`` loaded them.
    Put it before the serializer base class.
    """

    served_relations: ClassVar[tuple[str, ...]] = ()

    def to_representation(self, instance: Any) -> Any:
        if _served.get() is not None and isinstance(instance, models.Model):
            row_served(instance, relations=self.served_relations)
        return super().to_representation(instance)  # type: ignore[misc]


def sync_label(model: type[models.Model]) -> str | None:
    """The label both nodes give ``model``'s rows, or ``None`` when it is not synced here."""
    return _labels(sync_settings()).get(model)


@functools.lru_cache(maxsize=4)
def _labels(config: SyncSettings) -> dict[type[models.Model], str]:
    """Each synced local model's label: the sender's table for an inbound model, the own table
    for an outbound one. A model registered both ways under two names takes the smaller, so
    the two nodes (each seeing both names) still agree."""
    names: dict[type[models.Model], set[str]] = {}
    for outbound in config.outbound:
        model = model_for(outbound.model)
        names.setdefault(model, set()).add(model._meta.db_table)
    for inbound in config.inbound:
        names.setdefault(model_for(inbound.model), set()).add(inbound.table)
    return {model: min(tables) for model, tables in names.items()}


def versions_header(served: ServedRows) -> str:
    """The header's value for ``served``: ``*`` above ``MAX_ROWS``, else one query."""
    if served.count() > MAX_ROWS:
        return TOO_MANY
    labels = _labels(sync_settings())
    wanted: dict[tuple[str, str], str] = {}  # (local table, pk text) -> key
    for model, pks in served.rows.items():
        pk_field = pk_of(model)
        for pk in pks:
            text = str(pk_field.get_db_prep_value(pk, connection, prepared=False))
            key = f"{quote(labels[model], safe='')}:{quote(text, safe='')}"
            wanted[(model._meta.db_table, text)] = key
    if not wanted:
        return ""
    by_table: dict[str, list[str]] = {}
    for table, text in wanted:
        by_table.setdefault(table, []).append(text)
    query = Q()
    for table, texts in by_table.items():
        query |= Q(table_name=table, row_pk__in=texts)
    versions = {
        (table, text): version
        for table, text, version in RowVersion.objects.filter(query).values_list(
            "table_name", "row_pk", "version"
        )
    }
    entries = sorted((key, versions.get(local, 0)) for local, key in wanted.items())
    return ",".join(f"{key}={version}" for key, version in entries)


def data_versions_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Django middleware: with ``X-Strangler-Want-Versions: 1``, add the served rows' versions."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.META.get(_WANT_META) != "1":
            return get_response(request)
        served = ServedRows()
        token = _served.set(served)
        try:
            response = get_response(request)
        finally:
            _served.reset(token)
        response[VERSIONS_HEADER] = versions_header(served)
        return response

    return middleware
