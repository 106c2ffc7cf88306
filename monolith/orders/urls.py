from django.urls import URLPattern, URLResolver, path

from monolith.orders import views

app_name = "orders"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.order_history, name="history"),
    path("checkout/", views.order_checkout, name="checkout"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("<int:pk>/pay/", views.order_pay, name="pay"),
    path("<int:pk>/cancel/", views.order_cancel, name="cancel"),
]
