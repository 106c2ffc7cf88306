"""Read your own writes: a signed, short-lived cookie that keeps a writer's reads on the
side that took the write, until the sync has had time to carry it across.

While reads are split (canary) or moved (service before cutover) and writes go to one side,
a user who has just written and then reads from the other side would see the old value for
as long as the sync lags. After a successful write on such a route the proxy sets
``strangler_wrote=<write owner>.<expiry>.<signature>``; a read that carries a valid,
unexpired cookie naming the route's write owner is answered by the write owner.

The signature (HMAC-SHA256, keyed from the identity secret every proxy worker and replica
shares) keeps a client from pinning itself to a side it chose; the expiry is in the signed
text, so a replayed cookie is worth no more than its seconds.
"""

from __future__ import annotations

import hashlib
import hmac

from strangler.proxy.route_config import SAFE_METHODS, RouteConfig

__all__ = ["WROTE_COOKIE", "WroteCookies", "splits_reads"]

WROTE_COOKIE = "strangler_wrote"
# Modes in which a read may be answered by a side other than the write owner.
_SPLIT_READ_MODES = frozenset({"canary", "service"})
# 128 bits of the MAC: ample against forgery within a cookie's seconds, and a short cookie.
_SIGNATURE_HEX = 32
_KEY_LABEL = b"strangler read-your-writes cookie\0"


class WroteCookies:
    """Issue and check the cookie; without a secret the feature is off (nothing to sign
    with that every worker shares)."""

    def __init__(self, *, secret: str) -> None:
        self.enabled = bool(secret)
        self._key = hashlib.sha256(_KEY_LABEL + secret.encode()).digest()

    def issue(self, *, writer: str, now: float, seconds: int) -> str:
        text = f"{writer}.{int(now) + seconds}"
        return f"{text}.{self._sign(text)}"

    def names(self, value: str | None, *, writer: str, now: float) -> bool:
        """Whether ``value`` is a valid, unexpired cookie naming ``writer``."""
        if not value or not self.enabled:
            return False
        text, _, signature = value.rpartition(".")
        named, _, expiry = text.rpartition(".")
        if named != writer or not expiry.isdigit() or int(expiry) < now:
            return False
        return hmac.compare_digest(signature, self._sign(text))

    def after_write(
        self, config: RouteConfig | None, *, method: str, status: int, writer: str, seconds: int,
        now: float,
    ) -> tuple[str, int] | None:  # fmt: skip
        """The cookie (value, seconds) for a write ``writer`` accepted on a route whose reads
        may go elsewhere; ``None`` for everything else, and when ``seconds`` is 0 (off)."""
        if (
            config is None
            or method in SAFE_METHODS
            or config.mode not in _SPLIT_READ_MODES
            or status >= 400
            or not self.enabled
            or seconds <= 0
        ):
            return None
        return self.issue(writer=writer, now=now, seconds=seconds), seconds

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def splits_reads(config: RouteConfig, method: str) -> bool:
    """Whether this read may be answered by a side other than the route's write owner: the
    one case where a recent write's cookie decides."""
    return method in SAFE_METHODS and config.mode in _SPLIT_READ_MODES
