"""The catalogue's HTML pages."""

from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView, ListView

from shelf.models import Author, Book


class BookListView(ListView):
    queryset = Book.objects.select_related("author")
    paginate_by = 20
    template_name = "shelf/book_list.html"


def book_detail(request, pk):
    book = get_object_or_404(Book.objects.select_related("author"), pk=pk)
    return render(request, "shelf/book_detail.html", {"book": book})


def book_by_slug(request, slug):
    book = get_object_or_404(Book.objects.select_related("author"), slug=slug)
    return render(request, "shelf/book_detail.html", {"book": book})


class AuthorListView(ListView):
    model = Author
    template_name = "shelf/author_list.html"


class AuthorDetailView(DetailView):
    model = Author
    template_name = "shelf/author_detail.html"


def books_published_in(request, year):
    books = Book.objects.select_related("author").filter(published=int(year))
    return render(request, "shelf/book_list.html", {"object_list": books, "year": year})
