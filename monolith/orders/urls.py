from django.urls import URLPattern, URLResolver, path

from monolith.orders import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

app_name = "orders"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.order_history, name="history"),
    path("checkout/", views.order_checkout, name="checkout"),
    path("<key:pk>/", views.order_detail, name="detail"),
    path("<key:pk>/pay/", views.order_pay, name="pay"),
    path("<key:pk>/cancel/", views.order_cancel, name="cancel"),
]
