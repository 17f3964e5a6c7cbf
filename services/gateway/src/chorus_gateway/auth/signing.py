"""The gateway's own token issuer: an ES256 key, its JWKS, and issued access tokens.

The key comes from settings (PEM or a file). Without one, a development key is
generated once under `.local/` (git-ignored) so every local replica and restart
shares it; a production deployment configures its key and never relies on that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

log = logging.getLogger(__name__)
ALGORITHM = "ES256"


def load_or_create_key(pem: str, path: Path | None, dev_path: Path) -> ec.EllipticCurvePrivateKey:
    if pem:
        return _parse(pem.encode())
    if path is not None:
        return _parse(path.read_bytes())
    if dev_path.exists():
        return _parse(dev_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    dev_path.parent.mkdir(parents=True, exist_ok=True)
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two replicas starting together keep whichever key was written first.
    try:
        fd = os.open(dev_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _parse(dev_path.read_bytes())
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    log.warning("generated a development signing key at %s", dev_path)
    return key


def _parse(data: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the gateway signing key must be an EC P-256 private key (ES256)")
    return key


class LocalIssuer:
    """Issues people's access tokens and publishes the public key as a JWKS."""

    def __init__(
        self, key: ec.EllipticCurvePrivateKey, issuer: str, audience: str, ttl_seconds: int
    ) -> None:
        self.key = key
        self.public_key = key.public_key()
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.public_key))
        # RFC 7638 thumbprint: a stable kid that changes exactly when the key does.
        canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
        self.kid = jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
        self.jwk = {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [self.jwk]}

    def issue(self, tenant_id: str, person_id: str, email: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": person_id,
            "chorus_tenant": tenant_id,
            "email": email,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.kid})
