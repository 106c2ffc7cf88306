"""The migration at a glance, as one JSON-ready document: what ``strangler status`` prints and
``strangler dashboard`` serves, built in one place so the two never disagree.

- :mod:`~strangler.overview.build`: the document, from every source.
- :mod:`~strangler.overview.traffic`: the proxy's routes and its counters per side.
- :mod:`~strangler.overview.comparison`: the comparison results per route.
- :mod:`~strangler.overview.fleet`: the proxy's replicas as the control store holds them.
"""

from strangler.overview.build import AUDIT_ENTRIES, build_overview, could_read_anything

__all__ = ["AUDIT_ENTRIES", "build_overview", "could_read_anything"]
