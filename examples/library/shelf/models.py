"""The catalogue: authors (integer keys) and their books (UUID keys, as the library's
barcode labels print them)."""

import uuid

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    born = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=300, unique=True)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="books")
    isbn = models.CharField("ISBN", max_length=13, unique=True)
    published = models.PositiveSmallIntegerField()
    copies = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def available_copies(self) -> int:
        """Copies on the shelf: those not out on an open loan."""
        return self.copies - self.loans.filter(returned=False).count()
