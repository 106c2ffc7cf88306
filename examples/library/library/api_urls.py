"""The API, under /api/ in the ``api`` namespace."""

from django.urls import include, path
from loans import api as loans_api
from members import views as members_views
from rest_framework.routers import SimpleRouter
from shelf import api as shelf_api

app_name = "api"

router = SimpleRouter()
router.register("authors", shelf_api.AuthorViewSet, basename="author")

urlpatterns = [
    path("books/", shelf_api.BookList.as_view(), name="book-list"),
    path("books/<uuid:pk>/", shelf_api.BookDetail.as_view(), name="book-detail"),
    path("loans/", loans_api.LoanList.as_view(), name="loan-list"),
    path("loans/<int:pk>/", loans_api.LoanDetail.as_view(), name="loan-detail"),
    path("loans/<int:pk>/return/", loans_api.ReturnLoan.as_view(), name="loan-return"),
    path("me/", members_views.Me.as_view(), name="me"),
    path("", include(router.urls)),
]
