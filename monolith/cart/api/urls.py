from django.urls import URLPattern, URLResolver, path

from monolith.cart.api import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

urlpatterns: list[URLPattern | URLResolver] = [
    path("cart/", views.CartView.as_view(), name="api-cart"),
    path("cart/lines/", views.CartLineListView.as_view(), name="api-cart-lines"),
    path("cart/lines/<key:pk>/", views.CartLineDetailView.as_view(), name="api-cart-line"),
]
