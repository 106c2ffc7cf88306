from django.urls import URLPattern, URLResolver, path  # noqa: F401

app_name = "catalog"
urlpatterns: list[URLPattern | URLResolver] = []
