"""A real Prometheus scrapes the five services over loopback after some traffic.

The configuration is deploy/prometheus/prometheus.yml with the targets moved to
this run's ports and a 1 s interval; the rules are the real ones. Then every
target must be up, the key series must exist, every rule must evaluate without
error, and every Grafana panel's query must return data.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from chorus_devstack.prometheus import running_prometheus
from chorus_devstack.waiting import eventually
from prometheus_client import REGISTRY

from .conftest import Journey
from .dashboards import ALLOWED_EMPTY, panel_queries, promql_for_test
from .kustomize import by_kind, render
from .platform import SERVICES, Platform, click, share

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
KUBERNETES_BASE = REPO_ROOT / "deploy" / "kubernetes" / "base"


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
async def traffic(journey: Journey) -> Journey:
    """A share and a click, followed until every consumer group on their path applied them."""
    platform, tenant = journey.platform, journey.tenant
    # This run's groups by role: "metrics-shares-ops-1a2b" -> "metrics-shares".
    group = {g.split("-ops-")[0]: g for g in platform.groups}
    code = await share(tenant, journey.item_id)

    async def share_known() -> bool:  # else metrics holds the click for later
        return counted("chorus_events_consumed_total", service="metrics",
                       topic="share.posted", group=group["metrics-shares"]) >= 1  # fmt: skip

    await eventually(share_known, timeout=60, what="share.posted consumed by metrics")
    await click(tenant, code)

    async def engagement_applied() -> bool:
        return counted("chorus_events_consumed_total", service="rewards",
                       topic="engagement.updated", group=group["rewards"]) >= 1  # fmt: skip

    await eventually(engagement_applied, timeout=60, what="engagement.updated consumed by rewards")
    async with httpx.AsyncClient(timeout=10) as http:
        for service in SERVICES:  # readiness sets chorus_dependency_up, as the kubelet would
            ready = await http.get(f"{platform.url(service)}/readyz")
            assert ready.status_code == 200, ready.text
    return journey


@pytest.fixture(scope="module")
async def prometheus(
    traffic: Journey, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    config: dict[str, Any] = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    # The five apps share this test's event loop: frequent scrapes of ten targets
    # would compete with the traffic on a loaded machine.
    config["global"] = {"scrape_interval": "2s", "evaluation_interval": "2s"}
    config["rule_files"] = [str(PROMETHEUS / "rules" / "chorus.rules.yml")]
    for job in config["scrape_configs"]:
        service = job["job_name"].removeprefix("chorus-")
        job["static_configs"] = [{"targets": [f"127.0.0.1:{traffic.platform.ports[service]}"]}]
    workdir = tmp_path_factory.mktemp("prometheus")
    config["scrape_configs"].append(_kubernetes_job(traffic.platform, workdir))
    path = workdir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    async with (
        running_prometheus(path, workdir) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


def _meta(prefix: str, items: dict[str, str]) -> dict[str, str]:
    """Kubernetes discovery's label for each pod label or annotation."""
    return {f"{prefix}{re.sub(r'[^A-Za-z0-9_]', '_', k)}": v for k, v in items.items()}


def _kubernetes_job(platform: Platform, workdir: Path) -> dict[str, Any]:
    """The Kubernetes scrape job, fed the pods the manifests would create.

    Debian's Prometheus has no Kubernetes discovery, so file discovery hands it the
    same `__meta_kubernetes_*` labels for one pod per Deployment of the rendered
    base (its declared labels and annotations), plus a finished migration pod the
    relabelling must drop. The address is the pod's with a wrong port: the
    `prometheus.io/port` annotation (set here to this run's port) must win.
    """
    config = yaml.safe_load((PROMETHEUS / "prometheus-kubernetes.yml").read_text())
    [job] = config["scrape_configs"]
    job.pop("kubernetes_sd_configs")
    targets_file = workdir / "kubernetes-pods.json"
    job["file_sd_configs"] = [{"files": [str(targets_file)], "refresh_interval": "1s"}]
    job["job_name"] = "chorus-kubernetes-pods"
    job["scrape_interval"] = "5s"  # one scrape per pod proves the relabelling
    rendered = render(KUBERNETES_BASE)
    groups = []
    for name, deployment in by_kind(rendered, "Deployment").items():
        template = deployment["spec"]["template"]["metadata"]
        annotations = {**template["annotations"], "prometheus.io/port": str(platform.ports[name])}
        groups.append({"targets": ["127.0.0.1:1"], "labels": {
            **_meta("__meta_kubernetes_pod_label_", template["labels"]),
            **_meta("__meta_kubernetes_pod_annotation_", annotations),
            "__meta_kubernetes_namespace": deployment["metadata"]["namespace"],
            "__meta_kubernetes_pod_name": f"{name}-7d9f8-abcde",
            "__meta_kubernetes_pod_phase": "Running"}})  # fmt: skip
    migrate = by_kind(rendered, "Job")["chorus-migrate"]["spec"]["template"]["metadata"]
    finished = {
        **_meta("__meta_kubernetes_pod_label_", migrate["labels"]),
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
        "__meta_kubernetes_namespace": "chorus",
        "__meta_kubernetes_pod_phase": "Succeeded",
    }
    groups.append({"targets": ["127.0.0.1:1"], "labels": finished})
    targets_file.write_text(json.dumps(groups))
    return job  # type: ignore[no-any-return]


