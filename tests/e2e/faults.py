"""Running a small program while a fault hits the platform, and the result table.

Each fault test runs the program with a fault injected when a third of the clicks are
done (traffic keeps flowing through it), waits for the platform to converge, and
checks the same exact equality as the journey. The table printed at the end of the
session says, per fault: events lost and doubled (from the final comparison of valid
clicks and points) and recovery times.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chorus_simulator.expect import Expectation, expect
from chorus_simulator.plan import make_plan
from chorus_simulator.record import Record
from chorus_simulator.run import ProgramRun
from chorus_simulator.scale import Scale
from chorus_simulator.verify import board, until_matching

from .conftest import Program

FAULT_SCALE = Scale(teams=2, advocates=8, items=4, shares=30, clicks=180, burst=10)


@dataclass
class FaultResult:
    fault: str
    valid_clicks: int = 0
    lost: int = 0
    doubled: int = 0
    recovered_in: float = 0.0
    """Fault injected -> the component serves again."""
    converged_in: float = 0.0
    """Traffic over -> every figure equal to the expectation."""
    differences: list[str] = field(default_factory=list)


RESULTS: list[FaultResult] = []


def result_table() -> str:
    lines = [
        f"{'fault':<22}{'valid clicks':>13}{'lost':>6}{'doubled':>9}"
        f"{'recovery s':>12}{'converged s':>13}  result",
    ]
    for r in RESULTS:
        lines.append(
            f"{r.fault:<22}{r.valid_clicks:>13}{r.lost:>6}{r.doubled:>9}"
            f"{r.recovered_in:>12.1f}{r.converged_in:>13.1f}  "
            f"{'exact' if not r.differences else f'{len(r.differences)} differences'}"
        )
    return "\n".join(lines)


async def run_with_fault(
    program: Program, fault: str, inject: Callable[[], Awaitable[None]], seed: int
) -> tuple[Record, Expectation, FaultResult]:
    result = FaultResult(fault)
    RESULTS.append(result)

    async def timed() -> None:
        started = time.monotonic()
        await inject()
        result.recovered_in = time.monotonic() - started

    run = ProgramRun(program.gateway, program.tenant, make_plan(FAULT_SCALE, seed=seed))
    run.midway = timed
    record = await run.execute()
    assert run.midway_ran, "the fault was never injected"
    expected = expect(record)
    admin = await program.admin()
    started = time.monotonic()
    result.differences = await until_matching(
        program.gateway, admin, record, expected, deadline=180
    )
    result.converged_in = time.monotonic() - started
    want = sum(t.clicks for t in expected.totals.values())
    got = sum((await board(program.gateway, admin, "engagement", "tenant", "", "all")).values())
    want_engagement = sum(expected.boards.get(("engagement", "tenant", ""), {}).values())
    result.valid_clicks = want
    result.lost = max(0, want_engagement - got)
    result.doubled = max(0, got - want_engagement)
    return record, expected, result
