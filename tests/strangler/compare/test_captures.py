"""Capture records: the format read back, HAR and plain lists, and the writer's redaction,
bounds, sampling and rotation, with two processes appending at once."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from strangler.compare import HttpRequest
from strangler.compare.capture_writer import (
    CaptureSettings,
    CaptureSettingsInvalid,
    CaptureWriter,
)
from strangler.compare.captures import (
    CaptureInvalid,
    CaptureRecord,
    parse_record,
    read_requests,
    record_line,
)
from strangler.compare.redact import REDACTED

from .workers import run_writers

SECRETS = ["s3ss10n-c00k1e", "t0k3n-h3ad3r", "qu3ry-t0k3n", "p4ssw0rd", "c4rd-numb3r", "b4s1c"]


def _secret_request() -> HttpRequest:
    body = json.dumps({"password": SECRETS[3], "card_number": SECRETS[4], "quantity": 2})
    return HttpRequest(
        "POST",
        f"/api/v1/orders/?access_token={SECRETS[2]}&page=2",
        (
            ("Cookie", f"sessionid={SECRETS[0]}"),
            ("Authorization", f"Token {SECRETS[1]}"),
            ("X-Strangler-Identity", SECRETS[5]),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ),
        body.encode(),
    )


def _writer(tmp_path: Path, **kwargs) -> CaptureWriter:
    return CaptureWriter(CaptureSettings(tmp_path / "capture.jsonl", **kwargs))


def test_a_written_record_reads_back_as_the_same_request(tmp_path):
    writer = _writer(tmp_path)
    request = HttpRequest("GET", "/api/v1/products/?search=%C3%BCn", (("Accept", "text/html"),))

    writer.write("catalog-products", request)
    writer.close()

    (record,) = read_requests(tmp_path / "capture.jsonl")
    assert (record.method, record.target, record.headers) == (
        request.method,
        request.target,
        request.headers,
    )
    assert record.route == "catalog-products"
    assert record.source.endswith("capture.jsonl:1")


def test_a_body_that_is_not_utf8_round_trips_in_base64():
    record = CaptureRecord("PUT", "/upload/", body=b"\xff\x00\xfe")

    data = json.loads(record_line(record))

    assert "body" not in data
    assert parse_record(data, where="x").body == b"\xff\x00\xfe"


def test_no_cookie_token_or_configured_field_reaches_the_file(tmp_path):
    writer = _writer(tmp_path, redact_names=frozenset({"Card_Number"}))

    writer.write("orders", _secret_request())
    writer.close()

    text = (tmp_path / "capture.jsonl").read_text()
    for secret in SECRETS:
        assert secret not in text
    (record,) = read_requests(tmp_path / "capture.jsonl")
    headers = dict(record.headers)
    assert headers["Cookie"] == headers["Authorization"] == REDACTED
    assert headers["Accept"] == "application/json"
    assert json.loads(record.body) == {
        "password": REDACTED,
        "card_number": REDACTED,
        "quantity": 2,
    }
    assert record.target == f"/api/v1/orders/?access_token={REDACTED}&page=2"


def test_a_query_without_secrets_is_kept_as_it_was_spelled(tmp_path):
    writer = _writer(tmp_path)
    target = "/api/v1/products/?search=%20%20&ordering=-price"

    assert writer.record("products", HttpRequest("GET", target)).target == target


def test_a_body_over_the_bound_is_cut_and_marked(tmp_path):
    writer = _writer(tmp_path, max_body_bytes=10)

    record = writer.record("x", HttpRequest("POST", "/x/", (), ("é" * 20).encode()))

    assert record.body_truncated
    assert record.body == ("é" * 5).encode()


@pytest.mark.parametrize(
    ("settings", "route", "expected"),
    [
        ({"share": 0.0}, "a", 0),
        ({"share": 1.0}, "a", 100),
        ({"share": 0.0, "route_shares": {"a": 1.0}}, "a", 100),
        ({"share": 1.0, "route_shares": {"a": 0.0}}, "a", 0),
    ],
)
def test_sampling_takes_the_route_share_or_the_default(tmp_path, settings, route, expected):
    writer = CaptureWriter(CaptureSettings(tmp_path / "c.jsonl", **settings))

    assert sum(writer.sampled(route) for _ in range(100)) == expected


def test_a_share_samples_about_that_share(tmp_path):
    writer = CaptureWriter(CaptureSettings(tmp_path / "c.jsonl", share=0.1), rng=random.Random(4))

    taken = sum(writer.sampled("a") for _ in range(10_000))

    assert 900 < taken < 1100


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"share": 1.5}, "capture.share"),
        ({"route_shares": {"products": -0.1}}, "capture.route_shares.products"),
        ({"max_file_bytes": 10}, "capture.max_file_bytes"),
        ({"backups": -1}, "capture.backups"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(tmp_path, kwargs, field):
    with pytest.raises(CaptureSettingsInvalid, match=f"^{field}: "):
        CaptureSettings(tmp_path / "c.jsonl", **kwargs)


def test_a_full_file_is_rotated_and_only_the_backups_are_kept(tmp_path):
    writer = _writer(tmp_path, max_file_bytes=2048, backups=2)
    request = HttpRequest("GET", "/api/v1/products/?" + "q=1&" * 50)

    for _ in range(60):
        writer.write("products", request)
    writer.close()

    files = sorted(p.name for p in tmp_path.glob("capture.jsonl*") if p.suffix != ".lock")
    assert files == ["capture.jsonl", "capture.jsonl.1", "capture.jsonl.2"]
    for name in files:
        assert (tmp_path / name).stat().st_size <= 2048


def test_two_processes_append_to_one_file_without_losing_or_mixing_lines(tmp_path):
    # Given two writer processes sharing a file that rotates every ~20 records
    run_writers("captures", tmp_path, ["one", "two"], "300", "8192")

    records = [
        json.loads(line)
        for path in tmp_path.glob("capture.jsonl*")
        if not path.name.endswith(".lock")
        for line in path.read_text().splitlines()
    ]
    assert len(records) == 600
    bodies = [json.loads(r["body"]) for r in records]
    assert sorted((b["writer"], b["n"]) for b in bodies) == sorted(
        (w, n) for w in ("one", "two") for n in range(300)
    )
    assert all(dict(r["headers"])["Cookie"] == REDACTED for r in records)


def test_plain_lines_and_json_records_mix_with_comments(tmp_path):
    path = tmp_path / "requests.txt"
    path.write_text(
        "# the catalog's reads\n"
        "GET /api/v1/products/\n"
        "\n"
        "head http://shop.example.com/api/v1/products/?page=2\n"
        '{"method": "OPTIONS", "target": "/api/v1/categories/", "route": "categories"}\n'
    )

    records = read_requests(path)

    assert [(r.method, r.target, r.route) for r in records] == [
        ("GET", "/api/v1/products/", ""),
        ("HEAD", "/api/v1/products/?page=2", ""),
        ("OPTIONS", "/api/v1/categories/", "categories"),
    ]
    assert records[1].source == f"{path}:4"


def test_a_har_file_gives_its_requests_without_pseudo_headers(tmp_path):
    har = {
        "log": {
            "version": "1.2",
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://shop.example.com/api/v1/cart/?x=1",
                        "headers": [
                            {"name": ":authority", "value": "shop.example.com"},
                            {"name": "Content-Type", "value": "application/json"},
                            {"name": "Content-Length", "value": "12"},
                        ],
                        "postData": {"mimeType": "application/json", "text": '{"qty": 1}'},
                    }
                }
            ],
        }
    }
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har))

    (record,) = read_requests(path)

    assert (record.method, record.target) == ("POST", "/api/v1/cart/?x=1")
    assert record.headers == (("Content-Type", "application/json"),)
    assert record.body == b'{"qty": 1}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GET\n", ":1: expected a JSON record or 'METHOD PATH'"),
        ("GET /ok/\nGET api/v1/\n", ":2: target 'api/v1/' must start with /"),
        ('{"method": "GET"\n', ":1: not valid JSON"),
        ('{"method": "GET", "target": "/", "v": 2}\n', ":1: capture format version 2"),
        ('{"method": "G E T", "target": "/"}\n', ":1: method 'G E T' is not an HTTP method"),
    ],
)
def test_a_bad_line_is_reported_with_its_file_and_line(tmp_path, text, message):
    path = tmp_path / "requests.jsonl"
    path.write_text(text)

    with pytest.raises(CaptureInvalid) as raised:
        read_requests(path)

    assert str(raised.value).startswith(f"{path}{message}")


def test_a_har_file_without_entries_is_refused(tmp_path):
    path = tmp_path / "broken.har"
    path.write_text('{"log": {}}')

    with pytest.raises(CaptureInvalid, match="not a HAR file"):
        read_requests(path)
