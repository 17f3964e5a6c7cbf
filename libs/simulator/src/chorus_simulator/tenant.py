"""A new tenant for a simulation, made the way an operator makes one."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping

from chorus_simulator.run import TenantAccess


def bootstrap_tenant(
    name: str, tenant_id: str | None = None, env: Mapping[str, str] | None = None
) -> TenantAccess:
    """A new tenant and admin through the gateway's operator command."""
    tenant_id = tenant_id or f"sim-{secrets.token_hex(4)}"
    email = f"admin@{tenant_id}.example.com"
    password = secrets.token_urlsafe(16)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chorus_gateway",
            "bootstrap-tenant",
            "--name",
            name,
            "--admin-email",
            email,
            "--tenant-id",
            tenant_id,
        ],
        env={**(os.environ if env is None else env), "CHORUS_GATEWAY_BOOTSTRAP_PASSWORD": password},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bootstrap-tenant failed: {done.stderr.strip()[-800:]}")
    out = done.stdout
    created = json.loads(out[out.index("{") :])  # the command prints one JSON document
    if not created.get("created", True):
        raise SystemExit(f"tenant {tenant_id} exists already; its admin password is not ours")
    return TenantAccess(tenant_id, email, password)
