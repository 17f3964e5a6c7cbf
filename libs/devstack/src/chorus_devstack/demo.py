"""`up` seeds a demo tenant once: a small program simulated through the gateway, so
every screen and API has something to show. Its admin's credentials are written to
`.local/sim/demo-admin.json` (git-ignored, mode 600)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from chorus_devstack.component import StackError
from chorus_devstack.paths import StackPaths

DEMO_TENANT = "demo"


def credentials_file(paths: StackPaths) -> Path:
    return paths.local / "sim" / "demo-admin.json"


def seed_demo(paths: StackPaths, python: Path, gateway_url: str, env: Mapping[str, str]) -> bool:
    """Simulate the demo program unless it was seeded before; True if it ran now."""
    credentials = credentials_file(paths)
    if credentials.exists():
        return False
    credentials.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(python), "-m", "chorus_simulator", "run", "--gateway", gateway_url,
           "--scale", "demo", "--bootstrap", "--tenant-id", DEMO_TENANT,
           "--tenant-name", "Demo Co", "--record", str(credentials.parent / "demo-record.json"),
           "--credentials", str(credentials)]  # fmt: skip
    print("seeding the demo tenant (a simulated program through the gateway)...", flush=True)
    done = subprocess.run(cmd, cwd=paths.root, env=dict(env), check=False)
    if done.returncode != 0:
        raise StackError(
            f"seeding the demo tenant failed (rc={done.returncode}); `up --no-demo` skips it"
        )
    return True
