"""The monolith and the service, loaded with the same rows, answer the same bytes.

Both run for real under gunicorn, each on its own database (SQLite, or PostgreSQL in the CI
pass), loaded from one data set (``contract.py``). Every request of the corpus goes to both
with the same ``Host``; the monolith gets the caller's token, the service the signed identity
the proxy would send for that caller. Status, body and the headers a client acts on must be
identical.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from strangler.identity import Identity, sign_identity
from tests.extracted.catalog.contract import (
    Request,
    fixture,
    read_corpus,
    refused_write_corpus,
    staff_invalid_write_corpus,
)
from tests.extracted.catalog.processes import (
    Server,
    fresh_database,
    gunicorn,
    manage,
    project_env,
)

pytestmark = pytest.mark.e2e

# The public host the proxy passes through; page links are built from it on both sides.
PUBLIC_HOST = "shop.example.test"
SECRET = "same-answers-identity-secret"
# A local request to either server takes a few ms; 10 s only trips on a hung server.
REQUEST_TIMEOUT_SECONDS = 10
# Headers a client acts on; the rest (Date, X-Request-ID) differ between any two answers.
COMPARED_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Allow",
    "WWW-Authenticate",
    "Vary",
    "Location",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)

_USERS = {
    "alice": Identity(user_id="2", username="alice"),
    "stella": Identity(user_id="1", username="stella", is_staff=True),
}
_TOKENS = {"stella": "5" * 40, "alice": "a" * 40}
_MAKE_USERS = f"""
from monolith.accounts.models import User
from rest_framework.authtoken.models import Token
for username, staff in (("stella", True), ("alice", False)):
    user = User.objects.create_user(username, email=username + "@example.com", is_staff=staff)
    Token.objects.create(user=user, key={_TOKENS!r}[username])
"""


@dataclass(frozen=True)
class Pair:
    monolith: Server
    service: Server


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _load(project: str, *, env: dict[str, str], rows: list[dict[str, Any]], tmp: Path) -> None:
    data = tmp / f"{project}-catalog.json"
    data.write_text(json.dumps(rows, ensure_ascii=False))
    manage(project, "migrate", "--noinput", env=env)
    manage(project, "loaddata", str(data), env=env)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("same-answers")
    with contextlib.ExitStack() as stack:
        monolith_db = stack.enter_context(fresh_database("same_monolith", tmp))
        service_db = stack.enter_context(fresh_database("same_catalog", tmp))
        shared = {
            "DJANGO_ALLOWED_HOSTS": f"{PUBLIC_HOST},127.0.0.1",
            "STRANGLER_IDENTITY_SECRET": SECRET,
        }
        monolith_env = project_env(
            var_dir=tmp / "monolith", DJANGO_SETTINGS_MODULE="monolith.settings",
            DATABASE_URL=monolith_db, STRANGLER_SERVICE="monolith", **shared,
        )  # fmt: skip
        service_env = project_env(
            var_dir=tmp / "catalog", DJANGO_SETTINGS_MODULE="extracted.catalog.settings",
            CATALOG_DATABASE_URL=service_db, STRANGLER_SERVICE="catalog", **shared,
        )  # fmt: skip
        _load(
            "monolith", env=monolith_env, rows=fixture(stock_model="inventory.stocklevel"), tmp=tmp
        )
        manage("monolith", "shell", "-c", _MAKE_USERS, env=monolith_env)
        _load(
            "extracted.catalog",
            env=service_env,
            rows=fixture(stock_model="catalog.stocklevel"),
            tmp=tmp,
        )
        monolith = stack.enter_context(
            gunicorn("monolith.wsgi", env=monolith_env, log=tmp / "monolith.log")
        )
        service = stack.enter_context(
            gunicorn("extracted.catalog.wsgi", env=service_env, log=tmp / "catalog.log")
        )
        yield Pair(monolith=monolith, service=service)


def _ask(server: Server, request: Request, credentials: dict[str, str]) -> Answer:
    response = requests.request(
        request.method,
        server.url + request.path,
        json=request.body,
        headers={"Host": PUBLIC_HOST, **credentials},
        timeout=REQUEST_TIMEOUT_SECONDS,
        allow_redirects=False,
    )
    headers = {
        name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers
    }
    return Answer(status=response.status_code, headers=headers, body=response.content)


def _both(pair: Pair, request: Request) -> tuple[Answer, Answer]:
    """The answers of the monolith and of the service, each sent what the proxy sends it:
    the client's headers, and to the service also the identity it resolved them to."""
    monolith_credentials: dict[str, str] = {}
    service_credentials: dict[str, str] = {}
    if request.caller is not None:
        monolith_credentials["Authorization"] = f"Token {_TOKENS[request.caller]}"
        identity = sign_identity(_USERS[request.caller], secret=SECRET, now=time.time())
        service_credentials = {**monolith_credentials, "X-Strangler-Identity": identity}
    return (
        _ask(pair.monolith, request, monolith_credentials),
        _ask(pair.service, request, service_credentials),
    )


