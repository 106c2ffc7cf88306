"""A route table written from a Django project's own URLconf (``strangler routes from-urlconf``).

- :mod:`~strangler.urlconf.patterns`: one URL pattern (its chain of ``path()``/``re_path()``
  pieces) as the proxy's ``path:`` or ``prefix:``, or why it cannot be. Pure, no Django.
- :mod:`~strangler.urlconf.export`: ``python -m strangler.urlconf.export``, run with the
  project's ``DJANGO_SETTINGS_MODULE`` in a child process: walks Django's resolver and prints
  every pattern as JSON. The only module here that imports Django.
- :mod:`~strangler.urlconf.table`: those patterns as routes, one per pattern or one per app
  prefix, named and reported. Pure, no Django.

The proxy matches by specificity, Django by order; the export asks Django's own ``resolve``
which pattern answers each pattern's sample path, so a pattern Django never reaches gets no
route of its own (it would take paths the earlier one answers).
"""
