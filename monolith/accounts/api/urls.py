from django.urls import URLPattern, URLResolver, path

from monolith.accounts.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/register/", views.RegisterView.as_view(), name="api-auth-register"),
    path("auth/token/", views.TokenObtainView.as_view(), name="api-auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-auth-logout"),
    path("me/", views.ProfileView.as_view(), name="api-me"),
    path("me/addresses/", views.AddressListView.as_view(), name="api-me-address-list"),
    path("me/addresses/<int:pk>/", views.AddressDetailView.as_view(), name="api-me-address-detail"),
]
