"""Replays refused across processes: beta's two gunicorn workers share what they have seen."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests
from django.conf import settings

from strangler.sync.signing import sign_sync_call
from strangler.sync.wire import dumps
from tests.strangler.sync.conftest import Node

HTTP_TIMEOUT_SECONDS = 10
COPIES = 8


def test_copies_of_one_call_sent_at_once_to_two_workers_go_through_once(beta: Node) -> None:
    body = dumps({"source": "alpha"})
    path = "/internal/sync/cursor"
    headers = {
        **sign_sync_call(
            secret=settings.STRANGLER_SYNC["secret"], method="POST", path=path, body=body,
            sender="alpha", receiver="beta", now=time.time(),
        ),
        "Content-Type": "application/json",
        "Connection": "close",  # a connection each: the workers share them out
    }  # fmt: skip

    def send(_: int) -> tuple[int, str]:
        response = requests.post(
            f"{beta.url}{path}", data=body, headers=headers, timeout=HTTP_TIMEOUT_SECONDS
        )
        return response.status_code, response.json().get("code", "")

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        answers = sorted(pool.map(send, range(COPIES)))

    assert answers == [(200, "")] + [(401, "replayed")] * (COPIES - 1)
