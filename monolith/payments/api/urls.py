from django.urls import URLPattern, URLResolver, path

from monolith.payments.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/<int:pk>/pay/", views.OrderPayView.as_view(), name="api-order-pay"),
    path("payments/", views.PaymentListView.as_view(), name="api-payments"),
    path("payments/<int:pk>/", views.PaymentDetailView.as_view(), name="api-payment"),
    path("payments/<int:pk>/refund/", views.PaymentRefundView.as_view(), name="api-payment-refund"),
]
