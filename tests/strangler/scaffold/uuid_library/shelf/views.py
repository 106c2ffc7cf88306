from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from shelf.models import Book


def book_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"books": [str(b.pk) for b in Book.objects.order_by("title")]})


def book_detail(request: HttpRequest, pk: str) -> JsonResponse:
    book = get_object_or_404(Book, pk=pk)
    return JsonResponse({"id": str(book.pk), "title": book.title, "author": str(book.author_id)})
