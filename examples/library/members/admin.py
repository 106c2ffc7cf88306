from django.contrib import admin

from members.models import ApiKey, Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["card_number", "user", "max_loans", "joined"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "member", "created", "revoked"]
    readonly_fields = ["digest"]
