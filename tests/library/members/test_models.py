from __future__ import annotations

import hashlib

from members.models import ApiKey, Member


def test_an_issued_key_is_shown_once_and_stored_as_its_digest(seeded) -> None:
    alice = Member.objects.get(card_number="C-0001")

    record, key = ApiKey.issue(alice, "laptop")

    assert key.startswith("lib_")
    assert len(key) > 30
    assert record.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {value for value in vars(record).values() if isinstance(value, str)}
    assert ApiKey.member_for(key) == alice


def test_a_revoked_key_or_an_inactive_member_has_no_member(seeded) -> None:
    alice = Member.objects.get(card_number="C-0001")
    revoked, revoked_key = ApiKey.issue(alice, "old phone")
    revoked.revoked = True
    revoked.save()
    bob = Member.objects.get(card_number="C-0002")
    bob.user.is_active = False
    bob.user.save()

    assert ApiKey.member_for(revoked_key) is None
    assert ApiKey.member_for("lib_demo_bob") is None
    assert ApiKey.member_for("lib_demo_alice") == alice
    assert ApiKey.member_for("no such key") is None
