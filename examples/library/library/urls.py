from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="shelf:book-list"), name="home"),
    path("admin/", admin.site.urls),
    path("api/", include("library.api_urls")),
    path("accounts/", include("members.urls")),
    path("loans/", include("loans.urls")),
    path("", include("shelf.urls")),
]
