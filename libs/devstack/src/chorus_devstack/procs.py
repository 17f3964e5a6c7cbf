"""Detached processes tracked by pid files, and polling with deadlines.

A pid file alone is not proof: the pid may have been reused after a reboot or a crash,
so a process only counts as ours when it is alive *and* its command line contains a
marker (e.g. `kafka.Kafka`). Stale pid files are removed on sight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Popen objects of children this process started: kept so they are never garbage
# collected while running (ResourceWarning) and so `pid_alive` can reap them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().split()
    except OSError:
        return None
    return int(text[0]) if text and text[0].isdigit() else None


def pid_alive(pid: int) -> bool:
    """True if `pid` runs and is not a zombie (a stopped child of ours is reaped here)."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user (e.g. postgres when we are not root)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def running_pid(pid_file: Path, marker: str, *, remove_stale: bool = True) -> int | None:
    """The live pid recorded in `pid_file` whose command line contains `marker`."""
    pid = read_pid(pid_file)
    if pid is not None and pid_alive(pid) and marker in cmdline(pid):
        return pid
    if pid is not None and remove_stale and not pid_alive(pid):
        pid_file.unlink(missing_ok=True)  # stale: the process is gone
    # A live process without the marker is kept on file: it may be ours, seen by a
    # command with another CHORUS_STACK_PORT_OFFSET (Redis's marker holds the port);
    # deleting its file left `make down` unable to stop it.
    return None


def spawn_detached(
    cmd: Sequence[str],
    *,
    log_path: Path,
    pid_path: Path | None,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start `cmd` in its own session (so Ctrl-C in our terminal does not reach it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    if pid_path is not None:
        pid_path.parent.mkdir(parents=True, exist_ok=True)
        pid_path.write_text(f"{proc.pid}\n")
    return proc.pid


def poll_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.25,
    abort: Callable[[], str | None] | None = None,
) -> None:
    """Call `check` until it returns True; TimeoutError after `timeout` seconds.

    `abort` returns a reason to give up early (e.g. the process died), raised as
    RuntimeError, so a crashed server fails in a second instead of at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if abort is not None and (reason := abort()) is not None:
            raise RuntimeError(reason)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not ready after {timeout:.0f}s")
        time.sleep(interval)


def terminate(pid: int, *, timeout: float) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL. True if it exited without SIGKILL.

    The SIGKILL goes to the process group when `pid` leads one (`spawn_detached`
    starts each in its own session): a uvicorn supervisor's workers die with it
    instead of serving on as orphans.
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    try:
        poll_until(lambda: not pid_alive(pid), timeout=timeout, interval=0.1)
        return True
    except TimeoutError:
        pass
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    poll_until(lambda: not pid_alive(pid), timeout=10.0, interval=0.1)
    return False


def tail(path: Path, lines: int = 30) -> str:
    """Last `lines` lines of a log file, for error messages."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            data = handle.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.splitlines()[-lines:])
