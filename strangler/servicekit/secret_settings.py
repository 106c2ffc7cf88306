"""Secrets read from the environment at start-up, refused when they would not keep anyone out.

Outside demo mode a process stops before serving anything when a secret it needs is missing,
empty, shorter than ``MIN_SECRET_CHARS`` or published (a value written in this repository:
every one of those starts with ``insecure``). The message names each variable at fault and
never repeats a value.

Demo mode is explicit: ``STRANGLER_DEMO=1`` (set by ``stack.yaml`` for ``make up``, by the
test suites and by the tutorials). A missing secret then takes its published demo value and
nothing is checked, so the demo runs with no set-up and is never mistaken for a deployment.

No Django here: the proxy, which imports none, reads its secrets through this module too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

__all__ = [
    "DEMO_VARIABLE",
    "EXIT_REFUSED",
    "IDENTITY_SECRET",
    "MIN_SECRET_CHARS",
    "PROXY_ADMIN_TOKEN",
    "PROXY_SYNC_SECRET",
    "PUBLISHED_PREFIX",
    "SYNC_METRICS_TOKEN",
    "SYNC_SECRET",
    "SecretRefused",
    "SecretSpec",
    "demo_mode",
    "django_secret_key",
    "read_secrets",
    "read_secrets_or_exit",
    "secret_problem",
]

DEMO_VARIABLE = "STRANGLER_DEMO"
_DEMO_ON = frozenset({"1", "true", "yes", "on"})
_DEMO_OFF = frozenset({"", "0", "false", "no", "off"})
# 32 characters of ``secrets.token_urlsafe`` carry ~190 bits; a person-chosen phrase that short
# is guessable offline from one captured HMAC, so shorter values are refused outright.
MIN_SECRET_CHARS = 32
# Every secret value committed to this repository (demo, compose and test values) starts with
# this, so a copy of any of them is recognised wherever it turns up.
PUBLISHED_PREFIX = "insecure"
# gunicorn's master stops (instead of forking new workers forever) when a worker exits with
# this code, its ``Arbiter.APP_LOAD_ERROR``; any other command just exits non-zero with it.
EXIT_REFUSED = 4
_HOW_TO_FIX = (
    f"Set each to a random value of at least {MIN_SECRET_CHARS} characters, e.g. "
    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, or set "
    f"{DEMO_VARIABLE}=1 to run the demo with its published secrets."
)


class SecretRefused(ValueError):
    """A secret cannot be used; the message names every variable at fault."""


@dataclass(frozen=True)
class SecretSpec:
    """One secret a process reads: its variable, its demo value, and whether it must be set."""

    name: str
    demo_value: str
    required: bool = True


# The secrets more than one process shares, with the demo values they share in demo mode.
IDENTITY_SECRET = SecretSpec("STRANGLER_IDENTITY_SECRET", "insecure-demo-identity-secret")
SYNC_SECRET = SecretSpec("STRANGLER_SYNC_SECRET", "insecure-demo-sync-secret")
# Optional: without it the metrics endpoint takes signed sync calls only (docs/sync.md).
SYNC_METRICS_TOKEN = SecretSpec(
    "STRANGLER_SYNC_METRICS_TOKEN", "insecure-demo-sync-metrics-token", required=False
)
PROXY_ADMIN_TOKEN = SecretSpec("PROXY_ADMIN_TOKEN", "insecure-demo-admin-token")
# The proxy reads the sync's status with it, to check a route's write owner (proxy.write_guard);
# optional there: without it no route can give its writes to an extracted service.
PROXY_SYNC_SECRET = SecretSpec(SYNC_SECRET.name, SYNC_SECRET.demo_value, required=False)


def django_secret_key(demo_value: str) -> SecretSpec:
    """``DJANGO_SECRET_KEY``: each project has a demo value of its own."""
    return SecretSpec("DJANGO_SECRET_KEY", demo_value)


def demo_mode(env: Mapping[str, str]) -> bool:
    """Whether ``STRANGLER_DEMO`` turns demo mode on; a value that is neither on nor off is
    refused, so a typo never decides which secrets a process trusts."""
    raw = env.get(DEMO_VARIABLE, "").strip().lower()
    if raw in _DEMO_ON:
        return True
    if raw in _DEMO_OFF:
        return False
    raise SecretRefused(f"{DEMO_VARIABLE}={env[DEMO_VARIABLE]!r}: expected 1 (demo) or 0.")


def secret_problem(name: str, value: str, *, published: frozenset[str] = frozenset()) -> str | None:
    """Why ``value`` cannot serve as the secret ``name``, or ``None`` when it can; ``published``
    adds values to refuse besides those starting with ``PUBLISHED_PREFIX``."""
    if not value:
        return f"{name} is not set"
    if value.strip() != value:
        return f"{name} starts or ends with white space"
    if value.lower().startswith(PUBLISHED_PREFIX) or value in published:
        return f"{name} is a published demo value"
    if len(value) < MIN_SECRET_CHARS:
        return f"{name} is too short ({len(value)} characters, at least {MIN_SECRET_CHARS})"
    return None


def read_secrets(env: Mapping[str, str], specs: tuple[SecretSpec, ...]) -> dict[str, str]:
    """Each spec's value from ``env``; ``SecretRefused`` names every one that cannot be used.

    An optional secret that is unset reads as ``""`` (the feature it guards stays off).
    """
    demo = demo_mode(env)
    published = frozenset(spec.demo_value for spec in specs)
    values: dict[str, str] = {}
    problems: list[str] = []
    for spec in specs:
        value = env.get(spec.name, "")
        if demo:
            values[spec.name] = value or spec.demo_value
            continue
        if not value and not spec.required:
            values[spec.name] = ""
            continue
        problem = secret_problem(spec.name, value, published=published)
        if problem:
            problems.append(problem)
        values[spec.name] = value
    if problems:
        raise SecretRefused(f"{'; '.join(problems)}. {_HOW_TO_FIX}")
    return values


def read_secrets_or_exit(env: Mapping[str, str], specs: tuple[SecretSpec, ...]) -> dict[str, str]:
    """``read_secrets`` for a settings module: a refusal ends the process with one line on
    stderr and ``EXIT_REFUSED``, never a traceback (Django prints one for an exception raised
    while it imports settings)."""
    try:
        return read_secrets(env, specs)
    except SecretRefused as exc:
        _refuse(str(exc))


def _refuse(message: str) -> NoReturn:
    print(f"refusing to start: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_REFUSED)
