from django.urls import URLPattern, URLResolver, path

from monolith.payments.api import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/<key:pk>/pay/", views.OrderPayView.as_view(), name="api-order-pay"),
    path("payments/", views.PaymentListView.as_view(), name="api-payments"),
    path("payments/<key:pk>/", views.PaymentDetailView.as_view(), name="api-payment"),
    path("payments/<key:pk>/refund/", views.PaymentRefundView.as_view(), name="api-payment-refund"),
]
