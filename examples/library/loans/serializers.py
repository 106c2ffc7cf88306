from rest_framework import serializers
from shelf.models import Book

from loans.models import Loan


class LoanSerializer(serializers.ModelSerializer):
    book = serializers.PrimaryKeyRelatedField(queryset=Book.objects.all())
    book_title = serializers.CharField(source="book.title", read_only=True)

    class Meta:
        model = Loan
        fields = ["id", "book", "book_title", "borrowed_on", "due_on", "returned", "returned_on"]
        read_only_fields = ["borrowed_on", "due_on", "returned", "returned_on"]
