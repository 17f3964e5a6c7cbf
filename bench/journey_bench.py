"""The program journey at full scale: a simulated program through the gateway, then
the time until every leaderboard, balance and main KPI equals the expectation.

    .venv/bin/python bench/journey_bench.py [--scale full] [--seed 7]

The same check as `tests/e2e/test_program_journey.py` (which runs the small scale in
`make test`), on a throwaway fleet; prints how long each stage of the program took
through the gateway and how long the platform took to converge after it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import format_table
from _fleet import bench_fleet
from chorus_simulator.expect import expect
from chorus_simulator.gateway import Gateway
from chorus_simulator.idp import IdentityProvider
from chorus_simulator.plan import make_plan
from chorus_simulator.progress import Progress
from chorus_simulator.run import ProgramRun
from chorus_simulator.scale import SCALES, Scale
from chorus_simulator.tenant import bootstrap_tenant
from chorus_simulator.verify import until_matching


async def main(args: argparse.Namespace) -> int:
    scale = SCALES[args.scale]
    with IdentityProvider() as sso:
        gateway_env = {"CHORUS_GATEWAY_OIDC_ISSUERS": sso.oidc_issuers_env()}
        return await journey(args, scale, sso if args.sso else None, gateway_env)


async def journey(
    args: argparse.Namespace,
    scale: Scale,
    sso: IdentityProvider | None,
    gateway_env: dict[str, str],
) -> int:
    async with bench_fleet("journey", gateway_env=gateway_env) as fleet:
        gw = Gateway(fleet.gateway, concurrency=scale.concurrency)
        try:
            tenant = bootstrap_tenant("Journey Bench Co", env=fleet.env_for("gateway"))
            plan = make_plan(scale, args.seed)
            program = ProgramRun(gw, tenant, plan, Progress(), sso=sso)
            started = time.monotonic()
            record = await program.execute()
            ran = time.monotonic() - started
            expected = expect(record)
            admin = await gw.login(tenant.tenant_id, tenant.admin_email, tenant.admin_password)
            started = time.monotonic()
            found = await until_matching(gw, admin, record, expected, deadline=args.deadline)
            converged = time.monotonic() - started
        finally:
            await gw.close()
    rows = [
        (
            "scale",
            f"{args.scale}: {scale.advocates:,} advocates in {scale.teams} teams, "
            f"{scale.items} items, {len(record.shares):,} shares, "
            f"{len(record.clicks):,} clicks, {len(record.reports):,} reports",
        ),
        ("program through the gateway", f"{ran:.1f} s"),
        (
            "valid clicks / rejected",
            f"{sum(t.clicks for t in expected.totals.values()):,} / {dict(expected.rejected)}",
        ),
        ("converged after the program", f"{converged:.1f} s" if not found else "NO"),
        ("differences", str(len(found))),
        ("load average (1 min)", f"{os.getloadavg()[0]:.1f}"),
    ]
    print()
    print(format_table(["journey", "figure"], rows))
    for line in found[:20]:
        print("  ", line)
    return 1 if found else 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_argument("--scale", choices=sorted(SCALES), default="full")
    cli.add_argument("--seed", type=int, default=7)
    cli.add_argument("--deadline", type=float, default=900.0)
    cli.add_argument(
        "--passwords",
        dest="sso",
        action="store_false",
        help="sign people in with passwords instead of the simulated SSO",
    )
    sys.exit(asyncio.run(main(cli.parse_args())))
