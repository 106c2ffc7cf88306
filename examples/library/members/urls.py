from django.contrib.auth import views as auth_views
from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="members/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.profile, name="profile"),
]
