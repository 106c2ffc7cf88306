"""X-Request-ID and structured logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from strangler.servicekit.logging import json_logging_config
from strangler.servicekit.request_id import (
    RequestIdLogFilter,
    bind_request_id,
    sanitise_request_id,
    unbind_request_id,
)


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.mark.django_db
def test_a_request_id_sent_by_the_client_is_returned(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-1234-abcd")

    assert response["X-Request-ID"] == "req-1234-abcd"


@pytest.mark.django_db
def test_a_missing_request_id_is_generated(client: Client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["short", "x" * 200, "id with spaces", "id\r\nInjected: 1"])
def test_a_malformed_request_id_is_replaced_not_echoed(client: Client, bad: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)

    assert response["X-Request-ID"] != bad
    assert response["X-Request-ID"] == sanitise_request_id(response["X-Request-ID"])


def _json_handler(stream: list[str]) -> logging.Handler:
    config = json_logging_config(service="monolith")
    formatter_conf = dict(config["formatters"]["json"])
    factory = formatter_conf.pop("()")
    module, _, name = factory.rpartition(".")
    formatter = getattr(__import__(module, fromlist=[name]), name)(**formatter_conf)

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stream.append(self.format(record))

    handler = ListHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdLogFilter())
    return handler


def test_every_log_line_is_json_with_the_bound_request_id() -> None:
    lines: list[str] = []
    logger = logging.getLogger("tests.observability")
    logger.addHandler(handler := _json_handler(lines))
    try:
        token = bind_request_id("req-abcdef-42")
        logger.warning("inside %s", "a request")
        unbind_request_id(token)
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)

    inside, outside = (json.loads(line) for line in lines)
    assert inside["message"] == "inside a request"
    assert inside["request_id"] == "req-abcdef-42"
    assert inside["service"] == "monolith"
    assert inside["level"] == "WARNING"
    assert outside["request_id"] is None
