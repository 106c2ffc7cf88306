"""Signed identity, force and internal-call assertions: pure, no Django, no sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from strangler.identity import (
    IDENTITY_TTL_SECONDS,
    MAX_ASSERTION_CHARS,
    Identity,
    IdentityBadSignature,
    IdentityExpired,
    IdentityInvalid,
    IdentityMalformed,
    fit_claims,
    sign_force,
    sign_identity,
    sign_internal_request,
    verify_force,
    verify_identity,
    verify_internal_request,
)

SECRET = "test-identity-secret"
NOW = 1_700_000_000.0
ALICE = Identity(user_id="7", username="alice", is_staff=False)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_signed_identity_verifies_to_the_same_identity() -> None:
    value = sign_identity(ALICE, secret=SECRET, now=NOW)

    assert verify_identity(value, secret=SECRET, now=NOW, leeway=0) == ALICE


def test_the_staff_flag_survives_the_round_trip() -> None:
    staff = Identity(user_id="1", username="stella", is_staff=True)

    value = sign_identity(staff, secret=SECRET, now=NOW)
    verified = verify_identity(value, secret=SECRET, now=NOW, leeway=0)

    assert verified.is_staff is True
    assert verified.is_authenticated is True


def test_the_header_is_a_payload_and_a_signature_in_base64url() -> None:
    value = sign_identity(ALICE, secret=SECRET, now=NOW)

    payload, signature = value.split(".")
    expires = int(NOW) + IDENTITY_TTL_SECONDS
    claims = {"sub": "7", "name": "alice", "staff": False, "exp": expires}
    assert json.loads(_unb64(payload)) == claims
    assert len(_unb64(signature)) == 32
    assert "=" not in value


def test_a_tampered_payload_is_a_bad_signature() -> None:
    payload, signature = sign_identity(ALICE, secret=SECRET, now=NOW).split(".")
    claims = json.loads(_unb64(payload))
    claims["staff"] = True
    forged = f"{_b64(json.dumps(claims).encode())}.{signature}"

    with pytest.raises(IdentityBadSignature) as caught:
        verify_identity(forged, secret=SECRET, now=NOW, leeway=0)

    assert caught.value.code == "bad_signature"


def test_an_identity_signed_with_another_secret_is_a_bad_signature() -> None:
    value = sign_identity(ALICE, secret="someone-elses-secret", now=NOW)

    with pytest.raises(IdentityBadSignature):
        verify_identity(value, secret=SECRET, now=NOW, leeway=0)


def test_an_identity_past_its_expiry_and_the_leeway_is_expired() -> None:
    value = sign_identity(ALICE, secret=SECRET, now=NOW, ttl=60)

    with pytest.raises(IdentityExpired) as caught:
        verify_identity(value, secret=SECRET, now=NOW + 66, leeway=5)

    assert caught.value.code == "expired"


def test_the_leeway_accepts_an_identity_just_past_its_expiry() -> None:
    value = sign_identity(ALICE, secret=SECRET, now=NOW, ttl=60)

    assert verify_identity(value, secret=SECRET, now=NOW + 64, leeway=5) == ALICE


@pytest.mark.parametrize(
    "value",
    ["", "no-dot", "a.b.c", "user=1;staff=1", "abc.!!!", "x" * 5000, "é.é"],
)
def test_a_value_not_in_the_format_is_malformed(value: str) -> None:
    with pytest.raises(IdentityMalformed) as caught:
        verify_identity(value, secret=SECRET, now=NOW, leeway=0)

    assert caught.value.code == "malformed"
    assert isinstance(caught.value, IdentityInvalid)


def test_a_correctly_signed_payload_without_a_user_is_malformed() -> None:
    payload = _b64(json.dumps({"exp": int(NOW) + 60}).encode())
    mac = hmac.new(SECRET.encode(), b"strangler-identity-v1." + payload.encode(), hashlib.sha256)
    value = f"{payload}.{_b64(mac.digest())}"

    with pytest.raises(IdentityMalformed):
        verify_identity(value, secret=SECRET, now=NOW, leeway=0)


def test_an_empty_secret_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="STRANGLER_IDENTITY_SECRET"):
        sign_identity(ALICE, secret="", now=NOW)
    with pytest.raises(ValueError, match="STRANGLER_IDENTITY_SECRET"):
        verify_identity("a.b", secret="", now=NOW, leeway=0)


@pytest.mark.parametrize("side", ["legacy", "owner"])
def test_a_signed_force_header_verifies_to_its_side(side: str) -> None:
    value = sign_force(side, secret=SECRET, now=NOW)  # type: ignore[arg-type]

    assert verify_force(value, secret=SECRET, now=NOW, leeway=0) == side


def test_a_force_header_signed_with_another_secret_is_a_bad_signature() -> None:
    value = sign_force("owner", secret="someone-elses-secret", now=NOW)

    with pytest.raises(IdentityBadSignature):
        verify_force(value, secret=SECRET, now=NOW, leeway=0)


def test_an_expired_force_header_is_expired() -> None:
    value = sign_force("owner", secret=SECRET, now=NOW, ttl=60)

    with pytest.raises(IdentityExpired):
        verify_force(value, secret=SECRET, now=NOW + 61, leeway=0)


def test_a_plain_side_name_is_not_a_force_header() -> None:
    with pytest.raises(IdentityMalformed):
        verify_force("owner", secret=SECRET, now=NOW, leeway=0)


def test_an_identity_is_never_accepted_as_a_force_header_nor_the_reverse() -> None:
    identity = sign_identity(ALICE, secret=SECRET, now=NOW)
    force = sign_force("owner", secret=SECRET, now=NOW)

    with pytest.raises(IdentityBadSignature):
        verify_force(identity, secret=SECRET, now=NOW, leeway=0)
    with pytest.raises(IdentityBadSignature):
        verify_identity(force, secret=SECRET, now=NOW, leeway=0)


def test_forcing_an_unknown_side_is_refused() -> None:
    with pytest.raises(ValueError, match="legacy, owner"):
        sign_force("monolith", secret=SECRET, now=NOW)  # type: ignore[arg-type]


def test_an_internal_request_mac_is_hex_hmac_over_timestamp_dot_body() -> None:
    body = b'{"session_id": null, "token": "abc"}'

    mac = sign_internal_request(body, secret=SECRET, timestamp=1_700_000_000)

    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert mac == expected


def test_an_internal_request_with_its_mac_and_a_fresh_timestamp_verifies() -> None:
    body = b"{}"
    mac = sign_internal_request(body, secret=SECRET, timestamp=int(NOW))

    verify_internal_request(body, mac=mac, timestamp=str(int(NOW)), secret=SECRET, now=NOW + 29)


def test_an_internal_request_with_another_body_is_a_bad_signature() -> None:
    mac = sign_internal_request(b"{}", secret=SECRET, timestamp=int(NOW))

    with pytest.raises(IdentityBadSignature):
        verify_internal_request(
            b'{"token": "x"}', mac=mac, timestamp=str(int(NOW)), secret=SECRET, now=NOW
        )


@pytest.mark.parametrize("offset", [-31, 31])
def test_an_internal_request_more_than_30_s_off_is_stale(offset: int) -> None:
    timestamp = int(NOW) + offset
    mac = sign_internal_request(b"{}", secret=SECRET, timestamp=timestamp)

    with pytest.raises(IdentityExpired) as caught:
        verify_internal_request(b"{}", mac=mac, timestamp=str(timestamp), secret=SECRET, now=NOW)

    assert caught.value.code == "stale_timestamp"


@pytest.mark.parametrize(
    ("mac", "timestamp"),
    [(None, "1700000000"), ("ab" * 32, None), ("ab" * 32, "-5"), ("not-hex", "1700000000")],
)
def test_an_internal_request_without_usable_headers_is_malformed(
    mac: str | None, timestamp: str | None
) -> None:
    with pytest.raises(IdentityMalformed):
        verify_internal_request(b"{}", mac=mac, timestamp=timestamp, secret=SECRET, now=NOW)


EDITOR = Identity(
    user_id="8",
    username="eve",
    is_staff=True,
    permissions=frozenset({"catalog.change_product", "catalog.view_product"}),
    groups=frozenset({"editors"}),
)


def test_permissions_groups_and_flags_survive_the_round_trip() -> None:
    root = Identity(user_id="1", username="root", is_superuser=True, is_active=False)

    for identity in (EDITOR, root):
        value = sign_identity(identity, secret=SECRET, now=NOW)
        assert verify_identity(value, secret=SECRET, now=NOW, leeway=0) == identity


def test_the_optional_claims_are_signed_only_when_they_say_something() -> None:
    payload, _ = sign_identity(EDITOR, secret=SECRET, now=NOW).split(".")

    assert json.loads(_unb64(payload)) == {
        "sub": "8",
        "name": "eve",
        "staff": True,
        "exp": int(NOW) + IDENTITY_TTL_SECONDS,
        "permissions": ["catalog.change_product", "catalog.view_product"],
        "groups": ["editors"],
    }


def _many(count: int, prefix: str) -> frozenset[str]:
    return frozenset(f"{prefix}.permission_number_{i:04d}" for i in range(count))


def test_fit_claims_keeps_an_identity_that_fits_as_it_is() -> None:
    assert fit_claims(EDITOR) is EDITOR


def test_fit_claims_keeps_the_alphabetically_first_permissions_then_groups() -> None:
    crowded = Identity(
        user_id="8", username="eve", permissions=_many(1000, "app"), groups=_many(50, "group")
    )

    fitted = fit_claims(crowded)

    kept = sorted(fitted.permissions)
    assert 100 < len(kept) < 1000
    assert kept == sorted(crowded.permissions)[: len(kept)]
    assert fitted.groups == frozenset()  # the permissions filled the room first
    value = sign_identity(fitted, secret=SECRET, now=NOW)
    assert len(value) <= MAX_ASSERTION_CHARS
    assert verify_identity(value, secret=SECRET, now=NOW, leeway=0) == fitted


def test_fit_claims_fits_groups_into_the_room_the_permissions_leave() -> None:
    identity = Identity(
        user_id="8", username="eve", permissions=_many(150, "app"), groups=_many(100, "group")
    )

    fitted = fit_claims(identity)

    assert fitted.permissions == identity.permissions
    assert 0 < len(fitted.groups) < 100


def test_an_identity_too_large_is_never_signed() -> None:
    crowded = Identity(user_id="8", username="eve", permissions=_many(1000, "app"))

    with pytest.raises(ValueError, match=str(MAX_ASSERTION_CHARS)):
        sign_identity(crowded, secret=SECRET, now=NOW)
    with pytest.raises(ValueError, match="id and name"):
        fit_claims(Identity(user_id="8", username="e" * MAX_ASSERTION_CHARS))


@pytest.mark.parametrize(
    "extra",
    [
        {"permissions": "catalog.view_product"},
        {"permissions": [1]},
        {"groups": {"a": 1}},
        {"is_superuser": "yes"},
        {"is_active": None},
    ],
)
def test_a_signed_identity_with_unusable_claims_is_malformed(extra: dict[str, object]) -> None:
    claims = {"sub": "7", "name": "alice", "staff": False, "exp": int(NOW) + 60, **extra}
    payload = _b64(json.dumps(claims).encode())
    mac = hmac.new(SECRET.encode(), b"strangler-identity-v1." + payload.encode(), hashlib.sha256)

    with pytest.raises(IdentityMalformed):
        verify_identity(f"{payload}.{_b64(mac.digest())}", secret=SECRET, now=NOW, leeway=0)
