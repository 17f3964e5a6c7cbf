"""The Grafana dashboards, statically: well-formed, and reading only exported series.

That each query returns data from the running services is test_live_prometheus.py's.
"""

from __future__ import annotations

import pytest

from .dashboards import dashboards, panel_queries, promql_for_test
from .exported import exported_metric_names

pytestmark = pytest.mark.unit


def test_the_platform_and_business_dashboards_exist_with_unique_uids() -> None:
    boards = dashboards()
    uids = [b["uid"] for b in boards.values()]
    assert sorted(uids) == ["chorus-business", "chorus-platform"]
    for name, board in boards.items():
        titles = [p["title"] for p in board["panels"]]
        assert len(titles) == len(set(titles)), f"{name}: duplicate panel titles"


def test_every_panel_reads_prometheus_through_the_datasource_variable() -> None:
    for board in dashboards().values():
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], f"{panel['title']}: no query"


def test_every_query_reads_only_series_the_services_export() -> None:
    queries = panel_queries()
    assert len(queries) >= 20
    for query in queries:
        assert query.metrics or query.expr.startswith("up{"), query.id
        unknown = sorted(query.metrics - exported_metric_names())
        assert not unknown, f"{query.id} reads series no service exports: {unknown}"
        promql_for_test(query.expr)  # no variable left unsubstituted
