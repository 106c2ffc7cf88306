"""Identity across the boundary, as the proxy sees it (the full resolver lands with the
identity work; until then nothing is asserted and no side can be forced)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from multidict import CIMultiDictProxy

from proxy.modes import Side

__all__ = ["IDENTITY_HEADER", "Identity", "IdentityResolver", "NoIdentity"]

IDENTITY_HEADER = "X-Strangler-Identity"


@dataclass(frozen=True)
class Identity:
    user_id: str
    header_value: str


class IdentityResolver(Protocol):
    async def resolve(self, headers: CIMultiDictProxy[str]) -> Identity | None: ...

    def forced_side(self, headers: CIMultiDictProxy[str]) -> Side | None: ...

    async def close(self) -> None: ...


class NoIdentity:
    async def resolve(self, headers: CIMultiDictProxy[str]) -> Identity | None:
        return None

    def forced_side(self, headers: CIMultiDictProxy[str]) -> Side | None:
        return None

    async def close(self) -> None:
        return None
