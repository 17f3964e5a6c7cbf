"""Which test level (unit / integration / e2e) an unmarked test belongs to.

Every test ends up with exactly one level marker, so `pytest -m unit` reliably means
"no infrastructure": a test under `tests/integration/` or `tests/e2e/` gets that level;
one that asks for an engine fixture is integration wherever it lives; the rest is unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

LEVELS = ("unit", "integration", "e2e")
INFRA_FIXTURES = frozenset(
    {
        "infra",
        "kafka_bootstrap",
        "postgres_dsn",
        "redis_url",
        "kafka_control",
        "postgres_control",
        "redis_control",
    }
)


def level_for(
    path_parts: Sequence[str], markers: Iterable[str], fixtures: Iterable[str]
) -> str | None:
    """The level marker to add, or None if the test already carries one."""
    if set(markers) & set(LEVELS):
        return None
    for directory, child in itertools.pairwise(path_parts):
        if directory == "tests" and child in ("integration", "e2e"):
            return child
    if INFRA_FIXTURES & set(fixtures):
        return "integration"
    return "unit"


def unit_test_misuse(markers: Iterable[str], fixtures: Iterable[str]) -> str | None:
    """An error message if a test explicitly marked `unit` asks for real engines."""
    used = sorted(INFRA_FIXTURES & set(fixtures))
    if "unit" in set(markers) and used:
        return f"a unit test must not use infrastructure fixtures ({', '.join(used)})"
    return None
