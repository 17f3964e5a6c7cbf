"""The example OpenTelemetry Collector configuration is complete and matches the services.

No collector binary is available from the allowed registries, so this checks the
structure the collector itself checks first: every pipeline component is defined,
and the OTLP/HTTP receiver listens where the example overlay sends traces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from .kustomize import by_kind, render

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = REPO_ROOT / "deploy" / "otel" / "collector.yaml"
OVERLAY = REPO_ROOT / "deploy" / "kubernetes" / "overlays" / "example"


def collector() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(COLLECTOR.read_text())
    return config


def test_every_pipeline_component_is_defined() -> None:
    config = collector()
    traces = config["service"]["pipelines"]["traces"]
    for section in ("receivers", "processors", "exporters"):
        assert traces[section], section
        missing = set(traces[section]) - set(config[section])
        assert not missing, f"{section} used but not defined: {missing}"
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    # memory_limiter must come first, batch last (the collector's documented order).
    assert traces["processors"][0] == "memory_limiter"
    assert traces["processors"][-1] == "batch"


def test_the_services_send_traces_to_the_receivers_http_port() -> None:
    configmap = by_kind(render(OVERLAY), "ConfigMap")["chorus-settings"]
    endpoint = urlsplit(configmap["data"]["CHORUS_OTLP_ENDPOINT"])
    listening = collector()["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert endpoint.scheme == "http"
    assert endpoint.port == int(listening.rsplit(":", 1)[1]) == 4318
