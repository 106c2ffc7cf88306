"""The proxy's counts of a plan's routes from the whole fleet, or none at all.

Where they come from, in order:

1. a Prometheus server scraping every replica, when the plan or ``$STRANGLER_PROMETHEUS_URL``
   names one (:mod:`strangler.plans.prometheus`);
2. every replica's admin ``/metrics``, the replicas listed by the control store
   (``STRANGLER_STORE_URL``), one read per admin URL: the workers of one host share it,
   and its ``/metrics`` already sums them;
3. the one admin API the command was given (a proxy on one host, the file store).

Counts from a subset of the fleet would judge a step on the replicas that happened to
answer: a replica whose ``/metrics`` did not answer, a target Prometheus found down, or a
store that cannot say how many replicas there are makes the counts ``None``, with the reason
("2 of 3 replicas answered ..."), and every traffic figure inconclusive.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import requests

from strangler.control import StoreError
from strangler.plans.prometheus import PrometheusSource, PrometheusUnanswered, prometheus_counts
from strangler.plans.schema import Plan
from strangler.plans.snapshot import RouteCounts
from strangler.plans.sources import read_route_counts, read_writes_in_flight

if TYPE_CHECKING:
    from strangler.control import ControlStore

__all__ = ["MAX_PARALLEL_READS", "proxy_counts", "replica_admin_urls", "unanswered_writes"]

_T = TypeVar("_T")

# Replicas are read at once, so a fleet costs one timeout, not one per replica; a fleet
# larger than this is read in rounds (each read is one GET of a few kilobytes).
MAX_PARALLEL_READS = 16


def replica_admin_urls(store: ControlStore) -> list[str]:
    """Every member's admin URL, once each (a host's workers share theirs); raises
    :class:`~strangler.control.StoreError`."""
    return sorted({r.admin_url.rstrip("/") for r in store.replicas() if r.admin_url})


def proxy_counts(
    plan: Plan,
    *,
    admin_url: str,
    session: requests.Session,
    store: ControlStore | None,
    prometheus: PrometheusSource | None,
    errors: list[str],
) -> tuple[RouteCounts | None, str]:
    """``(the counts, "")`` or ``(None, why)``, the reason also added to ``errors``."""
    try:
        counts = _read(plan, admin_url, session, store, prometheus)
    except _Missing as missing:
        errors.append(missing.reason)
        return None, missing.reason
    return counts, ""


class _Missing(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _read(
    plan: Plan,
    admin_url: str,
    session: requests.Session,
    store: ControlStore | None,
    prometheus: PrometheusSource | None,
) -> RouteCounts:
    urls: list[str] = []
    if store is not None:
        try:
            urls = replica_admin_urls(store)
        except StoreError as exc:
            raise _Missing(
                f"proxy metrics: cannot tell how many proxy replicas there are: {exc.message}"
            ) from exc
    if prometheus is not None:
        try:
            return prometheus_counts(
                plan, prometheus, session, members=len(urls) if store is not None else None
            )
        except PrometheusUnanswered as exc:
            raise _Missing(f"proxy metrics: {exc.message}") from exc
    if not urls:  # no store, or no proxy has joined it: the one admin API
        urls = [admin_url.rstrip("/")]
    answers = _read_each(urls, lambda url: read_route_counts(plan, url, session))
    failed = [
        f"{url}: {answer}"
        for url, answer in zip(urls, answers, strict=True)
        if isinstance(answer, str)
    ]
    if failed:
        if len(urls) == 1:
            raise _Missing(f"proxy metrics at {failed[0]}")
        raise _Missing(
            f"proxy metrics: {len(urls) - len(failed)} of {len(urls)} replicas answered "
            f"({'; '.join(failed)}); figures from part of the fleet are not judged"
        )
    total = RouteCounts()
    for url, answer in zip(urls, answers, strict=True):
        assert not isinstance(answer, str)
        # By host:port, as Prometheus names a scraped target's instance.
        total.sources[urlsplit(url).netloc or url] = answer
        total.add(answer)
    return total


def _read_each(urls: list[str], read: Callable[[str], _T]) -> list[_T | str]:
    """``read(url)`` of every replica at once, in ``urls``' order; one that could not be
    read gives why instead."""

    def one(url: str) -> _T | str:
        try:
            return read(url)
        except (requests.RequestException, ValueError) as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=min(len(urls), MAX_PARALLEL_READS)) as pool:
        return list(pool.map(one, urls))


def unanswered_writes(
    plan: Plan, *, admin_url: str, session: requests.Session, store: ControlStore | None
) -> str | None:
    """``None`` once no proxy of the fleet (every replica the store lists, else the one admin
    API) has a write to the plan's routes sent upstream and unanswered; else what is left, or
    why it cannot be told (a replica that does not answer is never taken as done)."""
    urls: list[str] = []
    if store is not None:
        try:
            urls = replica_admin_urls(store)
        except StoreError as exc:
            return f"cannot tell how many proxy replicas there are: {exc.message}"
    if not urls:
        urls = [admin_url.rstrip("/")]

    routes = frozenset(plan.routes)
    answers = _read_each(urls, lambda url: read_writes_in_flight(routes, url, session))
    left = [
        f"{url}: {answer if isinstance(answer, str) else f'{answer} unanswered'}"
        for url, answer in zip(urls, answers, strict=True)
        if answer != 0
    ]
    return "; ".join(left) or None
