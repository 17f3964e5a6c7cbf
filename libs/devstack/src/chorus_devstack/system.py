"""Installing what a fresh Debian machine lacks, and running commands as `postgres`.

apt is only used when a binary is missing, and only when we are root (CI and fresh
machines); otherwise the error says what to install. Concurrent installs would fight
over the dpkg lock, so they are serialised, and `apt-get update` runs once per process.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import threading
from collections.abc import Sequence

_APT_LOCK = threading.Lock()
_apt_updated = False


class MissingDependency(RuntimeError):
    """A binary the stack needs is absent and cannot be installed here."""


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(packages: Sequence[str]) -> None:
    """`apt-get install -y` the packages (after one `apt-get update`)."""
    global _apt_updated
    if not is_root() or shutil.which("apt-get") is None:
        raise MissingDependency(
            f"need Debian package(s) {' '.join(packages)}: install them (as root: "
            f"apt-get install -y {' '.join(packages)})"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with _APT_LOCK:
        if not _apt_updated:
            print("devstack: apt-get update", flush=True)
            subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
            _apt_updated = True
        print(f"devstack: apt-get install -y {' '.join(packages)}", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
            check=True,
            env=env,
        )


def require_binary(name: str, package: str) -> str:
    """Path of `name`, installing Debian `package` first if it is missing."""
    found = shutil.which(name)
    if found is None:
        apt_install([package])
        found = shutil.which(name)
    if found is None:
        raise MissingDependency(f"{name} still missing after installing {package}")
    return found


def ensure_os_user(name: str, home: str) -> pwd.struct_passwd:
    """The OS user `name`, created as a system user if missing (root only)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        if not is_root():
            raise MissingDependency(f"OS user {name!r} does not exist") from None
    subprocess.run(
        ["useradd", "--system", "--user-group", "--home-dir", home, "--shell", "/bin/bash", name],
        check=True,
    )
    return pwd.getpwnam(name)


def as_user(user: str | None, cmd: Sequence[str]) -> list[str]:
    """`cmd` run as `user` via runuser when we are root; unchanged otherwise."""
    if user is None or not is_root():
        return list(cmd)
    return ["runuser", "-u", user, "--", *cmd]
