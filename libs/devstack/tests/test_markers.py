"""Every test ends up with exactly one level marker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chorus_devstack import plugin
from chorus_devstack.markers import level_for, unit_test_misuse


@pytest.mark.parametrize(
    ("path", "markers", "fixtures", "expected"),
    [
        ("repo/tests/integration/test_x.py", [], [], "integration"),
        ("repo/libs/events/tests/integration/test_x.py", [], [], "integration"),
        ("repo/tests/e2e/test_journey.py", [], [], "e2e"),
        ("repo/libs/events/tests/unit/test_x.py", [], [], "unit"),
        ("repo/services/content/tests/test_api.py", [], ["postgres_dsn"], "integration"),
        ("repo/services/content/tests/test_api.py", [], ["tmp_path"], "unit"),
        ("repo/tests/integration/test_x.py", ["e2e"], [], None),
        ("repo/tests/unit/test_x.py", ["unit", "parametrize"], [], None),
        ("repo/integration/test_x.py", [], [], "unit"),
    ],
)
def test_level_for(path: str, markers: list[str], fixtures: list[str], expected: str) -> None:
    assert level_for(Path(path).parts, markers, fixtures) == expected


def test_explicit_unit_tests_may_not_use_engines() -> None:
    assert unit_test_misuse(["unit"], ["tmp_path"]) is None
    assert unit_test_misuse(["integration"], ["kafka_bootstrap"]) is None
    message = unit_test_misuse(["unit"], ["redis_url", "kafka_bootstrap"])
    assert message is not None and "kafka_bootstrap, redis_url" in message


@dataclass(frozen=True)
class _Mark:
    name: str


class _Item:
    def __init__(self, path: str, markers: list[str], fixtures: list[str]) -> None:
        self.path = Path(path)
        self.fixturenames = fixtures
        self.marks = [_Mark(name) for name in markers]

    def iter_markers(self) -> Iterator[Any]:
        return iter(self.marks)

    def add_marker(self, name: str) -> None:
        self.marks.append(_Mark(name))


def test_collection_hook_marks_only_unmarked_items() -> None:
    items = [
        _Item("r/tests/integration/t.py", [], []),
        _Item("r/libs/x/tests/t.py", [], []),
        _Item("r/libs/x/tests/t.py", ["e2e"], []),
    ]
    plugin.pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [[m.name for m in item.marks] for item in items] == [
        ["integration"],
        ["unit"],
        ["e2e"],
    ]


def test_this_very_test_was_marked_unit(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None
