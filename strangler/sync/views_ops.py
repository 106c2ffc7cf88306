"""Receiver endpoints for backfill and reconcile, and the Prometheus metrics of the node.

- ``POST rows/apply``: rows applied by the stream's rules without moving its cursor.
- ``POST rows/resend``: this node's copy of named rows, versions raised above the caller's,
  for the caller to apply (reconcile's repair preferring this node's copy).
- ``POST checksum``: bounds of the table and checksums of the requested key ranges.
- ``POST splits``: boundary keys cutting key ranges into parts of equal rows.
- ``POST rows``: rows of a key range, or named rows, with versions and wire values.
- ``POST columns``: whether batches with these tables and columns would be applied here, or
  refused as schema drift (409), asked by ``sync_resume`` before it resumes a stream.
- ``GET metrics``: Prometheus text, gauges read from the database at scrape time.

The others are signed like every ``/internal/sync/`` call and answer errors as
``{code, message}`` through the same wrapper as the stream's own endpoints. ``metrics`` takes
a signed call too, or, since Prometheus cannot sign, ``Authorization: Bearer`` with the node's
metrics token (``STRANGLER_SYNC['metrics_token']``); without either it answers 401.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from strangler.sync.apply import apply_changes
from strangler.sync.checksums import algorithms, key_bounds, segment_checksums
from strangler.sync.config import sync_settings
from strangler.sync.errors import BadRequest, NotSent, SyncError, Unauthenticated
from strangler.sync.key_splits import SplitRequest, key_splits
from strangler.sync.keys import KeyOrder, key_value
from strangler.sync.metrics import registry
from strangler.sync.ops_client import bounds_to_json, checksum_to_json, state_to_json
from strangler.sync.repair import rows_raise
from strangler.sync.row_states import row_states, rows_in_range
from strangler.sync.schema import inbound_target, inbound_targets, send_tables
from strangler.sync.shapes import TableShape
from strangler.sync.sides import source_shape
from strangler.sync.signing import SIGNATURE_HEADER
from strangler.sync.views import authenticate, request_json, sync_endpoint
from strangler.sync.wire import apply_request_parse, source_parse

__all__ = [
    "checksum_view",
    "columns_view",
    "metrics_view",
    "rows_apply_view",
    "rows_resend_view",
    "rows_view",
    "splits_view",
]

# One request's work stays well inside the caller's 10 s read timeout: reconcile asks for
# at most 250,000 rows a call (ops_client), and 4,096 segments is 128 x its fan-out of 32.
MAX_SEGMENTS = 4096
# Rows answered in one ``rows`` call: reconcile fetches a range only below 1,000 rows.
MAX_ROWS = 20_000


@require_POST
@sync_endpoint
def rows_apply_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    # The batch parser checks every change against 'columns'; a cursor does not apply here.
    parsed = apply_request_parse({**body, "from": [0, 0], "to": [0, 0]})
    counts = apply_changes(source=parsed.source, changes=parsed.changes, columns=parsed.columns)
    return {
        "applied": counts.applied,
        "stale": counts.stale,
        "dead_lettered": counts.dead_lettered,
    }


@require_POST
@sync_endpoint
def rows_resend_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    source = source_parse(body)
    shape = _shape(body)
    model = shape.model
    versions = body.get("versions")
    if not (
        isinstance(versions, dict)
        and all(isinstance(pk, str) for pk in versions)
        and all(_is_int(v) for v in versions.values())
    ):
        raise BadRequest("'versions' must map keys written as text to versions.")
    if len(versions) > MAX_ROWS:
        raise BadRequest(f"Ask for at most {MAX_ROWS} rows a call.")
    for pk in versions:
        key_value(shape, pk)  # BadRequest when it is not a key of this table
    # Our copy goes back the way our own stream to the caller would carry it.
    table = next((t for t in send_tables(source) if t.model is model), None)
    if table is None:
        raise NotSent(
            f"this node sends no {model._meta.label} to {source}: its copy cannot be preferred"
        )
    changes = rows_raise(source_shape(table), table, versions)
    return {
        "columns": {table.table: list(table.columns)},
        "changes": [change.as_json() for change in changes],
    }


@require_POST
@sync_endpoint
def checksum_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    shape = _shape(body)
    level = body.get("level")
    if level not in ("keys", "rows"):
        raise BadRequest("'level' must be 'keys' or 'rows'.")
    algorithm = body.get("algorithm", "md5")
    if algorithm not in algorithms():
        raise BadRequest(
            f"'algorithm' must be one of {', '.join(algorithms())} here.",
            code="unsupported_algorithm",
        )
    ranges = body.get("ranges")
    if not isinstance(ranges, list) or not all(_is_boundaries(item) for item in ranges):
        raise BadRequest(
            "'ranges' must be a list of boundary lists: keys as text, the ends may be null."
        )
    if sum(len(item) - 1 for item in ranges) > MAX_SEGMENTS:
        raise BadRequest(f"Ask for at most {MAX_SEGMENTS} segments a call.")
    order = _order(body)
    return {
        # Asked for alone (no ranges) once per reconcile: count(*) is a scan of its own.
        "bounds": None if ranges else bounds_to_json(key_bounds(shape)),
        "ranges": [
            [
                checksum_to_json(item)
                for item in segment_checksums(
                    shape, boundaries=item, level=level, algorithm=algorithm, order=order
                )
            ]
            for item in ranges
        ],
    }


@require_POST
@sync_endpoint
def splits_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    shape = _shape(body)
    order = _order(body)
    ranges = body.get("ranges")
    if not (
        isinstance(ranges, list)
        and all(
            isinstance(item, list)
            and len(item) == 4
            and _is_boundaries(item[:2])
            and _is_int(item[2])
            and item[2] >= 1
            and (item[3] is None or (_is_int(item[3]) and 1 <= item[3] <= MAX_SEGMENTS))
            for item in ranges
        )
    ):
        raise BadRequest(
            "'ranges' must be a list of [low, high, step, limit]: keys as text or null, "
            f"limit at most {MAX_SEGMENTS} or null."
        )
    splits = [
        key_splits(shape, SplitRequest(low, high, step, limit or MAX_SEGMENTS + 1), order=order)
        for low, high, step, limit in ranges
    ]
    if sum(len(keys) for keys in splits) > MAX_SEGMENTS:
        raise BadRequest(f"The ranges split into more than {MAX_SEGMENTS} parts; ask for less.")
    return {"splits": splits}


@require_POST
@sync_endpoint
def rows_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    shape = _shape(body)
    pks = body.get("pks")
    if pks is not None:
        if not isinstance(pks, list) or not all(isinstance(pk, str) for pk in pks):
            raise BadRequest("'pks' must be a list of primary keys as text.")
        if len(pks) > MAX_ROWS:
            raise BadRequest(f"Ask for at most {MAX_ROWS} rows a call.")
        states = row_states(shape, pks)
    else:
        span = body.get("range")
        if not (isinstance(span, list) and len(span) == 2 and _is_boundaries(span)):
            raise BadRequest("Send 'range': [low, high] (keys as text or null) or 'pks': [...].")
        states = rows_in_range(shape, low=span[0], high=span[1], order=_order(body))
        if len(states) > MAX_ROWS:
            raise BadRequest(f"The range holds more than {MAX_ROWS} rows; ask for less.")
    return {"rows": [state_to_json(state) for state in states]}


@require_POST
@sync_endpoint
def columns_view(request: HttpRequest) -> dict[str, Any]:
    body = request_json(request)
    columns = _columns_by_table(body.get("columns"))
    return {"accepted": sorted(inbound_targets(source_parse(body), columns))}  # drift: 409


def _columns_by_table(value: Any) -> dict[str, list[str]]:
    if isinstance(value, dict) and all(
        isinstance(cols, list) and all(isinstance(c, str) for c in cols) for cols in value.values()
    ):
        return value
    raise BadRequest("'columns' must map the sender's table names to column lists.")


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    try:
        _metrics_authenticate(request)
    except SyncError as exc:
        return JsonResponse(exc.as_json(), status=exc.status)
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def _metrics_authenticate(request: HttpRequest) -> None:
    """A bearer token equal to the node's metrics token, or else a signed sync call."""
    token = sync_settings().metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        if token and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        raise Unauthenticated(
            "The bearer token is not this node's metrics token.", code="bad_token"
        )
    if SIGNATURE_HEADER not in request.headers:
        raise Unauthenticated(
            "Send Authorization: Bearer <STRANGLER_SYNC_METRICS_TOKEN>, or sign the call as a "
            "peer (docs/sync.md, 'Authentication')."
        )
    authenticate(request)


def _shape(body: Any) -> TableShape:
    """The local shape of the sender's table named in ``body`` (its inbound registration)."""
    source = source_parse(body)
    table, columns = body.get("table"), body.get("columns")
    if not isinstance(table, str) or not table:
        raise BadRequest("'table' must be the sender's table name.")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise BadRequest("'columns' must list the sender's column names.")
    target = inbound_target(source, table, columns)  # SchemaDrift (409) when they do not fit
    # UnsupportedKey (400) when reconcile cannot order its key.
    return TableShape.for_model(
        target.model,
        sync_name=target.table,
        wire_to_attname={column: field.attname for column, field in target.fields.items()},
    )


def _order(body: dict[str, Any]) -> KeyOrder:
    order = body.get("order", "native")
    if order not in ("native", "binary"):
        raise BadRequest("'order' must be 'native' or 'binary'.")
    return "binary" if order == "binary" else "native"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_boundaries(item: Any) -> bool:
    """Two or more keys as text, the first and the last of which may be null (open)."""
    return (
        isinstance(item, list)
        and len(item) >= 2
        and all(isinstance(key, str) for key in item[1:-1])
        and all(key is None or isinstance(key, str) for key in (item[0], item[-1]))
    )
