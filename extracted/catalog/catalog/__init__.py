"""The catalog app (label ``catalog``): categories and products, and the stock mirror.

Its tables carry the monolith's names and columns (``catalog_category``, ``catalog_product``)
so the sync copies rows across unchanged, primary keys included.
"""