def test_the_corpus_meets_every_status_of_the_contract(pair: Pair) -> None:
    # Guards the comparisons below from passing on a corpus that only ever misses.
    corpus = read_corpus() + refused_write_corpus() + staff_invalid_write_corpus()

    statuses = {_both(pair, request)[0].status for request in corpus}

    assert statuses == {200, 301, 400, 401, 403, 404, 409}


def test_page_links_name_the_public_host(pair: Pair) -> None:
    _, service = _both(pair, Request("GET", "/api/v1/products/?page=2&page_size=10"))

    links = json.loads(service.body)
    assert links["next"] == f"http://{PUBLIC_HOST}/api/v1/products/?page=3&page_size=10"
    assert links["previous"] == f"http://{PUBLIC_HOST}/api/v1/products/?page_size=10"


@pytest.mark.parametrize("request_", read_corpus(), ids=str)
def test_a_safe_request_gets_the_same_answer_from_both(pair: Pair, request_: Request) -> None:
    monolith, service = _both(pair, request_)

    assert service == monolith


@pytest.mark.parametrize("request_", refused_write_corpus(), ids=str)
def test_a_write_by_someone_not_staff_is_refused_alike(pair: Pair, request_: Request) -> None:
    monolith, service = _both(pair, request_)

    assert monolith.status in (401, 403)
    assert service == monolith


@pytest.mark.parametrize("request_", staff_invalid_write_corpus(), ids=str)
def test_an_invalid_staff_write_is_refused_alike(pair: Pair, request_: Request) -> None:
    monolith, service = _both(pair, request_)

    assert monolith.status >= 400
    assert service == monolith


def _without_times(body: bytes) -> Any:
    """The JSON body with every created_at/updated_at blanked: a write stamps each side's
    own clock."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: "<time>" if key in ("created_at", "updated_at") else strip(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [strip(value) for value in node]
        return node

    return strip(json.loads(body)) if body else None


def test_staff_writes_answer_alike_and_leave_both_sides_alike(pair: Pair) -> None:
    # Last in the module: the writes change the rows the tests above read.
    writes = [
        Request("POST", "/api/v1/categories/", "stella", {"name": "Garden", "parent": 3}),
        Request("POST", "/api/v1/categories/", "stella", {"name": "Garden"}),
        Request("PATCH", "/api/v1/categories/40/", "stella", {"description": "Now stocked"}),
        Request(
            "POST",
            "/api/v1/products/",
            "stella",
            {"name": "Kettle", "sku": "NEW-1", "price": "12.5", "stock": 7},
        ),
        Request(
            "POST",
            "/api/v1/products/",
            "stella",
            {"name": "Spade", "sku": "NEW-2", "price": "3", "category": 40},
        ),
        Request("PATCH", "/api/v1/products/100/", "stella", {"price": "8.99", "slug": ""}),
        Request(
            "PUT",
            "/api/v1/products/103/",
            "stella",
            {"name": "Renamed", "sku": "RN-1", "price": "1.00", "currency": "GBP"},
        ),
        Request("DELETE", "/api/v1/products/106/", "stella"),
        Request("DELETE", "/api/v1/products/106/", "stella"),
        Request("DELETE", "/api/v1/categories/40/", "stella"),
        Request("GET", "/api/v1/products/?page_size=100", "stella"),
        Request("GET", "/api/v1/products/?in_stock=true&page_size=100"),
        Request("GET", "/api/v1/categories/?page_size=100"),
    ]
    for request in writes:
        monolith, service = _both(pair, request)

        assert (service.status, _without_times(service.body)) == (
            monolith.status,
            _without_times(monolith.body),
        ), str(request)
