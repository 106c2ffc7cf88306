"""Pieces every Django service of a migration shares: request ids, JSON logs, health checks.

The monolith and each extracted service install these so that a request can be followed
across the boundary by its ``X-Request-ID`` and every service answers ``/healthz`` and
``/readyz`` the same way.
"""
