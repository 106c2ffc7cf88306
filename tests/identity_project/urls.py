from django.urls import include, path

urlpatterns = [path("internal/identity/", include("strangler.contrib.identity.urls"))]
