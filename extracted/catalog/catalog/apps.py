from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "extracted.catalog.catalog"
    # The monolith's label: table names (catalog_category, catalog_product) match across the two.
    label = "catalog"

    def ready(self) -> None:
        # Registers the OpenAPI description of the proxy's identity (an import side effect).
        from extracted.catalog.core.api import schema  # noqa: F401
