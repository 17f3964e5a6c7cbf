"""Token verification without a network: our issuer's keys, and JWKS parsing."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from chorus_gateway.auth.jwks import parse_jwks
from chorus_gateway.auth.signing import LocalIssuer, load_or_create_key
from chorus_gateway.auth.tokens import LocalKeys, TokenError, TokenVerifier, TrustedIssuer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def issuer(tmp_path: Path) -> LocalIssuer:
    key = load_or_create_key("", None, tmp_path / "key.pem")
    return LocalIssuer(key, "https://chorus.test", "chorus", 900)


def verifier(local: LocalIssuer) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(local.issuer, "chorus", "chorus_tenant",
                                        LocalKeys(local.kid, local.jwk), local=True)])  # fmt: skip


def test_the_dev_key_is_created_once_and_reused(tmp_path: Path) -> None:
    first, second = issuer(tmp_path), issuer(tmp_path)
    assert first.kid == second.kid
    assert (tmp_path / "key.pem").stat().st_mode & 0o777 == 0o600


async def test_an_issued_token_verifies(tmp_path: Path) -> None:
    local = issuer(tmp_path)
    claims = await verifier(local).verify(local.issue("t1", "p1", "a@example.com"))
    assert (claims.tenant_id, claims.subject, claims.local) == ("t1", "p1", True)


async def test_an_rsa_key_under_our_kid_is_refused(tmp_path: Path) -> None:
    local = issuer(tmp_path)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = jwt.encode({"iss": local.issuer, "aud": "chorus", "sub": "p", "chorus_tenant": "t",
                        "iat": now, "exp": now + 60}, rsa_key, algorithm="RS256",
                       headers={"kid": local.kid})  # fmt: skip
    with pytest.raises(TokenError, match="does not match"):
        await verifier(local).verify(token)


def test_jwks_parsing_skips_unusable_keys() -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    good = {**RSAAlgorithm.to_jwk(public, as_dict=True), "kid": "a", "alg": "RS256"}
    keys = parse_jwks({"keys": [good, {"kty": "RSA", "kid": "b"}, {"kid": "c", "kty": "oct",
                                                                    "k": "c2VjcmV0"},
                                {**good, "kid": "d", "use": "enc"}, {"no": "kid"}]})  # fmt: skip
    assert "a" in keys and "b" not in keys and "d" not in keys
    assert parse_jwks("not a document") == {}
