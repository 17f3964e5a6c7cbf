"""A tenant's single sign-on, simulated: an OIDC-style issuer on loopback.

Large programs sign people in through their company's identity provider, not with
passwords; the simulator does the same at scale (argon2 password checks, deliberately
slow, would dominate a 10,000-person run). It publishes its ES256 key as a JWKS on a
loopback port and mints tokens for people the directory knows by `external_subject`.
The gateway must trust it: `CHORUS_GATEWAY_OIDC_ISSUERS` = `oidc_issuers_env()`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

AUDIENCE = "chorus-sim"
TENANT_CLAIM = "chorus_tenant"


class IdentityProvider:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = secrets.token_hex(8)
        jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [{**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}]})
        body = jwks.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, 0), Handler)
        port = self.server.server_address[1]
        self.issuer = f"http://{host}:{port}"
        self.jwks_url = f"{self.issuer}/jwks.json"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> IdentityProvider:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def oidc_issuers_env(self) -> str:
        """The gateway setting that makes it trust this issuer."""
        return json.dumps(
            [
                {
                    "issuer": self.issuer,
                    "jwks_url": self.jwks_url,
                    "audience": AUDIENCE,
                    "tenant_claim": TENANT_CLAIM,
                }
            ]
        )

    def token(self, tenant_id: str, subject: str, email: str, ttl: int = 12 * 3600) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            TENANT_CLAIM: tenant_id,
            "email": email,
            "email_verified": True,
        }
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"kid": self.kid})
