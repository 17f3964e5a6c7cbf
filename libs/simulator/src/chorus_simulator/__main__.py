"""`python -m chorus_simulator run|verify`: a simulated program through the gateway.

    python -m chorus_simulator run --gateway http://127.0.0.1:8100 --scale demo \
        --bootstrap --record .local/sim/demo.json --verify

`--bootstrap` creates the tenant with the gateway's own operator command
(`python -m chorus_gateway bootstrap-tenant`, which needs the stack's environment);
otherwise name an existing tenant and its admin (password in $CHORUS_SIM_ADMIN_PASSWORD).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

from chorus_simulator.expect import expect
from chorus_simulator.gateway import Gateway
from chorus_simulator.plan import make_plan
from chorus_simulator.progress import Progress
from chorus_simulator.record import Record
from chorus_simulator.run import ProgramRun, TenantAccess
from chorus_simulator.scale import SCALES
from chorus_simulator.tenant import bootstrap_tenant
from chorus_simulator.verify import until_matching

PASSWORD_ENV = "CHORUS_SIM_ADMIN_PASSWORD"  # noqa: S105 (a variable name)


def save_credentials(path: Path, gateway: str, tenant: TenantAccess) -> None:
    """The tenant's admin sign-in, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    body = {
        "gateway": gateway,
        "tenant_id": tenant.tenant_id,
        "admin_email": tenant.admin_email,
        "admin_password": tenant.admin_password,
    }
    path.write_text(json.dumps(body, indent=1))


async def run(args: argparse.Namespace) -> int:
    scale = SCALES[args.scale]
    if args.bootstrap:
        tenant = bootstrap_tenant(args.tenant_name, args.tenant_id)
    else:
        if not (args.tenant_id and args.admin_email and os.environ.get(PASSWORD_ENV)):
            raise SystemExit(f"name --tenant-id, --admin-email and ${PASSWORD_ENV}, or --bootstrap")
        tenant = TenantAccess(args.tenant_id, args.admin_email, os.environ[PASSWORD_ENV])
    if args.credentials:
        save_credentials(args.credentials, args.gateway, tenant)
    gateway = Gateway(args.gateway, concurrency=scale.concurrency)
    started = time.monotonic()
    try:
        program = ProgramRun(gateway, tenant, make_plan(scale, args.seed), Progress(args.quiet))
        record = await program.execute()
        args.record.parent.mkdir(parents=True, exist_ok=True)
        record.save(args.record)
        print(
            f"tenant {tenant.tenant_id}: {len(record.shares)} shares, {len(record.clicks)} "
            f"clicks, {len(record.reports)} reports in {time.monotonic() - started:.1f}s; "
            f"record {args.record}"
        )
        if args.verify:
            return await check(gateway, tenant, record, args.deadline)
        return 0
    finally:
        await gateway.close()


async def check(gateway: Gateway, tenant: TenantAccess, record: Record, deadline: float) -> int:
    admin = await gateway.login(tenant.tenant_id, tenant.admin_email, tenant.admin_password)
    started = time.monotonic()
    found = await until_matching(gateway, admin, record, expect(record), deadline)
    if found:
        print(f"{len(found)} differences after {deadline:.0f}s:", *found, sep="\n  ")
        return 1
    took = time.monotonic() - started
    print(f"every leaderboard, balance and KPI matches ({took:.1f}s to converge)")
    return 0


async def verify_recorded(args: argparse.Namespace) -> int:
    saved = json.loads(args.credentials.read_text())
    tenant = TenantAccess(saved["tenant_id"], saved["admin_email"], saved["admin_password"])
    gateway = Gateway(saved["gateway"])
    try:
        return await check(gateway, tenant, Record.load(args.record), args.deadline)
    finally:
        await gateway.close()


def main() -> None:
    cli = argparse.ArgumentParser(
        prog="python -m chorus_simulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = cli.add_subparsers(dest="command", required=True)
    go = commands.add_parser("run", help="simulate a program through the gateway")
    go.add_argument("--gateway", default="http://127.0.0.1:8100")
    go.add_argument("--scale", choices=sorted(SCALES), default="small")
    go.add_argument("--seed", type=int, default=7)
    go.add_argument("--bootstrap", action="store_true", help="create a new tenant first")
    go.add_argument("--tenant-name", default="Simulated Co")
    go.add_argument("--tenant-id")
    go.add_argument("--admin-email")
    go.add_argument("--record", type=Path, default=Path(".local/sim/record.json"))
    go.add_argument("--credentials", type=Path, help="write the admin's sign-in here (mode 600)")
    go.add_argument("--verify", action="store_true", help="then wait for the expected outcome")
    go.add_argument("--deadline", type=float, default=180.0)
    go.add_argument("--quiet", action="store_true")
    again = commands.add_parser("verify", help="compare a recorded run with the platform")
    again.add_argument("--record", type=Path, required=True)
    again.add_argument("--credentials", type=Path, required=True, help="written by run")
    again.add_argument("--deadline", type=float, default=60.0)
    args = cli.parse_args()
    command = run if args.command == "run" else verify_recorded
    sys.exit(asyncio.run(command(args)))


if __name__ == "__main__":
    main()
