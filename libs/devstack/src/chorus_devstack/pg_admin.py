"""PostgreSQL helpers: locating the server binaries, config, roles and databases."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from chorus_devstack import system

APP_ROLE = "chorus"
APP_DATABASE = "chorus"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _major(bin_dir: str) -> int:
    match = re.search(r"/postgresql/(\d+)/bin", bin_dir)
    return int(match.group(1)) if match else 0


def find_bin_dir(install: bool = True) -> Path:
    """Newest `/usr/lib/postgresql/<major>/bin` with initdb; installs Debian's if absent."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: _major(str(p)),
    )
    if found:
        return found[-1]
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).parent
    if not install:
        raise FileNotFoundError("PostgreSQL server binaries (initdb) not found")
    system.apt_install(["postgresql"])
    return find_bin_dir(install=False)


def pg_isready(bin_dir: Path, host: str, port: int) -> bool:
    tool = bin_dir / "pg_isready"
    cmd = [str(tool) if tool.exists() else "pg_isready", "-q", "-h", host, "-p", str(port)]
    try:
        return subprocess.run(cmd, check=False, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def shared_buffers_mb(memory_bytes: int) -> int:
    """An eighth of the machine's memory, between PostgreSQL's default 128 MB and 1 GB."""
    return max(128, min(1024, memory_bytes // 8 // 2**20))


def machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def render_conf(port: int, socket_dir: Path, memory_bytes: int | None = None) -> str:
    """Settings included from `postgresql.conf`: loopback only, our port and socket dir,
    and buffers and WAL sized for a write-heavy stack instead of initdb's minimal ones."""
    buffers = shared_buffers_mb(machine_memory() if memory_bytes is None else memory_bytes)
    return (
        "# Written by chorus_devstack on every start.\n"
        "listen_addresses = '127.0.0.1'\n"
        f"port = {port}\n"
        f"unix_socket_directories = '{socket_dir}'\n"
        # Five services with pools plus test sessions need more than the default 100.
        "max_connections = 300\n"
        # With the default 128 MB, ingestion's backends wrote ~100,000 dirty pages
        # themselves per 100k-click benchmark (pg_stat_bgwriter.buffers_backend) to make
        # room; with 1-2 GB, none. Checkpoints every 5 min or 1 GB of WAL rewrote every
        # page touched since in full (full_page_writes): spaced out, as in production.
        f"shared_buffers = {buffers}MB\n"
        "max_wal_size = 4GB\n"
        "checkpoint_timeout = 15min\n"
        # Durability as in production (synchronous_commit stays on): the delivery
        # guarantees are tested against kill -9 and restarts here, and benchmarks
        # must not measure a database that acknowledges commits it has not flushed.
    )


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def check_identifier(name: str) -> str:
    """`name` if it is a plain lower-case SQL identifier (we interpolate it into DDL)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


async def provision(admin_url: str) -> None:
    """Create the app role (superuser: tests create databases) and database if missing."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN SUPERUSER")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", APP_DATABASE):
            await conn.execute(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}")
    finally:
        await conn.close()


async def create_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(f"CREATE DATABASE {check_identifier(name)}")
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    """Drop even if connections linger (a test that forgot to close its pool)."""
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {check_identifier(name)} WITH (FORCE)")
    finally:
        await conn.close()
