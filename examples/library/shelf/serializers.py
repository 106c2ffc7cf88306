from django.conf import settings
from rest_framework import serializers

from shelf.models import Author, Book


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name", "slug", "born"]


class BookSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    available = serializers.SerializerMethodField()
    loan_period_days = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = [
            "id", "title", "slug", "author", "isbn", "published", "copies",
            "available", "loan_period_days",
        ]  # fmt: skip

    def get_available(self, book: Book) -> int:
        return book.available_copies()

    def get_loan_period_days(self, book: Book) -> int:
        return settings.LOAN_DAYS
