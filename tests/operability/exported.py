"""The names of every series the Chorus services export, from their own registries."""

from __future__ import annotations

import importlib
from functools import cache

from prometheus_client import REGISTRY

# Every module that defines Chorus metrics (the platform's registry and the services'
# business counters); importing them registers their metrics.
METRIC_MODULES = (
    "chorus_platform.metrics",
    "chorus_sharing.metrics",
    "chorus_rewards.metrics",
    "chorus_metrics.telemetry",
)


@cache
def exported_metric_names() -> frozenset[str]:
    """Sample names as Prometheus stores them (`_total`, `_bucket`, `_count`, `_sum`)."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    for family in REGISTRY.collect():
        if not family.name.startswith("chorus_"):
            continue
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{s}" for s in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    return frozenset(names)
