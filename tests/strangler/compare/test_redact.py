"""No credential survives into examples, curl lines, results or reports."""

from __future__ import annotations

import dataclasses
import json

import pytest

from strangler.compare import HttpRequest, HttpResponse
from strangler.compare.curl import curl_command
from strangler.compare.redact import REDACTED, is_secret_name

from .factories import HTML, JSON, ROUTE, engine, json_response

SECRETS = [
    "cookie-SECRET-1",
    "token-SECRET-2",
    "csrf-SECRET-3",
    "identity-SECRET-4",
    "force-SECRET-5",
    "session-SECRET-6",
    "password-SECRET-7",
    "query-token-SECRET-8",
    "set-cookie-SECRET-9",
    "body-token-SECRET-10",
    "html-csrf-SECRET-11",
    "bearer-SECRET-12",
]


def _request() -> HttpRequest:
    return HttpRequest(
        "POST",
        f"/api/v1/orders/?page=2&token={SECRETS[7]}&sessionid={SECRETS[5]}",
        (
            ("Host", "shop.test"),
            ("Cookie", f"sessionid={SECRETS[0]}; csrftoken={SECRETS[2]}"),
            ("Authorization", f"Token {SECRETS[1]}"),
            ("X-CSRFToken", SECRETS[2]),
            ("X-Strangler-Identity", SECRETS[3]),
            ("X-Strangler-Force", SECRETS[4]),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ),
        json.dumps({"password": SECRETS[6], "lines": [{"product": 1, "quantity": 2}]}).encode(),
    )


def _response(side: int) -> HttpResponse:
    body = {
        "id": side,
        "auth_token": f"{SECRETS[9]}-{side}",
        "note": f"Authorization: Bearer {SECRETS[11]}{side}",
    }
    headers = (*JSON, ("Set-Cookie", f"sessionid={SECRETS[8]}{side}"))
    return HttpResponse(201, headers, json.dumps(body).encode())


def _everything_shown(compare) -> str:
    result = compare.compare(ROUTE, _request(), _response(1), _response(2))
    shown = [dataclasses.asdict(result), dataclasses.asdict(compare.report(ROUTE))]
    return json.dumps(shown, default=str)


def test_no_secret_survives_into_results_examples_curl_or_reports():
    # Given a route that even compares Set-Cookie, and a request full of credentials
    compare = engine({"headers": {"compare": ["content-type", "set-cookie"]}})
    # When both sides differ exactly where the credentials are
    text = _everything_shown(compare)
    # Then the differences are reported, their secret values are not
    assert "auth_token" in text
    assert "@header.set-cookie" in text
    assert "curl" in text
    for secret in SECRETS:
        assert secret not in text
    assert REDACTED in text


def test_a_curl_line_keeps_header_names_and_the_rest_of_the_request():
    line = curl_command(_request())
    assert line.startswith("curl -X POST 'http://shop.test/api/v1/orders/?page=2&token=[redacted]")
    assert "-H 'Cookie: [redacted]'" in line
    assert "-H 'X-Strangler-Force: [redacted]'" in line
    assert "-H 'Accept: application/json'" in line
    assert '"lines": [{"product": 1, "quantity": 2}]' in line
    for secret in SECRETS:
        assert secret not in line


def test_values_under_a_secret_name_are_redacted_at_any_depth():
    compare = engine()
    base = json_response({"session": {"id": SECRETS[5]}, "tokens": [SECRETS[1]], "user": {}})
    candidate = json_response(
        {"session": {"id": "x"}, "tokens": ["y"], "user": {"auth": {"key": SECRETS[9]}}}
    )
    result = compare.compare(ROUTE, _request(), base, candidate)
    assert {d.key for d in result.differences} == {"session.id", "tokens[]", "user.auth"}
    text = json.dumps(dataclasses.asdict(result))
    for secret in SECRETS:
        assert secret not in text


def test_html_differences_never_show_a_csrf_token():
    page = '<form><input name="csrfmiddlewaretoken" value="{}"><p>{}</p></form>'
    base = HttpResponse(200, HTML, page.format(SECRETS[10], "a").encode())
    candidate = HttpResponse(200, HTML, page.format("other", "b").encode())
    compare = engine()
    result = compare.compare(ROUTE, _request(), base, candidate)
    assert [d.key for d in result.differences] == ["@html:form>p"]
    assert SECRETS[10] not in json.dumps(dataclasses.asdict(compare.report(ROUTE)), default=str)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("Proxy-Authorization", True),
        ("X-Strangler-Identity", True),
        ("X-Strangler-Force", True),
        ("csrfmiddlewaretoken", True),
        ("accessToken", True),
        ("session_id", True),
        ("api_key", True),
        ("author", False),
        ("price", False),
        ("side", False),
        ("keyboard", False),
    ],
)
def test_secret_names_are_recognised_by_word_not_by_substring(name, secret):
    assert is_secret_name(name) is secret
