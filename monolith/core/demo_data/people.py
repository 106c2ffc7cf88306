"""Who the demo is made of: the published logins, and the word lists for customers."""

from __future__ import annotations

__all__ = ["CUSTOMER_PASSWORD", "STAFF_PASSWORD", "STAFF_USERNAME"]

STAFF_USERNAME = "staff"
STAFF_PASSWORD = "staff-demo-password"  # noqa: S105 (published in the README: a demo login)
CUSTOMER_PASSWORD = "demo-password"  # noqa: S105 (the same, for alice, bob and the rest)

# The two logins the README names come first, always.
_DEMO_CUSTOMERS = (("alice", "Alice", "Anderson"), ("bob", "Bob", "Brown"))
_FIRST_NAMES = (
    "Emma", "Liam", "Mia", "Noah", "Sofia", "Lukas", "Hannah", "Elias", "Lea", "Jonas",
    "Clara", "Felix", "Amelie", "Paul", "Ines", "Mateo", "Chloe", "Hugo", "Freya", "Oskar",
    "Nora", "Leon", "Ida", "Theo", "Lina", "Arthur", "Maya", "Emil", "Zoe", "Ben",
)  # fmt: skip
_LAST_NAMES = (
    "Schmidt", "Dubois", "Rossi", "Jansen", "Nowak", "Garcia", "Larsen", "Novak", "Costa",
    "Weber", "Moreau", "Bianchi", "de Vries", "Kowalski", "Lopez", "Nielsen", "Horvat",
    "Silva", "Fischer", "Laurent", "Ricci", "Bakker", "Wojcik", "Martin", "Berg", "Keller",
)  # fmt: skip
_STREETS = (
    "Market Street", "Lindenallee", "Rue des Fleurs", "Via Roma", "Kerkstraat",
    "Calle Mayor", "Hauptstrasse", "Station Road", "Parkweg", "Rue Victor Hugo",
)  # fmt: skip
# (city, ISO country code, postal code digits)
_CITIES = (
    ("Berlin", "DE", 5), ("Hamburg", "DE", 5), ("Munich", "DE", 5), ("Paris", "FR", 5),
    ("Lyon", "FR", 5), ("Milan", "IT", 5), ("Madrid", "ES", 5), ("Vienna", "AT", 4),
    ("Brussels", "BE", 4), ("Copenhagen", "DK", 4), ("Zurich", "CH", 4), ("Oslo", "NO", 4),
)  # fmt: skip
