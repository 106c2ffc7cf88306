"""Canary stickiness, all of it: a request's cohort key, the key's bucket, and the cookie
that carries an anonymous client's key from one request to the next.

The key is the resolved user's id when there is one, else the client's cohort cookie; a
client with neither gets a new random key, set as a cookie on the answer. A key's bucket
depends only on the key and the route's owner, so a user stays on one side while the
percentage stands (sticky), and raising it only ever moves buckets towards the service
(monotonic): ``strangler.proxy.modes`` compares the bucket with the route's ``canary_percent``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from aiohttp import web

__all__ = [
    "BUCKETS",
    "COHORT_COOKIE",
    "COHORT_COOKIE_MAX_AGE",
    "Cohort",
    "canary_bucket",
    "cohort_of",
    "in_canary",
    "set_cohort_cookie",
]

COHORT_COOKIE = "strangler_cohort"
# A cohort cookie lives a year: a user stays on their side of a canary for its whole ramp.
COHORT_COOKIE_MAX_AGE = 365 * 24 * 3600
# Buckets of 0.01 %: canary percentages with two decimals split exactly.
BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class Cohort:
    """Whose side a request is on: ``key`` decides, ``new_cookie`` goes out with the answer
    (a client seen for the first time)."""

    key: str
    new_cookie: str | None = None


def cohort_of(*, user_id: str | None, cookie: str | None) -> Cohort:
    """The cohort of a request from its user (when resolved) or its cohort cookie; else a
    new key, to be set as the cookie."""
    if user_id is not None:
        return Cohort(user_id)
    if cookie:
        return Cohort(cookie)
    key = secrets.token_urlsafe(16)
    return Cohort(key, new_cookie=key)


def canary_bucket(*, owner: str, key: str) -> int:
    digest = hashlib.blake2b(f"{owner}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def in_canary(*, owner: str, key: str | None, percent: float) -> bool:
    """Whether ``key`` falls in the ``percent`` of buckets that ``owner`` answers."""
    return key is not None and canary_bucket(owner=owner, key=key) < round(percent * BUCKETS / 100)


def set_cohort_cookie(response: web.StreamResponse, key: str, *, secure: bool) -> None:
    response.set_cookie(
        COHORT_COOKIE, key, max_age=COHORT_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
        secure=secure,
    )  # fmt: skip
