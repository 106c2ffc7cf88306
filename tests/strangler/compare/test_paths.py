"""Globs over field keys: whole segments, never substrings."""

from __future__ import annotations

import pytest

from strangler.compare.paths import child_key, globs_overlap, matches, parse_glob, parse_key


def _matches(glob: str, key: str) -> bool:
    return matches(parse_glob(glob), parse_key(key))


@pytest.mark.parametrize(
    ("glob", "key", "expected"),
    [
        ("price", "price", True),
        ("price", "results[].price", False),
        ("price", "unit_price", False),
        ("price", "price_list", False),
        ("results[].price", "results[].price", True),
        ("results.*", "results[]", True),
        ("results[].*", "results[].price", True),
        ("results[].*", "results[].tax.rate", False),
        ("**.price", "price", True),
        ("**.price", "results[].variants[].price", True),
        ("**.price", "results[].unit_price", False),
        ("meta.**", "meta.page.next", True),
        ('["content-type"].x', '["content-type"].x', True),
    ],
)
def test_a_glob_matches_whole_segments_only(glob, key, expected):
    assert _matches(glob, key) is expected


def test_a_member_name_that_is_not_an_identifier_is_quoted_in_keys():
    assert child_key("", "price") == "price"
    assert child_key("meta", "served.at") == 'meta["served.at"]'
    assert child_key("", "@status") == '["@status"]'  # '@' keys are the engine's own


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("price_*", "a wildcard must be a whole segment"),
        ("a..b", "position 2"),
        ("a.", "empty segment"),
        ("a.**.**.b", "repeats"),
        ("", "is empty"),
    ],
)
def test_an_unreadable_glob_says_where(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_glob(text)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("**.price", "results[].price", True),
        ("results.*", "results[].price", False),
        ("meta", "results[].price", False),
        ("*.price", "total", False),
        ("**", "anything.at[].all", True),
    ],
)
def test_two_globs_overlap_when_one_key_matches_both(first, second, expected):
    assert globs_overlap(parse_glob(first), parse_glob(second)) is expected
