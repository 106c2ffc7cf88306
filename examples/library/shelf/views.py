"""The catalogue's HTML pages, and the librarians' form that sets a book's copies."""

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
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


# What members.auth answers a request it cannot authenticate (not imported: the catalogue
# depends on no other app, so it can move to a service of its own).
CHALLENGE = 'ApiKey realm="library"'
MAX_COPIES = 32767  # Book.copies is a PositiveSmallIntegerField


@require_POST
def set_copies(request, slug):
    """A librarian sets how many copies the library owns (the form on a book's page, or a
    POST signed ``Authorization: ApiKey <key>``, which needs no CSRF token: members.auth)."""
    if not request.user.is_authenticated:
        response = HttpResponse("Sign in, or send Authorization: ApiKey <key>.", status=401)
        response["WWW-Authenticate"] = CHALLENGE
        return response
    if not request.user.is_staff:
        return HttpResponseForbidden("Only librarians can change a book's copies.")
    book = get_object_or_404(Book, slug=slug)
    raw = request.POST.get("copies", "").strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_COPIES:
        return HttpResponseBadRequest(f"copies must be a whole number from 0 to {MAX_COPIES}.")
    copies = int(raw)
    on_loan = book.loans.filter(returned=False).count()
    if copies < on_loan:
        return HttpResponseBadRequest(
            f"{on_loan} copies are out on loan: copies must be at least {on_loan}."
        )
    book.copies = copies
    book.save(update_fields=["copies"])
    return redirect("shelf:book-by-slug", slug=book.slug)
