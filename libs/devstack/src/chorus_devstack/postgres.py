"""A local PostgreSQL cluster in `.local/postgres`, from Debian's binaries, run as `postgres`.

Postgres refuses to run as root, so when we are root the cluster belongs to the
`postgres` OS user and every server command goes through `runuser`. If that user cannot
reach `.local/` (a clone under /root, mode 700), the cluster lives under
/var/lib/postgresql/chorus/<hash of the repo path> and `.local/postgres` links to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from chorus_devstack import procs, system
from chorus_devstack.component import ComponentStatus, StackError
from chorus_devstack.paths import StackPaths
from chorus_devstack.pg_admin import find_bin_dir, pg_isready, provision, render_conf
from chorus_devstack.probes import answers, port_open, postgres_version, run_sync
from chorus_devstack.settings import (
    DEFAULT_DATABASE_URL,
    HOST,
    POSTGRES_PORT,
    READY_DEADLINE,
    STOP_DEADLINE,
    explicit_endpoint,
)

OS_USER = "postgres"
OS_HOME = "/var/lib/postgresql"


class PostgresServer:
    name = "postgres"

    def __init__(self, paths: StackPaths, environ: Mapping[str, str]) -> None:
        self.paths = paths
        self.external = explicit_endpoint("postgres", environ)
        self.url = self.external or DEFAULT_DATABASE_URL
        self.admin_url = f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/postgres"
        self.base = paths.postgres
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"

    def managed_pid(self) -> int | None:
        if self.external:
            return None
        marker = str(self.data.resolve())  # the postmaster's `-D` argument
        return procs.running_pid(self.data / "postmaster.pid", marker, remove_stale=False)

    def _answers(self) -> bool:
        if not self.external and not port_open(HOST, POSTGRES_PORT):
            return False
        return answers(lambda: postgres_version(self.url, within=3.0))

    def status(self) -> ComponentStatus:
        pid = self.managed_pid()
        if pid is not None:
            return ComponentStatus(self.name, True, "us", self.url, pid, self.log)
        running = self._answers()
        return ComponentStatus(self.name, running, "external" if running else "-", self.url)

    def ensure(self) -> str:
        if self.external:
            self.wait_ready(self.url)
        elif self.managed_pid() is not None:
            self.wait_ready(self.admin_url)
            run_sync(lambda: provision(self.admin_url))
        elif not self._answers():  # a server already answering at the default URL is used
            self.start()
        return self.url

    def start(self) -> None:
        if self.external:
            raise StackError(f"postgres is external ({self.url}); not ours to start")
        if self.managed_pid() is not None:
            return
        bin_dir = find_bin_dir()
        user = OS_USER if system.is_root() else None
        self._prepare_base(user)
        # Resolved paths only: `.local/postgres` may be a link the postgres user cannot
        # follow (it cannot traverse /root), while it can reach the link's target.
        base = self.base.resolve()
        data, run_dir = base / "data", base / "run"
        if not (data / "PG_VERSION").exists():
            self._run(user, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                             "--auth=trust", "-E", "UTF8", "--locale=C"], "initdb")  # fmt: skip
            with (data / "postgresql.conf").open("a") as conf:
                conf.write("\ninclude_if_exists = 'chorus.conf'\n")
        run_dir.mkdir(exist_ok=True)
        (data / "chorus.conf").write_text(render_conf(POSTGRES_PORT, run_dir))
        self._chown(user, run_dir, data / "chorus.conf")
        self._run(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                         str(base / "postgres.log"), "-w", "-t", str(int(READY_DEADLINE)),
                         "start"], "pg_ctl start")  # fmt: skip
        self.wait_ready(self.admin_url)
        run_sync(lambda: provision(self.admin_url))

    def _prepare_base(self, user: str | None) -> None:
        if user is None:
            self.base.mkdir(parents=True, exist_ok=True)
            return
        system.ensure_os_user(user, OS_HOME)
        if not self.base.exists():
            self.paths.local.mkdir(parents=True, exist_ok=True)
            reachable = (
                subprocess.run(
                    system.as_user(user, ["test", "-x", str(self.paths.local)]), check=False
                ).returncode
                == 0
            )
            if reachable:
                self.base.mkdir()
            else:
                digest = hashlib.sha256(str(self.paths.root).encode()).hexdigest()[:12]
                target = Path(OS_HOME) / "chorus" / digest
                target.mkdir(parents=True, exist_ok=True)
                self._chown(user, target.parent)
                self.base.symlink_to(target, target_is_directory=True)
        self._chown(user, self.base.resolve())

    @staticmethod
    def _chown(user: str | None, *targets: Path) -> None:
        if user is not None:
            for target in targets:
                shutil.chown(target, user, user)

    def _run(self, user: str | None, cmd: list[str], what: str) -> None:
        done = subprocess.run(
            system.as_user(user, cmd), capture_output=True, text=True, check=False,
            start_new_session=True, cwd=self.base.resolve(),
        )  # fmt: skip
        if done.returncode != 0:
            raise StackError.not_ready(
                self.name, self.url, f"{what} failed (rc={done.returncode}): "
                f"{done.stdout.strip()} {done.stderr.strip()}", [self.log],
            )  # fmt: skip

    def wait_ready(self, url: str, timeout: float = READY_DEADLINE) -> None:
        bin_dir = None if self.external else find_bin_dir()

        def ready() -> bool:
            # pg_isready is cheap and quiet; only then pay for a real connection.
            if bin_dir is not None and not pg_isready(bin_dir, HOST, POSTGRES_PORT):
                return False
            return answers(lambda: postgres_version(url, within=3.0))

        try:
            procs.poll_until(ready, timeout=timeout, interval=0.25)
        except TimeoutError as exc:
            logs = [] if self.external else [self.log]
            raise StackError.not_ready(self.name, url, str(exc), logs) from None

    def stop(self) -> bool:
        pid = self.managed_pid()
        if pid is None:
            return False
        user = OS_USER if system.is_root() else None
        cmd = [str(find_bin_dir() / "pg_ctl"), "-D", str(self.data.resolve()),
               "-m", "fast", "-w", "-t", str(int(STOP_DEADLINE)), "stop"]  # fmt: skip
        if subprocess.run(system.as_user(user, cmd), capture_output=True, check=False).returncode:
            procs.terminate(pid, timeout=STOP_DEADLINE)
        return True

    def wipe(self) -> None:
        target = self.base.resolve()
        if self.base.is_symlink():
            self.base.unlink()
        shutil.rmtree(target, ignore_errors=True)
        if os.path.lexists(self.base):
            shutil.rmtree(self.base, ignore_errors=True)
