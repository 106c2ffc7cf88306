"""Django apps a team installs into its own monolith (``strangler.contrib.identity``)."""
