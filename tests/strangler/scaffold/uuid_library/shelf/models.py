import uuid

from django.db import models


class Book(models.Model):
    """A book, keyed by UUID, written by an author of the people app."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    author = models.ForeignKey("people.Author", on_delete=models.PROTECT, related_name="books")
    published = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class Shelf(models.Model):
    label = models.CharField(max_length=20, unique=True)

    def __str__(self) -> str:
        return self.label
