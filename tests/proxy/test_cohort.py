"""Canary stickiness: a request's cohort key, its bucket, and the cookie carrying it."""

from __future__ import annotations

from aiohttp import web

from strangler.proxy.cohort import (
    BUCKETS,
    COHORT_COOKIE,
    COHORT_COOKIE_MAX_AGE,
    canary_bucket,
    cohort_of,
    in_canary,
    set_cohort_cookie,
)


def test_a_resolved_user_is_their_own_cohort_whatever_cookie_they_carry() -> None:
    cohort = cohort_of(user_id="42", cookie="some-cookie")

    assert (cohort.key, cohort.new_cookie) == ("42", None)


def test_an_anonymous_client_keeps_the_cohort_of_its_cookie() -> None:
    cohort = cohort_of(user_id=None, cookie="their-key")

    assert (cohort.key, cohort.new_cookie) == ("their-key", None)


def test_a_new_client_gets_a_new_random_key_to_set_as_its_cookie() -> None:
    first, second = cohort_of(user_id=None, cookie=None), cohort_of(user_id=None, cookie="")

    assert first.new_cookie == first.key
    assert second.new_cookie == second.key
    assert first.key != second.key
    assert len(first.key) >= 20


def test_a_keys_bucket_depends_only_on_the_key_and_the_owner() -> None:
    assert canary_bucket(owner="catalog", key="u1") == canary_bucket(owner="catalog", key="u1")
    assert 0 <= canary_bucket(owner="catalog", key="u1") < BUCKETS
    owners = {canary_bucket(owner=f"service-{n}", key="u1") for n in range(20)}
    assert len(owners) > 1


def test_raising_the_percentage_only_moves_keys_towards_the_service() -> None:
    keys = [f"user-{n}" for n in range(2000)]
    at_10 = {k for k in keys if in_canary(owner="catalog", key=k, percent=10)}
    at_30 = {k for k in keys if in_canary(owner="catalog", key=k, percent=30)}

    assert at_10 <= at_30
    assert 100 < len(at_10) < 300
    assert not any(in_canary(owner="catalog", key=k, percent=0) for k in keys)
    assert all(in_canary(owner="catalog", key=k, percent=100) for k in keys)


def test_a_request_without_a_key_stays_on_the_legacy_side() -> None:
    assert not in_canary(owner="catalog", key=None, percent=100)


def test_the_cohort_cookie_lives_a_year_out_of_scripts_reach() -> None:
    response = web.Response()

    set_cohort_cookie(response, "k", secure=True)

    cookie = response.cookies[COHORT_COOKIE]
    assert cookie.value == "k"
    assert cookie["max-age"] == str(COHORT_COOKIE_MAX_AGE)
    assert (cookie["httponly"], cookie["secure"], cookie["samesite"]) == (True, True, "Lax")
