"""A small advocacy program, end to end through the gateway: after it drains, every
leaderboard (each scope and period), every balance and the main KPIs equal what the
simulator's record says they must be."""

from __future__ import annotations

from chorus_simulator.expect import expect
from chorus_simulator.plan import make_plan
from chorus_simulator.run import ProgramRun
from chorus_simulator.scale import SCALES
from chorus_simulator.verify import until_matching

from .conftest import Program


async def test_the_platform_shows_exactly_what_the_program_earned(program: Program) -> None:
    plan = make_plan(SCALES["small"], seed=11)
    record = await ProgramRun(program.gateway, program.tenant, plan).execute()

    assert all(c.status == 302 for c in record.clicks)
    assert {r.result for r in record.reports} == {"accepted"}
    expected = expect(record)
    # The plan's fraud is really there, so the equality below tests the rules too.
    assert expected.rejected["bot"] > 0 and expected.rejected["duplicate"] > 0
    assert expected.rejected["burst"] == SCALES["small"].burst
    found = await until_matching(
        program.gateway, await program.admin(), record, expected, deadline=120
    )
    assert found == [], "\n".join(found)
