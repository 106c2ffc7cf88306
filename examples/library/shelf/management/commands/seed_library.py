"""``manage.py seed_library [--books N]``: the same demo data on every run and every machine.

Books get UUIDs derived from their slugs, members get the demo API keys printed below, and
the loans have fixed dates, so two databases seeded alike answer every request alike.
Running it again updates the rows in place. One member, marian, is a librarian (staff).
"""

import datetime
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from loans.models import Loan
from members.models import ApiKey, Member, digest

from shelf.models import Author, Book

BOOK_NAMESPACE = uuid.UUID("6f1c1e2a-3b7d-4c55-9a0e-2d7f5b8c9e10")
AUTHORS = [
    ("Ursula K. Le Guin", 1929),
    ("Italo Calvino", 1923),
    ("Octavia E. Butler", 1947),
    ("Jorge Luis Borges", 1899),
    ("Stanisław Lem", 1921),
    ("Toni Morrison", 1931),
    ("Anonymous", None),
]
ADJECTIVES = ["Silent", "Invisible", "Distant", "Broken", "Golden", "Hidden", "Last", "Winter"]
NOUNS = ["Cities", "Garden", "Archive", "Harbour", "Library", "Orchard", "River", "Signal"]
# (username, card, most loans at once, staff): marian is the librarian, who may set copies.
MEMBERS = [
    ("alice", "C-0001", 3, False),
    ("bob", "C-0002", 1, False),
    ("marian", "C-0003", 3, True),
]
DEMO_KEY = "lib_demo_{username}"
SEEDED_ON = datetime.date(2024, 3, 1)


def book_id(slug: str) -> uuid.UUID:
    return uuid.uuid5(BOOK_NAMESPACE, slug)


class Command(BaseCommand):
    help = "Create (or reset) the library's deterministic demo data."

    def add_arguments(self, parser):
        parser.add_argument("--books", type=int, default=24, help="how many books (default 24)")

    @transaction.atomic
    def handle(self, *args, books, **options):
        if books < 1:
            self.stderr.write("seed_library: --books must be at least 1")
            raise SystemExit(2)
        authors = []
        for name, born in AUTHORS:
            slug = name.lower().replace(".", "").replace(" ", "-").replace("ł", "l")
            author, _ = Author.objects.update_or_create(
                slug=slug, defaults={"name": name, "born": born}
            )
            authors.append(author)
        seeded = []
        for n in range(books):
            adjective, noun = (
                ADJECTIVES[n % len(ADJECTIVES)],
                NOUNS[n // len(ADJECTIVES) % len(NOUNS)],
            )
            title = f"The {adjective} {noun}"
            if n >= len(ADJECTIVES) * len(NOUNS):
                title += f", volume {n // (len(ADJECTIVES) * len(NOUNS)) + 1}"
            slug = title.lower().replace(",", "").replace(" ", "-")
            book, _ = Book.objects.update_or_create(
                id=book_id(slug),
                defaults={
                    "title": title,
                    "slug": slug,
                    "author": authors[n % len(authors)],
                    "isbn": f"978{n:010d}",
                    "published": 1950 + (n * 7) % 70,
                    "copies": 1 + n % 3,
                },
            )
            seeded.append(book)
        User = get_user_model()
        for username, card, max_loans, staff in MEMBERS:
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(f"{username}-password")
            user.is_staff = staff
            user.save()
            member, _ = Member.objects.update_or_create(
                user=user,
                defaults={"card_number": card, "max_loans": max_loans, "joined": SEEDED_ON},
            )
            key = DEMO_KEY.format(username=username)
            ApiKey.objects.update_or_create(
                digest=digest(key), defaults={"member": member, "name": "demo", "revoked": False}
            )
        alice = Member.objects.get(card_number="C-0001")
        Loan.objects.filter(member__card_number__in=[card for _, card, _, _ in MEMBERS]).delete()
        Loan.objects.create(
            member=alice,
            book=seeded[0],
            borrowed_on=SEEDED_ON,
            due_on=SEEDED_ON + datetime.timedelta(days=21),
        )
        self.stdout.write(
            f"seeded {len(authors)} authors, {len(seeded)} books and {len(MEMBERS)} members "
            f"(API keys: {', '.join(DEMO_KEY.format(username=u) for u, *_ in MEMBERS)})"
        )
