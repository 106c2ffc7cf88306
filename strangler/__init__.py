"""The strangler toolkit: the proxy, sync, compare, plans, the service kit and the CLI.

It never imports a project's own code (``monolith`` and ``extracted`` are the repository's
example); the proxy (``strangler.proxy``) runs as a process of its own, and the rest of the
toolkit talks to it over its admin API, never by import (docs/architecture.md).
"""
