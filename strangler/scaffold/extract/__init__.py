"""``strangler extract``: a service project generated from the monolith's own apps."""
