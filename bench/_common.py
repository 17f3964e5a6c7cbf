"""Small helpers shared by the benchmarks: peak RSS, percentiles, a plain text table,
no collector pauses in a load generator."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import resource
import sys
from collections.abc import Iterator, Sequence


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (monotonic)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (`pct` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned, others right."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None (gone, not Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process on this machine (Linux /proc), or None."""
    fields = _stat(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes of process group `pgid` (a service
    started in its own session, its worker processes included)."""
    ticks = 0
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields is not None and int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in this (load-generating) process for the block.

    A load generator written in Python stops for its own full collections: one of
    the redirect benchmark's heap (asyncpg, aiokafka, httpx, the latencies so far)
    took 90-170 ms in an open-loop phase, and every request due meanwhile was
    charged that stall as the *service's* latency. wrk2, in C, has no such pauses.
    A load phase makes little cyclic garbage (futures and callbacks are freed by
    reference counting), so memory stays bounded; it is collected afterwards.
    """
    gc.collect()
    gc.freeze()  # what setup built is never rescanned
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()
