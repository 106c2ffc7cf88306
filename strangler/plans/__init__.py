"""Migration plans: move a set of routes and their data from the monolith to a service in
steps, each gated on live figures, with one command to roll back (``strangler plan``).

- :mod:`strangler.plans.schema`: the plan file, validated on load.
- :mod:`strangler.plans.gates`: a gate's verdict from figures (pure).
- :mod:`strangler.plans.figures`: the live figures of a step, from two snapshots.
- :mod:`strangler.plans.snapshot`: what the proxy and the sync nodes said at one moment.
- :mod:`strangler.plans.sources`: reading the proxy's admin API and the sync nodes' status.
- :mod:`strangler.plans.steps`: one operation class per kind of step: its target, its
  description, how it applies and reverses itself.
- :mod:`strangler.plans.targets`: what a step leaves in place (routes' mode, sync direction)
  and the moves between such states, the write-owner switch included.
- :mod:`strangler.plans.state`: where a plan stands, and every transition, on disk.
- :mod:`strangler.plans.runner`: status, next and rollback.
"""
