"""Project-level pieces of the catalog service: its error tree and how errors are rendered."""
