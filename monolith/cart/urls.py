from django.urls import URLPattern, URLResolver, path

from monolith.cart import views

app_name = "cart"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.cart_detail, name="detail"),
    path("add/", views.cart_add, name="add"),
    path("lines/<int:pk>/update/", views.cart_line_update, name="update"),
    path("lines/<int:pk>/remove/", views.cart_line_remove, name="remove"),
]
