from django.urls import URLPattern, URLResolver, path

from monolith.cart.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("cart/", views.CartView.as_view(), name="api-cart"),
    path("cart/lines/", views.CartLineListView.as_view(), name="api-cart-lines"),
    path("cart/lines/<int:pk>/", views.CartLineDetailView.as_view(), name="api-cart-line"),
]
