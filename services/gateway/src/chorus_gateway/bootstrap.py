"""`python -m chorus_gateway bootstrap-tenant`: a tenant and its first admin, for a fresh
install or a demo (applies the gateway's migrations first).

The admin's password comes from $CHORUS_GATEWAY_BOOTSTRAP_PASSWORD, or standard
input with `--password-stdin`, or is generated and printed once. `--api-key-scope`
(repeatable) also creates an API key, printed once. With `--tenant-id` of a tenant
that exists, nothing changes and the command succeeds (safe to run on every start).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys

import asyncpg
from chorus_platform.db import create_pool
from chorus_platform.migrate import apply_migrations

from chorus_gateway.auth import apikeys
from chorus_gateway.directory.repository import DirectoryRepository
from chorus_gateway.directory.schemas import ApiKeyIn, PersonIn, TeamIn, _time_zone
from chorus_gateway.directory.service import DirectoryService, new_id
from chorus_gateway.settings import GatewaySettings

PASSWORD_ENV = "CHORUS_GATEWAY_BOOTSTRAP_PASSWORD"  # noqa: S105 (a variable name)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m chorus_gateway", description=__doc__)
    commands = cli.add_subparsers(dest="command", required=True)
    boot = commands.add_parser("bootstrap-tenant", help="create a tenant and its first admin")
    boot.add_argument("--name", required=True, help="the tenant's display name")
    boot.add_argument("--admin-email", required=True)
    boot.add_argument("--admin-name", default="Administrator")
    boot.add_argument("--time-zone", default="UTC", help="IANA zone, e.g. Europe/Paris")
    boot.add_argument("--tenant-id", help="a stable id (default: generated)")
    boot.add_argument("--team", action="append", default=[], help="a team to create (repeatable)")
    boot.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    boot.add_argument("--api-key-scope", action="append", default=[],
                      help="also create an API key with this scope (repeatable)")  # fmt: skip
    return cli


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated?)"""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    given = os.environ.get(PASSWORD_ENV, "")
    if given:
        return given, False
    return secrets.token_urlsafe(18), True


async def bootstrap(args: argparse.Namespace, settings: GatewaySettings) -> dict[str, object]:
    from chorus_gateway.app import GATEWAY_MIGRATIONS

    time_zone = _time_zone(args.time_zone)
    password, generated = _password(args)
    pool = await create_pool(settings.database_url, "gateway", min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, "gateway", [GATEWAY_MIGRATIONS])
            tenant_id = args.tenant_id or new_id("t")
            if args.tenant_id and await DirectoryRepository(conn).tenant(tenant_id):
                return {"tenant_id": tenant_id, "created": False}
            await DirectoryRepository(conn).add_tenant(tenant_id, args.name, time_zone)
        secret = settings.internal_token_secret.get_secret_value()
        pepper = apikeys.derive_pepper(settings.api_key_pepper.get_secret_value(), secret)
        directory = DirectoryService(pool, pepper, lambda: None)
        teams = [(await directory.create_team(tenant_id, TeamIn(name=t))).id for t in args.team]
        admin = await directory.create_person(
            tenant_id,
            PersonIn(email=args.admin_email, display_name=args.admin_name, roles=["admin"],
                     team_ids=teams, enrolment="enrolled", password=password),
        )  # fmt: skip
        out: dict[str, object] = {"tenant_id": tenant_id, "created": True, "admin_id": admin.id,
                                  "admin_email": admin.email, "teams": teams}  # fmt: skip
        if generated:
            out["admin_password"] = password
        if args.api_key_scope:
            key = await directory.create_api_key(
                tenant_id, admin.id, ApiKeyIn(name="bootstrap", scopes=args.api_key_scope)
            )
            out["api_key"] = key.secret
        return out
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = asyncio.run(bootstrap(args, GatewaySettings()))
    except (ValueError, asyncpg.PostgresError) as exc:
        print(f"bootstrap-tenant: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    if "admin_password" in result:
        print("(the admin password and any API key are shown only this once)", file=sys.stderr)
    return 0
