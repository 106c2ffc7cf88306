from django.urls import URLPattern, URLResolver, path  # noqa: F401

app_name = "cart"
urlpatterns: list[URLPattern | URLResolver] = []
