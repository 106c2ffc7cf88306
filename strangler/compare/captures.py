"""Recorded requests to replay: the capture record, and reading a requests file.

A capture file is JSON Lines, one request per line (format version 1)::

    {"v": 1, "at": 1718000000.25, "route": "catalog-products", "method": "GET",
     "target": "/api/v1/products/?page=2", "headers": [["Accept", "application/json"],
     ["Cookie", "[redacted]"]], "body": "", "body_truncated": false}

``method`` and ``target`` (path and query, as sent upstream) are required; a body that is
not UTF-8 is in ``body_b64`` instead of ``body``. Secrets are redacted when a record is
written (``strangler.compare.capture_writer``), so a header whose value is ``[redacted]``
is one the replay cannot send.

``read_requests`` also reads a HAR file (browser developer tools, most HTTP proxies) and a
plain list of ``METHOD PATH`` lines (``#`` starts a comment); JSON records and plain lines
may be mixed in one file. A problem is reported as ``file:line: what to fix``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from strangler.compare.errors import CompareError
from strangler.compare.model import Headers, HttpRequest

__all__ = [
    "FORMAT_VERSION",
    "CaptureInvalid",
    "CaptureRecord",
    "parse_record",
    "read_requests",
    "record_line",
]

FORMAT_VERSION = 1
# Headers that describe one connection or one encoding of the body, not the request: the
# HTTP client of the replay sets its own.
_NOT_REPLAYED = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade"}
)
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token


class CaptureInvalid(CompareError, ValueError):
    """A requests file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One recorded request. ``source`` says where it was read (``requests.jsonl:12``)."""

    method: str
    target: str
    headers: Headers = ()
    body: bytes = b""
    route: str = ""
    at: float = 0.0
    body_truncated: bool = False
    source: str = ""

    def request(self, *, origin: str = "") -> HttpRequest:
        return HttpRequest(self.method, self.target, self.headers, self.body, origin)


def record_line(record: CaptureRecord) -> str:
    """The record as one JSON line (with its newline)."""
    data: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "at": record.at,
        "route": record.route,
        "method": record.method,
        "target": record.target,
        "headers": [list(pair) for pair in record.headers],
    }
    try:
        data["body"] = record.body.decode("utf-8")
    except UnicodeDecodeError:
        data["body_b64"] = base64.b64encode(record.body).decode("ascii")
    data["body_truncated"] = record.body_truncated
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def _method(value: object, where: str) -> str:
    if not isinstance(value, str) or not _METHOD.fullmatch(value):
        raise CaptureInvalid(f"{where}: method {value!r} is not an HTTP method (e.g. GET)")
    return value.upper()


def _target(value: object, where: str) -> str:
    """A path and query; an absolute URL is cut down to them (the base URLs say where)."""
    if not isinstance(value, str) or not value:
        raise CaptureInvalid(f"{where}: the target must be a path such as /api/v1/products/")
    if value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        value = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not value.startswith("/") or any(c.isspace() for c in value):
        raise CaptureInvalid(
            f"{where}: target {value!r} must start with / and hold no spaces (encode them)"
        )
    return value


def _headers(value: object, where: str) -> Headers:
    if value is None:
        return ()
    pairs: list[tuple[str, str]] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((str(item[0]), str(item[1])))
            elif isinstance(item, dict) and "name" in item and "value" in item:
                pairs.append((str(item["name"]), str(item["value"])))
            else:
                raise CaptureInvalid(
                    f"{where}: headers must be [name, value] pairs, got {item!r:.60}"
                )
    elif isinstance(value, dict):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        raise CaptureInvalid(f"{where}: headers must be a list of [name, value] pairs")
    # HTTP/2 pseudo-headers (":authority") in a HAR are not headers to send.
    return tuple(
        (n, v) for n, v in pairs if not n.startswith(":") and n.lower() not in _NOT_REPLAYED
    )


def parse_record(data: object, *, where: str) -> CaptureRecord:
    """One JSON capture record, checked."""
    if not isinstance(data, dict):
        raise CaptureInvalid(f"{where}: a capture record must be a JSON object")
    version = data.get("v", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise CaptureInvalid(
            f"{where}: capture format version {version!r}; this toolkit reads {FORMAT_VERSION}"
        )
    body = b""
    if isinstance(data.get("body_b64"), str):
        try:
            body = base64.b64decode(data["body_b64"], validate=True)
        except binascii.Error as exc:
            raise CaptureInvalid(f"{where}: body_b64 is not base64: {exc}") from exc
    elif isinstance(data.get("body"), str):
        body = data["body"].encode("utf-8")
    at = data.get("at", 0.0)
    return CaptureRecord(
        method=_method(data.get("method"), where),
        target=_target(data.get("target"), where),
        headers=_headers(data.get("headers"), where),
        body=body,
        route=str(data.get("route") or ""),
        at=float(at) if isinstance(at, int | float) else 0.0,
        body_truncated=bool(data.get("body_truncated", False)),
        source=where,
    )


def _plain(line: str, where: str) -> CaptureRecord:
    parts = line.split()
    if len(parts) != 2:
        raise CaptureInvalid(
            f"{where}: expected a JSON record or 'METHOD PATH' (e.g. 'GET /api/v1/products/'), "
            f"got {line!r:.80}"
        )
    return CaptureRecord(_method(parts[0], where), _target(parts[1], where), source=where)


def _har(data: Any, name: str) -> list[CaptureRecord]:
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CaptureInvalid(f"{name}: not a HAR file (no log.entries list)")
    records = []
    for index, entry in enumerate(entries):
        where = f"{name}: log.entries[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict):
            raise CaptureInvalid(f"{where}: has no request")
        post = request.get("postData") or {}
        text = post.get("text") if isinstance(post, dict) else None
        records.append(
            CaptureRecord(
                method=_method(request.get("method"), where),
                target=_target(request.get("url"), where),
                headers=_headers(request.get("headers"), where),
                body=text.encode("utf-8") if isinstance(text, str) else b"",
                source=where,
            )
        )
    return records


def read_requests(path: Path) -> list[CaptureRecord]:
    """The requests in a JSONL capture, a HAR file or a ``METHOD PATH`` list."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureInvalid(f"{path}: cannot read the requests file: {exc}") from exc
    har = path.suffix.lower() == ".har"
    if har or text.lstrip().startswith("{"):
        # A HAR file is one JSON document; JSON Lines fail to parse as one after a line.
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            if har:
                raise CaptureInvalid(f"{path}: not valid JSON: {exc}") from exc
            document = None
        if har or (isinstance(document, dict) and "log" in document):
            return _har(document, str(path))
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CaptureInvalid(f"{where}: not valid JSON: {exc.msg}") from exc
            records.append(parse_record(data, where=where))
        else:
            records.append(_plain(line, where))
    return records
