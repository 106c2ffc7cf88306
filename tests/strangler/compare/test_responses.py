"""Whole answers compared: status, chosen headers, bodies by content type, redirects."""

from __future__ import annotations

import gzip
import json

import pytest

from strangler.compare import DiffKind, HttpResponse
from strangler.compare.responses import diff_responses

from .factories import HTML, JSON, json_response, request, rules


def _diffs(base, candidate, data=None, req=None):
    found, _ = diff_responses(req or request(), base, candidate, rules(data))
    return [(d.key, d.kind, d.base, d.candidate) for d in found]


def test_identical_answers_have_no_difference():
    body = {"id": 1, "price": "9.99"}
    assert _diffs(json_response(body), json_response(body)) == []


def test_a_status_change_is_a_critical_difference():
    found, _ = diff_responses(request(), json_response({}), json_response({}, 404), rules())
    assert [(d.key, d.kind, d.critical) for d in found] == [("@status", DiffKind.VALUE, True)]


def test_volatile_headers_are_ignored_by_default_and_chosen_ones_compared():
    base = json_response({}, headers=(("Date", "Mon"), ("Server", "a"), ("Vary", "Accept")))
    candidate = json_response(
        {}, headers=(("date", "Tue"), ("X-Request-ID", "2"), ("vary", "Accept, Cookie"))
    )
    assert _diffs(base, candidate) == [
        ("@header.vary", DiffKind.VALUE, '"Accept"', '"Accept, Cookie"')
    ]


def test_the_header_allowlist_is_case_insensitive():
    data = {"headers": {"compare": ["X-Total-Count"]}}
    base = json_response({}, headers=(("x-total-count", "10"),))
    assert _diffs(base, json_response({}, headers=(("X-TOTAL-COUNT", "10"),)), data) == []
    assert _diffs(base, json_response({}, headers=(("X-Total-Count", "11"),)), data) == [
        ("@header.x-total-count", DiffKind.VALUE, '"10"', '"11"')
    ]
    assert _diffs(base, json_response({}), data) == [
        ("@header.x-total-count", DiffKind.MISSING, '"10"', None)
    ]


def test_compare_all_headers_still_leaves_out_the_volatile_ones():
    data = {"headers": {"compare": "all", "ignore": ["X-Frame-Options"]}}
    base = json_response({}, headers=(("Date", "1"), ("X-Frame-Options", "DENY")))
    candidate = json_response({}, headers=(("Date", "2"), ("X-Custom", "1")))
    assert _diffs(base, candidate, data) == [("@header.x-custom", DiffKind.EXTRA, None, '"1"')]


def test_a_content_type_differing_only_in_spelling_is_equal():
    base = HttpResponse(200, (("Content-Type", "application/json; charset=UTF-8"),), b"{}")
    candidate = HttpResponse(200, (("content-type", "Application/JSON;charset=utf-8"),), b"{}")
    assert _diffs(base, candidate) == []


def test_json_bodies_differing_only_in_spacing_and_member_order_are_equal():
    base = HttpResponse(200, JSON, b'{"a": 1, "b": [1, 2]}')
    candidate = HttpResponse(200, JSON, b'{"b":[1,2],"a":1}')
    assert _diffs(base, candidate) == []


def test_a_compressed_body_is_compared_by_its_content():
    value = {"results": [{"id": 1}]}
    zipped = HttpResponse(
        200, (*JSON, ("Content-Encoding", "gzip")), gzip.compress(json.dumps(value).encode())
    )
    assert _diffs(json_response(value), zipped) == []


def test_json_against_html_is_a_type_difference_of_the_body():
    html = HttpResponse(500, HTML, b"<h1>Server Error</h1>")
    assert (("@body", DiffKind.TYPE, "json", "html")) in _diffs(json_response({}, 500), html)


HTML_PAGE = """<html><head>
<meta name="csrf-token" content="{token}">
<script nonce="{nonce}">var csrfToken = "{token}";</script>
</head><body>  <main><div id="cart">
  <p>Total:   <b>{total}</b></p>
  <form><input type="hidden" name="csrfmiddlewaretoken" value="{token}"></form>
  <p class="rendered">rendered in {ms} ms</p>
</div></main></body></html>"""


