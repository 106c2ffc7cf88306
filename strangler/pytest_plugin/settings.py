"""Where the two sides are and which route table gives the rules: a command-line option,
else the ini option, else the environment, read once per test from pytest's config.

Nothing here imports more than the standard library: pytest loads the plugin, and so this
module, in every run of every project where the toolkit is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["ENVIRONMENT", "OPTIONS", "PluginSettings", "SidesNotConfigured"]

# Option suffix (--strangler-<name>) -> (ini option, help).
OPTIONS: dict[str, tuple[str, str]] = {
    "base": ("strangler_base", "base URL of the side that answers today (the monolith)"),
    "candidate": ("strangler_candidate", "base URL of the side under test (the new service)"),
    "routes": ("strangler_routes", "route table whose compare: sections give the rules"),
}
# Ini option -> environment variable. STRANGLER_ROUTES is the proxy's own: the same table.
ENVIRONMENT: dict[str, str] = {
    "strangler_base": "STRANGLER_BASE",
    "strangler_candidate": "STRANGLER_CANDIDATE",
    "strangler_routes": "STRANGLER_ROUTES",
}


class SidesNotConfigured(Exception):
    """A base URL is missing or malformed; the message says which option to set."""


def _where(ini: str) -> str:
    name = ini.removeprefix("strangler_")
    return f"--strangler-{name} (or the ini option {ini}, or ${ENVIRONMENT[ini]})"


@dataclass(frozen=True, slots=True)
class PluginSettings:
    base: str = ""
    candidate: str = ""
    routes: Path | None = None  # the route table, made absolute where it was given

    def urls(self) -> tuple[str, str]:
        """Both base URLs, checked; ``SidesNotConfigured`` names what to set."""
        missing = [ini for ini in ("strangler_base", "strangler_candidate") if not self._url(ini)]
        if missing:
            raise SidesNotConfigured(
                "side_by_side.request needs the base URL of both sides; set "
                + " and ".join(_where(ini) for ini in missing)
            )
        for ini in ("strangler_base", "strangler_candidate"):
            url = urlsplit(self._url(ini))
            if url.scheme not in ("http", "https") or not url.hostname or url.query:
                raise SidesNotConfigured(
                    f"{self._url(ini)!r} is not a base URL like http://127.0.0.1:8100: "
                    f"fix {_where(ini)}"
                )
        return self.base.rstrip("/"), self.candidate.rstrip("/")

    def _url(self, ini: str) -> str:
        return self.base if ini == "strangler_base" else self.candidate
