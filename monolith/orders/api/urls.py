from django.urls import URLPattern, URLResolver, path

from monolith.orders.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/", views.OrderListView.as_view(), name="api-orders"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="api-order"),
    path("orders/<int:pk>/cancel/", views.OrderCancelView.as_view(), name="api-order-cancel"),
    path("orders/<int:pk>/ship/", views.OrderShipView.as_view(), name="api-order-ship"),
    path("orders/<int:pk>/deliver/", views.OrderDeliverView.as_view(), name="api-order-deliver"),
]