def _page(token="t1", nonce="n1", total="12.50", ms="7", spacing=" "):
    text = HTML_PAGE.format(token=token, nonce=nonce, total=total, ms=ms).replace("   ", spacing)
    return HttpResponse(200, HTML, text.encode())


def test_html_is_compared_with_whitespace_csrf_tokens_and_nonces_normalised():
    assert _diffs(_page(), _page(token="t2", nonce="n2", spacing="\n\t ")) == []


def test_html_masks_configured_patterns():
    data = {"text": {"mask": [r"rendered in \d+ ms"]}}
    assert _diffs(_page(ms="7"), _page(ms="12"), data) == []
    assert len(_diffs(_page(ms="7"), _page(ms="12"))) == 1


def test_an_html_difference_is_keyed_by_its_enclosing_elements():
    assert _diffs(_page(total="12.50"), _page(total="13.00")) == [
        ("@html:html>body>main>div#cart>p>b", DiffKind.VALUE, "12.50", "13.00")
    ]


def test_plain_text_compares_line_by_line_with_whitespace_normalised():
    headers = (("Content-Type", "text/plain"),)
    base = HttpResponse(200, headers, b"total:  12\nitems: 3\n")
    assert _diffs(base, HttpResponse(200, headers, b"total: 12 \nitems: 3\n")) == []
    found, _ = diff_responses(
        request(), base, HttpResponse(200, headers, b"total: 12\nitems: 4\n"), rules()
    )
    assert [(d.path, d.key, d.base, d.candidate) for d in found] == [
        ("@text:L2", "@text", "items: 3", "items: 4")
    ]


def test_binary_bodies_compare_by_hash_and_length():
    headers = (("Content-Type", "image/png"),)
    base = HttpResponse(200, headers, b"\x89PNG" + bytes(100))
    same_length = HttpResponse(200, headers, b"\x89PNG" + bytes(99) + b"\x01")
    longer = HttpResponse(200, headers, b"\x89PNG" + bytes(101))
    ((key, kind, shown_base, _),) = _diffs(base, same_length)
    assert (key, kind) == ("@body", DiffKind.VALUE)
    assert shown_base.startswith("sha256:")
    assert shown_base.endswith("(104 bytes)")
    assert _diffs(base, longer)[0][:2] == ("@body", DiffKind.LENGTH)


@pytest.mark.parametrize(
    ("base_location", "candidate_location", "equal"),
    [
        ("http://127.0.0.1:8100/accounts/login/?next=/cart/", "/accounts/login/?next=/cart/", True),
        ("http://shop.test/cart/?b=2&a=1", "http://127.0.0.1:8200/cart/?a=1&b=2", True),
        ("https://pay.example/checkout/1", "/checkout/1", False),
        ("/cart/", "/basket/", False),
    ],
)
def test_a_redirect_compares_status_and_normalised_location(
    base_location, candidate_location, equal
):
    req = request("/cart", headers=(("Host", "shop.test"),))
    base = HttpResponse(302, (("Location", base_location),), b"", "http://127.0.0.1:8100")
    candidate = HttpResponse(
        302, (("Location", candidate_location),), b"moved", "http://127.0.0.1:8200"
    )
    found = _diffs(base, candidate, req=req)
    assert (found == []) is equal
    if not equal:
        assert found[0][:2] == ("@header.location", DiffKind.VALUE)


def test_drf_page_links_are_compared_without_host_and_port():
    base = json_response(
        {
            "count": 45,
            "next": "http://127.0.0.1:8100/api/v1/products/?page=3",
            "previous": "http://127.0.0.1:8100/api/v1/products/?page=1",
        }
    )
    candidate = json_response(
        {
            "count": 45,
            "next": "https://shop.test/api/v1/products/?page=3",
            "previous": "http://127.0.0.1:8200/api/v1/products/?page=1",
        }
    )
    assert _diffs(base, candidate) == []
    other_page = json_response(
        {
            "count": 45,
            "next": "http://x:1/api/v1/products/?page=4",
            "previous": "http://x:1/api/v1/products/?page=1",
        }
    )
    assert [d[:2] for d in _diffs(base, other_page)] == [("next", DiffKind.VALUE)]


def test_a_head_answer_has_no_body_to_compare():
    found, _ = diff_responses(
        request(method="HEAD"), json_response({"a": 1}), json_response({"a": 2}), rules()
    )
    assert found == []