async def query(client: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/query", params={"query": expr})
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def eventually_found(client: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def some() -> bool:
        nonlocal found
        found = await query(client, expr)
        return bool(found)

    await eventually(some, timeout=30, interval=0.25, what=f"a result for {expr}")
    return found


async def test_every_service_target_is_up(prometheus: httpx.AsyncClient) -> None:
    expected = {f"chorus-{s}" for s in SERVICES}

    async def all_up() -> bool:
        up = await query(prometheus, 'up{job=~"chorus-.+"}')
        return {r["metric"]["job"] for r in up if r["value"][1] == "1"} == expected

    await eventually(all_up, timeout=30, interval=0.25, what=f"targets {sorted(expected)} up")


async def test_the_kubernetes_scrape_config_finds_every_deployment_by_its_labels(
    prometheus: httpx.AsyncClient,
) -> None:
    expected = {f"chorus-{s}" for s in SERVICES}
    found: list[dict[str, Any]] = []

    async def all_up() -> bool:
        nonlocal found
        found = await query(prometheus, 'up{namespace="chorus", pod!=""}')
        return {r["metric"]["job"] for r in found if r["value"][1] == "1"} == expected

    await eventually(all_up, timeout=30, interval=0.25, what="the Kubernetes pods scraped")
    assert len(found) == len(SERVICES), "the migration pod must not be a target"
    pods = {r["metric"]["job"]: r["metric"]["pod"] for r in found}
    assert pods["chorus-gateway"] == "gateway-7d9f8-abcde"


@pytest.mark.parametrize(
    "expr",
    [
        # events consumed, per consuming service
        'chorus_events_consumed_total{service="sharing", topic="content.approved"}',
        'chorus_events_consumed_total{service="metrics", topic="share.posted"}',
        'chorus_events_consumed_total{service="rewards", topic="engagement.updated"}',
        'chorus_events_produced_total{topic="share.posted"}',
        # consumer lag per group, outbox backlog per producing service
        'chorus_consumer_lag_messages{service="metrics", topic="clicks.raw"}',
        'chorus_consumer_lag_messages{service="rewards", topic="share.posted"}',
        "chorus_outbox_backlog_events",
        "chorus_outbox_oldest_unsent_age_seconds",
        # the HTTP latency histogram, by route template
        'chorus_http_request_duration_seconds_bucket{service="gateway", route="/v1/shares"}',
        'chorus_http_request_duration_seconds_bucket{service="sharing", route="/v1/shares"}',
        'chorus_dependency_up{service="content", dependency="kafka"} == 1',
        'chorus_sharing_redirects_total{job="chorus-sharing", outcome="redirected"}',
    ],
)
async def test_the_key_series_are_scraped(prometheus: httpx.AsyncClient, expr: str) -> None:
    await eventually_found(prometheus, expr)


async def test_every_rule_evaluates_without_error(
    prometheus: httpx.AsyncClient, traffic: Journey
) -> None:
    async def evaluated() -> list[dict[str, Any]] | None:
        answer = (await prometheus.get("/api/v1/rules")).json()
        rules = [r for g in answer["data"]["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] != "unknown" for r in rules) else None

    rules: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal rules
        rules = await evaluated() or []
        return bool(rules)

    await eventually(done, timeout=30, interval=0.25, what="every rule evaluated once")
    broken = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not broken
    # The registry is the test process's: series left by earlier suites (stopped
    # consumers, Kafka outages on purpose) may rightly alert. This run's may not.
    ours = "|".join(traffic.platform.groups)
    firing = await query(
        prometheus, f'ALERTS{{alertname="ChorusServiceDown"}} or ALERTS{{group=~"{ours}"}}'
    )
    assert not firing, f"alerts pending or firing on a healthy platform: {firing}"


@pytest.mark.parametrize("panel", panel_queries(), ids=lambda p: p.id)
async def test_every_dashboard_query_returns_data(
    prometheus: httpx.AsyncClient, panel: Any
) -> None:
    expr = promql_for_test(panel.expr)
    if panel.metrics <= ALLOWED_EMPTY:
        await query(prometheus, expr)  # valid PromQL; no data without a failure to count
        return
    await eventually_found(prometheus, expr)
