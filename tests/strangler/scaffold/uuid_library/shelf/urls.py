from django.urls import path
from shelf import views

app_name = "shelf"

urlpatterns = [
    path("", views.book_list, name="book-list"),
    path("<uuid:pk>/", views.book_detail, name="book-detail"),
]
