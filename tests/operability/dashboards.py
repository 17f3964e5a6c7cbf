"""The PromQL of every Grafana panel in deploy/grafana/dashboards, ready to run in a test."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"

# Counters created by their first failure: a healthy run has none of them. Their
# names are still checked against the registry (test_dashboards.py).
ALLOWED_EMPTY = frozenset(
    {
        "chorus_events_dead_lettered_total",
        "chorus_events_failed_total",
        "chorus_outbox_publish_errors_total",
    }
)

# Grafana's variables, as the dashboards use them, with values that fit a short test.
_VARIABLES = {
    "$__rate_interval": "30s",
    "$__range": "1h",
    "$service": ".+",
}


@dataclass(frozen=True)
class PanelQuery:
    id: str  # "<dashboard uid>/<panel title>/<refId>"
    expr: str
    metrics: frozenset[str]  # chorus_* series names it reads


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def _panels(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for item in items:
        found.append(item)
        found.extend(_panels(item.get("panels", [])))
    return found


def panel_queries() -> list[PanelQuery]:
    queries = []
    for board in dashboards().values():
        for panel in _panels(board["panels"]):
            for target in panel.get("targets", []):
                expr = target["expr"]
                names = frozenset(re.findall(r"\bchorus_[a-z_]+\b", expr))
                queries.append(
                    PanelQuery(f"{board['uid']}/{panel['title']}/{target['refId']}", expr, names)
                )
    return queries


def promql_for_test(expr: str) -> str:
    for variable, value in _VARIABLES.items():
        expr = expr.replace(variable, value)
    leftover = re.findall(r"\$\{?\w+", expr)
    assert not leftover, f"unsubstituted Grafana variables {leftover} in {expr}"
    return expr
