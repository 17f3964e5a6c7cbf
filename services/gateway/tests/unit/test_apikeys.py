"""API key format, hashing and the scope-to-role bridge."""

from __future__ import annotations

import pytest
from chorus_gateway.auth import apikeys
from chorus_gateway.auth.scopes import roles_for_scopes
from chorus_platform.identity import Role


def test_a_new_key_parses_back_to_its_id_and_matches_only_its_hash() -> None:
    key_id, whole = apikeys.new_key()
    assert apikeys.parse_key(whole) == key_id
    pepper = b"pepper"
    stored = apikeys.hash_key(pepper, whole)
    assert apikeys.key_matches(pepper, whole, stored)
    assert not apikeys.key_matches(b"other pepper", whole, stored)
    assert not apikeys.key_matches(pepper, whole[:-1] + ("A" if whole[-1] != "A" else "B"), stored)


@pytest.mark.parametrize("text", ["", "ck_", "ck_xyz_abc", "ck_0123456789abcdef_short", "Bearer x"])
def test_malformed_keys_have_no_id(text: str) -> None:
    assert apikeys.parse_key(text) is None


def test_the_pepper_falls_back_to_a_derivation_of_the_internal_secret() -> None:
    assert apikeys.derive_pepper("configured", "secret") == b"configured"
    derived = apikeys.derive_pepper("", "secret")
    assert derived != b"secret" and derived == apikeys.derive_pepper("", "secret")
    with pytest.raises(ValueError):
        apikeys.derive_pepper("", "")


def test_scopes_never_imply_admin() -> None:
    from chorus_gateway.auth.scopes import SCOPES

    assert Role.ADMIN not in roles_for_scopes(frozenset(SCOPES))
    assert roles_for_scopes(frozenset({"content:write"})) == {Role.EDITOR}
    assert roles_for_scopes(frozenset({"metrics:read"})) == frozenset()
