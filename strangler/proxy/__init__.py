"""The aiohttp strangler proxy (no Django here: see the import contracts in pyproject.toml)."""
