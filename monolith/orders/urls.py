from django.urls import URLPattern, URLResolver, path  # noqa: F401

app_name = "orders"
urlpatterns: list[URLPattern | URLResolver] = []
