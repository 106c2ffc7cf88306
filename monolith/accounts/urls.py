from django.urls import URLPattern, URLResolver, path

from monolith.accounts import views
from strangler.servicekit.bounds import register_key_converter

# <key:...>: a row key a column can hold; a larger number is a 404, not a 500.
register_key_converter()

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("profile/", views.profile, name="profile"),
    path("profile/addresses/", views.address_add, name="address-add"),
    path(
        "profile/addresses/<key:pk>/default/",
        views.address_make_default,
        name="address-make-default",
    ),
    path("profile/addresses/<key:pk>/delete/", views.address_delete, name="address-delete"),
]
