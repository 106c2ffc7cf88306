import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from members.models import Member
from shelf.models import Book


class LoanRefused(Exception):
    """Why a member cannot borrow (or return) a book, in words for them."""


class Loan(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="loans")
    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="loans")
    borrowed_on = models.DateField()
    due_on = models.DateField()
    returned = models.BooleanField(default=False)
    returned_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-borrowed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "book"],
                condition=models.Q(returned=False),
                name="one_open_loan_per_member_and_book",
            )
        ]

    def __str__(self) -> str:
        return f"{self.book} to {self.member}"

    @classmethod
    def borrow(cls, member: Member, book: Book, today: datetime.date | None = None) -> "Loan":
        today = today or timezone.localdate()
        with transaction.atomic():
            # The book's row locked: two members cannot take its last copy at once.
            book = Book.objects.select_for_update().get(pk=book.pk)
            if member.open_loans().count() >= member.max_loans:
                raise LoanRefused(f"You already have {member.max_loans} books out.")
            if member.open_loans().filter(book=book).exists():
                raise LoanRefused(f"You already have “{book.title}”.")
            if book.available_copies() < 1:
                raise LoanRefused(f"No copy of “{book.title}” is on the shelf.")
            return cls.objects.create(
                member=member,
                book=book,
                borrowed_on=today,
                due_on=today + datetime.timedelta(days=settings.LOAN_DAYS),
            )

    def give_back(self, today: datetime.date | None = None) -> None:
        if self.returned:
            raise LoanRefused("This loan is already returned.")
        self.returned = True
        self.returned_on = today or timezone.localdate()
        self.save(update_fields=["returned", "returned_on"])
