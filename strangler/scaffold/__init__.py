"""Scaffolds: the code the toolkit writes into a team's projects (``strangler init`` in the
monolith, ``strangler extract`` for a new service)."""
