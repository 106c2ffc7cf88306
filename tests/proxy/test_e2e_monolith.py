"""The monolith behind the proxy, both as real processes: a customer browses, logs in, fills
a cart, checks out and pays through HTML pages, with sessions, CSRF and redirects intact."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from tests.monolith.processes import PYTHON, free_port, python_env, running, url_answers
from tests.proxy import yaml_writer

pytestmark = pytest.mark.e2e

SETUP_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Stack:
    proxy: str
    monolith: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    env = python_env(
        DATABASE_URL=f"sqlite:///{work / 'monolith.sqlite3'}", STRANGLER_VAR_DIR=str(work)
    )
    for command in (["migrate", "--noinput"], ["seed_demo", "--products", "30"]):
        subprocess.run(
            [PYTHON, "-m", "monolith", *command], env=env, check=True, capture_output=True,
            timeout=SETUP_TIMEOUT_SECONDS,
        )  # fmt: skip
    monolith_port, proxy_port, admin_port = free_port(), free_port(), free_port()
    monolith = f"http://127.0.0.1:{monolith_port}"
    routes = work / "routes.yaml"
    yaml_writer.write(routes, {"upstreams": {"monolith": {"url": monolith}}})
    gunicorn = [
        PYTHON,
        "-m",
        "gunicorn",
        "monolith.wsgi",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{monolith_port}",
    ]
    proxy_args = [PYTHON, "-m", "strangler.proxy", "--config", str(routes),
                  "--port", str(proxy_port), "--admin-port", str(admin_port)]  # fmt: skip
    proxy = f"http://127.0.0.1:{proxy_port}"
    with (
        running(
            gunicorn, env=env, log=work / "gunicorn.log", ready=url_answers(f"{monolith}/readyz")
        ),
        running(
            proxy_args,
            env=python_env(),
            log=work / "proxy.log",
            ready=url_answers(f"{proxy}/readyz"),
        ),
    ):
        yield Stack(proxy=proxy, monolith=monolith)


def _form_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_a_customer_browses_to_checkout_and_pays_through_the_proxy(stack: Stack) -> None:
    browser = requests.Session()
    home = browser.get(f"{stack.proxy}/", timeout=10)
    assert home.status_code == 200
    assert "Storefront" in home.text

    login_page = browser.get(f"{stack.proxy}/accounts/login/", timeout=10)
    logged_in = browser.post(
        f"{stack.proxy}/accounts/login/",
        data={
            "username": "alice",
            "password": "demo-password",
            "csrfmiddlewaretoken": _form_token(login_page.text),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert logged_in.status_code == 302, logged_in.text[:500]
    assert logged_in.headers["Location"].startswith("/")

    product = browser.get(f"{stack.proxy}/api/v1/products/?in_stock=true", timeout=10).json()[
        "results"
    ][0]
    page = browser.get(f"{stack.proxy}/products/{product['slug']}/", timeout=10)
    assert page.status_code == 200
    assert product["name"] in page.text

    added = browser.post(
        f"{stack.proxy}/cart/add/",
        data={
            "product_id": product["id"],
            "quantity": 1,
            "csrfmiddlewaretoken": _form_token(page.text),
        },
        timeout=10,
    )
    assert added.status_code == 200
    assert product["name"] in added.text

    checkout = browser.get(f"{stack.proxy}/orders/checkout/", timeout=10)
    address = browser.get(f"{stack.proxy}/api/v1/me/addresses/", timeout=10).json()["results"][0]
    placed = browser.post(
        f"{stack.proxy}/orders/checkout/",
        data={"address": address["id"], "csrfmiddlewaretoken": _form_token(checkout.text)},
        allow_redirects=False,
        timeout=10,
    )
    assert placed.status_code == 302, placed.text[:500]
    order_url = f"{stack.proxy}{placed.headers['Location']}"

    order_page = browser.get(order_url, timeout=10)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', order_page.text)
    assert key
    pay_url = re.search(r'action="(/orders/\d+/pay/)"', order_page.text)
    assert pay_url
    paid = browser.post(
        f"{stack.proxy}{pay_url.group(1)}",
        data={"card_number": "4242 4242 4242 4242", "idempotency_key": key.group(1),
              "csrfmiddlewaretoken": _form_token(order_page.text)},
        timeout=10,
    )  # fmt: skip
    assert paid.status_code == 200
    assert "paid" in paid.text

    history = browser.get(f"{stack.proxy}/orders/", timeout=10)
    number = re.search(r"<h1>Order (\S+)", order_page.text)
    assert number
    assert number.group(1) in history.text


def test_a_post_without_the_csrf_token_is_still_refused_through_the_proxy(stack: Stack) -> None:
    response = requests.post(
        f"{stack.proxy}/cart/add/", data={"product_id": 1, "quantity": 1}, timeout=10
    )

    assert response.status_code == 403


def test_static_files_come_through_byte_for_byte(stack: Stack) -> None:
    through = requests.get(f"{stack.proxy}/static/css/store.css", timeout=10)
    direct = requests.get(f"{stack.monolith}/static/css/store.css", timeout=10)

    assert through.status_code == 200
    assert through.content == direct.content
    assert through.headers["Content-Type"] == direct.headers["Content-Type"]


def test_api_pagination_links_name_the_public_host(stack: Stack) -> None:
    page = requests.get(f"{stack.proxy}/api/v1/products/?page_size=5", timeout=10).json()

    assert page["next"].startswith(f"{stack.proxy}/api/v1/products/")
