"""``strangler dashboard``: the migration at a glance, live, in a browser.

Its own process (not the proxy's admin port): it reads the plans, the sync nodes, the
comparison results and the control store, which the proxy does not know, and one poll loop
per dashboard process, shared by every open page, keeps what it costs the proxy bounded
however many people watch; the proxy's request path stays untouched.

- :mod:`~strangler.dashboard.poller`: the poll loop, the rates over a window, the public and
  the admin documents and the changes between two polls.
- :mod:`~strangler.dashboard.access`: the admin token, the signed session cookie.
- :mod:`~strangler.dashboard.app`: the aiohttp application (page, JSON, server-sent events).
- ``static/``: the page, one HTML file, one script and one style sheet (no build step).
"""

from strangler.dashboard.app import DashboardConfig, build_app

__all__ = ["DashboardConfig", "build_app"]
