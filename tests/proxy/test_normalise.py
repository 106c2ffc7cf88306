from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strangler.proxy.errors import PathRejected
from strangler.proxy.normalise import decoded_path, normalise_path


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("/api/v1/products/", "/api/v1/products/"),
        ("/api/v1/orders/../products/", "/api/v1/products/"),
        ("/api/v1/orders/./../products/", "/api/v1/products/"),
        ("/api/v1/%2e%2e/v1/products/", "/api/v1/products/"),
        ("/api/v1/%2E%2E/v1/products/", "/api/v1/products/"),
        ("/api/v1/.%2e/v1/products/", "/api/v1/products/"),
        ("//api/v1/products/", "/api/v1/products/"),
        ("/api//v1///products/", "/api/v1/products/"),
        ("/api/v1/product%73/", "/api/v1/products/"),
        ("/api/v1/products/%31/", "/api/v1/products/1/"),
        ("/../../api/v1/products/", "/api/v1/products/"),
        ("/api/v1/products/..", "/api/v1/"),
        ("/api/v1/products/.", "/api/v1/products/"),
        ("/search/caf%c3%a9/", "/search/caf%C3%A9/"),
        ("/a%20b/", "/a%20b/"),
        ("/a;jsessionid=1/b/", "/a;jsessionid=1/b/"),
        ("/API/v1/products/", "/API/v1/products/"),
        ("/", "/"),
    ],
)
def test_a_path_has_one_canonical_spelling(raw: str, canonical: str) -> None:
    assert normalise_path(raw) == canonical


def test_normalising_twice_changes_nothing() -> None:
    once = normalise_path("/api//v1/%2e%2e/v1/./product%73/%c3%a9/")

    assert normalise_path(once) == once


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("/api/v1/orders%2F1/", "encoded_slash"),
        ("/api/v1/orders%2f1/", "encoded_slash"),
        ("/api/v1/orders%5C1/", "encoded_backslash"),
        ("/api/v1/orders%00/", "encoded_nul"),
        ("/api/v1\\orders/", "backslash"),
        ("/api/v1/orders/%", "bad_percent_encoding"),
        ("/api/v1/orders/%zz/", "bad_percent_encoding"),
        ("http://evil.example/api/v1/", "not_origin_form"),
        ("api/v1/", "not_origin_form"),
        ("*", "not_origin_form"),
        ("/api/v1/\x01/", "control_character"),
        ("/" + "a" * 5000, "path_too_long"),
    ],
)
def test_paths_that_upstreams_read_differently_are_refused(raw: str, code: str) -> None:
    with pytest.raises(PathRejected) as caught:
        normalise_path(raw)

    assert caught.value.code == code
    assert caught.value.status == 400


def test_the_matched_path_is_percent_decoded_like_pathinfo() -> None:
    assert decoded_path("/search/caf%C3%A9/a%20b/") == "/search/café/a b/"


_PATHS = st.lists(
    st.sampled_from(
        ["", ".", "..", "a", "b", "%2e", "%2E%2e", "%41", "%7e", "%20", "x;y", "é", "%c3%a9"]
    ),
    max_size=8,
).map(lambda parts: "/" + "/".join(parts))


@given(_PATHS)
def test_normalising_is_idempotent(raw: str) -> None:
    once = normalise_path(raw)

    assert normalise_path(once) == once


@given(_PATHS)
def test_a_canonical_path_has_no_doubled_slash_and_no_dot_segment(raw: str) -> None:
    canonical = normalise_path(raw)

    assert "//" not in canonical
    assert all(segment not in {".", ".."} for segment in canonical.split("/"))
    assert "%2E" not in canonical.upper() or "%252E" in canonical.upper()
