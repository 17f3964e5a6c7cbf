"""Pid files, liveness and stopping, with real (tiny) processes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from chorus_devstack import procs

IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _sleeper(tmp_path: Path, code: str = "import time; time.sleep(60)") -> int:
    return procs.spawn_detached(
        [sys.executable, "-c", code, "devstack-test-marker"],
        log_path=tmp_path / "out.log", pid_path=tmp_path / "p.pid", cwd=tmp_path,
    )  # fmt: skip


def test_running_pid_requires_the_marker_and_removes_stale_files(tmp_path: Path) -> None:
    pid = _sleeper(tmp_path)
    pid_file = tmp_path / "p.pid"
    try:
        assert procs.running_pid(pid_file, "devstack-test-marker") == pid
        assert procs.running_pid(pid_file, "kafka.Kafka") is None, "someone else's pid"
        # Alive: the file stays (it may be ours, asked about with another port offset).
        assert procs.running_pid(pid_file, "devstack-test-marker") == pid
    finally:
        assert procs.terminate(pid, timeout=5)
    assert not procs.pid_alive(pid), "a stopped child is reaped, not counted as a zombie"
    assert procs.running_pid(pid_file, "devstack-test-marker") is None
    assert not pid_file.exists(), "the file of a dead process is removed"


def test_terminate_escalates_to_sigkill_after_the_deadline(tmp_path: Path) -> None:
    pid = _sleeper(tmp_path, IGNORES_SIGTERM)
    procs.poll_until(lambda: "ready" in (tmp_path / "out.log").read_text(), timeout=10)
    began = time.monotonic()
    assert procs.terminate(pid, timeout=0.5) is False
    assert not procs.pid_alive(pid)
    assert time.monotonic() - began < 5


def test_pid_file_of_a_dead_process_is_not_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "dead.pid"
    pid_file.write_text("999999999\n")
    assert procs.running_pid(pid_file, "") is None
    assert procs.read_pid(tmp_path / "absent.pid") is None


def test_poll_until_times_out_or_aborts_early() -> None:
    with pytest.raises(TimeoutError):
        procs.poll_until(lambda: False, timeout=0.2, interval=0.05)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="process 42 exited"):
        procs.poll_until(lambda: False, timeout=30, abort=lambda: "process 42 exited")
    assert time.monotonic() - began < 1
    calls = iter([False, False, True])
    procs.poll_until(lambda: next(calls), timeout=5, interval=0.01)


def test_tail_returns_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert procs.tail(log, 3) == "line 97\nline 98\nline 99"
    assert "no log" in procs.tail(tmp_path / "missing.log")
