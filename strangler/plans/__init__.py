"""Migration plans: move a set of routes and their data from the monolith to a service in
steps, each gated on live figures, with one command to roll back (``strangler plan``).

- :mod:`strangler.plans.schema`: the plan file, validated on load.
- :mod:`strangler.plans.gates`: a gate's verdict from figures (pure).
- :mod:`strangler.plans.figures`: the live figures of a step, from two snapshots.
- :mod:`strangler.plans.snapshot`: what the proxy and the sync nodes said at one moment.
- :mod:`strangler.plans.sources`: reading the proxy's admin API and the sync nodes' status.
- :mod:`strangler.plans.fleet_counts`: the proxy's counts from the whole fleet of replicas
  (Prometheus, every replica's ``/metrics``, or the one admin API), or none at all.
- :mod:`strangler.plans.prometheus`: those counts from a Prometheus server's HTTP API.
- :mod:`strangler.plans.steps`: one operation class per kind of step: its target, its
  description, how it applies and reverses itself.
- :mod:`strangler.plans.targets`: what a step leaves in place (routes' mode, sync direction)
  and the moves between such states, the write-owner switch included.
- :mod:`strangler.plans.state`: where a plan stands, and every transition, in a file or in
  the shared control store.
- :mod:`strangler.plans.runner`: status, next and rollback.
"""
