from django.urls import URLPattern, URLResolver, path

from monolith.cart import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

app_name = "cart"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.cart_detail, name="detail"),
    path("add/", views.cart_add, name="add"),
    path("lines/<key:pk>/update/", views.cart_line_update, name="update"),
    path("lines/<key:pk>/remove/", views.cart_line_remove, name="remove"),
]
