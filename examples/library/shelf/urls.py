from django.urls import path, re_path

from shelf import views

app_name = "shelf"

urlpatterns = [
    path("books/", views.BookListView.as_view(), name="book-list"),
    path("books/<uuid:pk>/", views.book_detail, name="book-detail"),
    path("books/by-slug/<slug:slug>/", views.book_by_slug, name="book-by-slug"),
    path("books/by-slug/<slug:slug>/copies/", views.set_copies, name="book-copies"),
    re_path(r"^books/published/(?P<year>[0-9]{4})/$", views.books_published_in, name="year"),
    path("authors/", views.AuthorListView.as_view(), name="author-list"),
    re_path(r"^authors/(?P<pk>[0-9]+)/$", views.AuthorDetailView.as_view(), name="author-detail"),
]
