"""CPU of the local stack's PostgreSQL and Redis while a benchmark runs (Linux /proc).

    .venv/bin/python bench/stack_cpu.py .venv/bin/python bench/rewards_bench.py \
        --phases throughput --events 20000

Runs the command, passes its output through, and prints the CPU seconds the stack's
PostgreSQL (postmaster, its live backends and the children it reaped) and redis-server
used meanwhile. For `rewards_bench.py`'s throughput phase it also prints both per event
over the consumer phase alone (from the "rewards consumer ..." line to "rewards consumer
done: N events"), which leaves out creating, migrating and dropping the bench database
and the later phases. (Until 28 Nov 2026 the window ran to the JSON result, printed
after every phase: in a full battery its figures counted the freshness and reads phases
too, e.g. Redis "324 us/event" for a 1,000,000-member board load.)

It also times a fixed pure-Python loop before the run (the "VM speed probe"; after it,
the bench's own clean-up would be in the figure): this VM's
speed varied by up to ~1.6x over tens of minutes on 27 Nov 2026 (a fixed loop, and the
CPU per event of a benchmark with it), so a run's figures are read beside it.

The processes are found from the worktree's `.local` (the postmaster's pid file) and
the port of `$CHORUS_REDIS_URL` (default: the stack's, offset included).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from chorus_devstack.settings import DEFAULT_REDIS_URL

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()  # fields from the state on


def _own(fields: list[str]) -> int:
    return int(fields[11]) + int(fields[12])  # utime + stime


def postgres_seconds(postmaster: int) -> float:
    """The postmaster's own and reaped children's CPU, plus its live children's."""
    fields = _stat(postmaster)
    ticks = _own(fields) + int(fields[13]) + int(fields[14])  # + cutime + cstime
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            child = _stat(int(entry))
        except OSError:
            continue  # exited meanwhile
        if int(child[1]) == postmaster:
            ticks += _own(child)
    return ticks / _TICK


def redis_seconds(pid: int) -> float:
    return _own(_stat(pid)) / _TICK


def _redis_pid(url: str) -> int:
    port = urlparse(url).port or 6379
    found = subprocess.run(
        ["pgrep", "-f", f"redis-server .*:{port}"], capture_output=True, text=True, check=True
    )
    return int(found.stdout.split()[0])


def speed_probe() -> float:
    """Milliseconds of a fixed CPU-bound loop (the best of three)."""
    best = float("inf")
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    root = Path(__file__).resolve().parent.parent
    postmaster = int((root / ".local/postgres/data/postmaster.pid").read_text().split()[0])
    redis = _redis_pid(os.environ.get("CHORUS_REDIS_URL", DEFAULT_REDIS_URL))

    def sample() -> tuple[float, float]:
        return postgres_seconds(postmaster), redis_seconds(redis)

    speed0 = speed_probe()
    load0, start = os.getloadavg()[0], sample()
    phase: tuple[float, float] | None = None
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if line.startswith("rewards consumer ..."):
            phase = sample()
        elif line.startswith("rewards consumer done: ") and phase is not None:
            now, events = sample(), int(line.split()[3])
            pg, rd = ((b - a) / events * 1e6 for a, b in zip(phase, now, strict=True))
            phase = None
            print(f"stack CPU, consumer phase: PostgreSQL {pg:.0f} us/event, Redis {rd:.0f}")
    code = proc.wait()
    end, load1 = sample(), os.getloadavg()[0]
    print(
        f"stack CPU, whole run: PostgreSQL {end[0] - start[0]:.2f} s, "
        f"Redis {end[1] - start[1]:.2f} s (load average {load0:.2f} -> {load1:.2f}); "
        f"VM speed probe before the run {speed0:.0f} ms"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
