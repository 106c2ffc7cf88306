"""A route's entry in the route table (``strangler.proxy.config`` has the table and its loading):
its pattern, owner, mode, and the shadow, capture and write rules it carries."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from strangler.compare import CompareRules

__all__ = [
    "SAFE_METHODS",
    "Method",
    "Mode",
    "RouteCaptureConfig",
    "RouteConfig",
    "ShadowConfig",
    "StrictModel",
]

Mode = Literal["monolith", "shadow", "canary", "service"]
Method = Literal["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
SAFE_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class StrictModel(BaseModel):
    """A part of the table file: unknown fields are refused, and a loaded one never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ShadowConfig(StrictModel):
    sample_rate: Annotated[float, Field(ge=0, le=1)] = 1.0
    # Shadowing a POST runs the write twice, once on a side that does not own the data; only
    # allowed when the route's owner is a ``sandbox`` upstream (checked with the table).
    unsafe_methods: bool = False
    # Request bodies above this are not buffered for the shadow; the shadow is skipped.
    max_body_bytes: Annotated[int, Field(ge=0, le=64 * 1024 * 1024)] = 1024 * 1024
    # Share of shadowed requests (safe methods only) on which the monolith is asked a second
    # time: what differs between two answers of the monolith itself is noise. 10 % learns a
    # field's noise rate within a few hundred requests at one extra monolith call in ten.
    noise_sample_rate: Annotated[float, Field(ge=0, le=1)] = 0.1
    # On those same requests, ask the service twice as well (its own volatile fields).
    candidate_twice: bool = False


class RouteCaptureConfig(StrictModel):
    # This route's share recorded, 0 to 1; without it the table's ``capture.sample_rate``.
    sample_rate: Annotated[float, Field(ge=0, le=1)]


class RouteConfig(StrictModel):
    name: str
    path: str | None = None
    prefix: str | None = None
    methods: list[Method] | None = None
    owner: str
    mode: Mode = "monolith"
    canary_percent: Annotated[float, Field(ge=0, le=100)] = 0
    fallback: bool = False
    shadow: ShadowConfig = ShadowConfig()
    # Comparison rules for this route, on top of the table's ``compare`` defaults.
    compare: CompareRules | None = None
    capture: RouteCaptureConfig | None = None
    # Stream request bodies above the proxy's buffer (PROXY_BODY_BUFFER_BYTES) to the
    # upstream as they arrive (uploads); without it such a body is refused with 413, so a
    # slow client can only ever occupy the proxy, never an upstream worker.
    stream_request_body: bool = False
    # The one upstream that takes the route's unsafe methods (POST, PUT, PATCH, DELETE),
    # whatever the mode: the legacy upstream (the default) or the route's owner. The plan's
    # cutover moves it to the owner in the step that turns the sync back to the monolith on.
    write_owner: str | None = None
    # Accept a write owner whose writes no sync carries back to the other side: the other
    # side's copy then goes stale for good (docs/proxy.md, "Who takes the writes").
    unsynced_writes_accepted: bool = False

    def writer(self, legacy: str) -> str:
        """The upstream that takes this route's unsafe methods."""
        return self.write_owner or legacy

    @field_validator("name")
    @classmethod
    def _slug_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lower-case letters, digits, '-', '_' or '.' (at most 63)")
        return value

    @field_validator("path", "prefix")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value

    @field_validator("methods")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a method twice")
        if value == []:
            raise ValueError("must list at least one method, or be left out for all methods")
        return value

    @model_validator(mode="after")
    def _one_pattern(self) -> RouteConfig:
        if (self.path is None) == (self.prefix is None):
            raise ValueError("give exactly one of 'path' (whole path) or 'prefix'")
        return self
