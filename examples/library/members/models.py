"""Library members (a profile on Django's user) and their API keys.

An API key is shown once, when issued; the database keeps only its SHA-256 digest.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Member(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member"
    )
    card_number = models.CharField(max_length=12, unique=True)
    max_loans = models.PositiveSmallIntegerField(default=3)
    joined = models.DateField(default=timezone.now)

    class Meta:
        ordering = ["card_number"]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.card_number})"

    def open_loans(self):
        return self.loans.filter(returned=False)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["member", "name"]

    def __str__(self) -> str:
        return f"{self.name} of {self.member}"

    @classmethod
    def issue(cls, member: Member, name: str, key: str | None = None) -> tuple["ApiKey", str]:
        """A new key for ``member``: the record and the key itself (shown only now)."""
        key = key or f"lib_{secrets.token_urlsafe(30)}"
        return cls.objects.create(member=member, name=name, digest=digest(key)), key

    @classmethod
    def member_for(cls, key: str) -> Member | None:
        """The active member ``key`` belongs to, if it is a live key."""
        found = (
            cls.objects.select_related("member__user")
            .filter(digest=digest(key), revoked=False, member__user__is_active=True)
            .first()
        )
        return found.member if found is not None else None
