from django.urls import URLPattern, URLResolver, path

from monolith.accounts.api import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/register/", views.RegisterView.as_view(), name="api-auth-register"),
    path("auth/token/", views.TokenObtainView.as_view(), name="api-auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-auth-logout"),
    path("me/", views.ProfileView.as_view(), name="api-me"),
    path("me/addresses/", views.AddressListView.as_view(), name="api-me-address-list"),
    path("me/addresses/<key:pk>/", views.AddressDetailView.as_view(), name="api-me-address-detail"),
]
