from django.contrib import admin

from loans.models import Loan


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = ["book", "member", "borrowed_on", "due_on", "returned"]
    list_filter = ["returned"]
