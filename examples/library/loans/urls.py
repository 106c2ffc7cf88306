from django.urls import path

from loans import views

app_name = "loans"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("borrow/<uuid:book_id>/", views.borrow, name="borrow"),
    path("<int:pk>/return/", views.give_back, name="return"),
]
