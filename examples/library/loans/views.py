"""Loans in HTML: the member's loans, and the borrow and return forms (POST only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from members.models import Member
from shelf.models import Book

from loans.models import Loan, LoanRefused


def _member_or_none(request) -> Member | None:
    return Member.objects.filter(user=request.user).first()


@login_required
def mine(request):
    member = _member_or_none(request)
    loans = Loan.objects.filter(member=member).select_related("book", "book__author")
    return render(request, "loans/mine.html", {"loans": loans})


@login_required
@require_POST
def borrow(request, book_id):
    member = _member_or_none(request)
    book = get_object_or_404(Book, pk=book_id)
    if member is None:
        return HttpResponseForbidden("Only members with a library card can borrow.")
    try:
        loan = Loan.borrow(member, book)
    except LoanRefused as exc:
        messages.error(request, str(exc))
        return redirect("shelf:book-detail", pk=book.pk)
    messages.success(request, f"“{book.title}” is yours until {loan.due_on:%d %B %Y}.")
    return redirect("loans:mine")


@login_required
@require_POST
def give_back(request, pk):
    loan = get_object_or_404(Loan, pk=pk)
    if loan.member != _member_or_none(request):
        return HttpResponseForbidden("You can only return your own loans.")
    try:
        loan.give_back()
    except LoanRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Thank you for returning “{loan.book.title}”.")
    return redirect("loans:mine")
