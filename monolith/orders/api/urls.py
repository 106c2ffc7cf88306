from django.urls import URLPattern, URLResolver, path

from monolith.orders.api import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/", views.OrderListView.as_view(), name="api-orders"),
    path("orders/<key:pk>/", views.OrderDetailView.as_view(), name="api-order"),
    path("orders/<key:pk>/cancel/", views.OrderCancelView.as_view(), name="api-order-cancel"),
    path("orders/<key:pk>/ship/", views.OrderShipView.as_view(), name="api-order-ship"),
    path("orders/<key:pk>/deliver/", views.OrderDeliverView.as_view(), name="api-order-deliver"),
]
