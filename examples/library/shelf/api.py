"""The catalogue's API: books by UUID, authors by integer key (a router's viewset)."""

from rest_framework import generics, viewsets

from shelf.models import Author, Book
from shelf.serializers import AuthorSerializer, BookSerializer


class BookList(generics.ListAPIView):
    queryset = Book.objects.select_related("author")
    serializer_class = BookSerializer


class BookDetail(generics.RetrieveAPIView):
    queryset = Book.objects.select_related("author")
    serializer_class = BookSerializer


class AuthorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Author.objects.all()
    serializer_class = AuthorSerializer
    lookup_value_regex = "[0-9]+"
