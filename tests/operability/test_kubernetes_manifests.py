"""The Kubernetes manifests, validated offline against the Kubernetes JSON schemas.

`kubernetes-validate` bundles the schemas of every Kubernetes release, so no
cluster and no network is needed. Besides the schema, the operational promises:
probes, resources, autoscaling within the partition count, disruption budgets,
drain time for consumers, the migration Job, and scrape annotations that the
Kubernetes scrape configuration keeps.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .kustomize import Resource, by_kind, render

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = REPO_ROOT / "deploy" / "kubernetes"
BASE, OVERLAY = KUBERNETES / "base", KUBERNETES / "overlays" / "example"
SERVICES = ("content", "sharing", "metrics", "rewards", "gateway")
KUBERNETES_VERSION = "1.30.0"  # the oldest release still supported by the big clouds

RENDERED = {"base": render(BASE), "overlay": render(OVERLAY)}


def _key(resource: Resource) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


@pytest.mark.parametrize(
    "resource",
    [r for rs in RENDERED.values() for r in rs],
    ids=lambda r: "/".join(_key(r)),
)
def test_every_resource_is_valid_against_the_kubernetes_schema(resource: Resource) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_schema_validation_rejects_a_misspelt_field() -> None:
    deployment = yaml.safe_load(yaml.safe_dump(by_kind(RENDERED["base"], "Deployment")["gateway"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("name", ["base", "overlay"])
def test_the_renderer_agrees_with_kubectl_kustomize(name: str) -> None:
    directory = BASE if name == "base" else OVERLAY
    done = subprocess.run(["kubectl", "kustomize", str(directory)],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    expected = sorted(yaml.safe_load_all(done.stdout), key=_key)
    assert sorted(RENDERED[name], key=_key) == expected


@pytest.fixture(params=["base", "overlay"])
def resources(request: pytest.FixtureRequest) -> list[Resource]:
    return RENDERED[request.param]


def container(deployment: Resource) -> dict[str, Any]:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]


def test_a_deployment_service_pdb_and_hpa_per_service(resources: list[Resource]) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        assert sorted(by_kind(resources, kind)) == sorted(SERVICES), kind
    for name, hpa in by_kind(resources, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1", "kind": "Deployment", "name": name}  # fmt: skip
    deployments = by_kind(resources, "Deployment")
    for name, pdb in by_kind(resources, "PodDisruptionBudget").items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert deployments[name]["spec"]["replicas"] >= 2, f"{name}: a PDB needs 2 replicas"


def test_probes_resources_and_settings_of_every_deployment(resources: list[Resource]) -> None:
    for name, deployment in by_kind(resources, "Deployment").items():
        c = container(deployment)
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        for kind in ("requests", "limits"):
            assert set(c["resources"][kind]) == {"cpu", "memory"}, f"{name} {kind}"
        assert {"name": "CHORUS_SERVICE", "value": name} in c["env"]
        sources = {next(iter(s.values()))["name"] for s in c["envFrom"]}
        assert sources == {"chorus-settings", "chorus-secrets"}
    assert "chorus-settings" in by_kind(resources, "ConfigMap")
    assert "chorus-secrets" in by_kind(resources, "Secret")


def test_consumers_never_scale_past_the_partition_count_and_have_time_to_drain(
    resources: list[Resource],
) -> None:
    partitions = int(by_kind(resources, "ConfigMap")["chorus-settings"]["data"][
        "CHORUS_KAFKA_PARTITIONS"])  # fmt: skip
    hpas = by_kind(resources, "HorizontalPodAutoscaler")
    consumers = []
    for name, deployment in by_kind(resources, "Deployment").items():
        pod = deployment["spec"]["template"]
        if pod["metadata"]["labels"]["app.kubernetes.io/component"] != "consumer":
            continue
        consumers.append(name)
        assert deployment["spec"]["replicas"] <= partitions, name
        assert hpas[name]["spec"]["maxReplicas"] <= partitions, name
        # preStop (5 s) + finishing a batch and committing offsets, well within the budget.
        assert pod["spec"]["terminationGracePeriodSeconds"] >= 60, name
    assert sorted(consumers) == ["metrics", "rewards", "sharing"]


def test_the_migration_runs_as_a_job_for_every_service(resources: list[Resource]) -> None:
    job = by_kind(resources, "Job")["chorus-migrate"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    [c] = pod["containers"]
    assert c["args"][:3] == ["python", "-m", "chorus_platform.migrate"]
    assert sorted(c["args"][3:]) == sorted(SERVICES)
    deployment_image = container(by_kind(resources, "Deployment")["gateway"])["image"]
    assert c["image"] == deployment_image


def test_pods_carry_what_the_kubernetes_scrape_config_keeps(resources: list[Resource]) -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy/prometheus/prometheus-kubernetes.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == ["chorus"]
    for name, deployment in by_kind(resources, "Deployment").items():
        assert deployment["metadata"]["namespace"] == "chorus"
        template = deployment["spec"]["template"]["metadata"]
        assert template["labels"]["app.kubernetes.io/part-of"] == "chorus"
        assert template["labels"]["app.kubernetes.io/name"] == name
        annotations = template["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        port = container(deployment)["ports"][0]["containerPort"]
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"


def test_the_overlay_changes_only_what_it_says() -> None:
    base = {_key(r): r for r in RENDERED["base"]}
    overlay = {_key(r): r for r in RENDERED["overlay"]}
    assert base.keys() == overlay.keys()
    gateway = overlay[("Deployment", "gateway")]
    assert gateway["spec"]["replicas"] == 3
    assert container(gateway)["image"] == "registry.example.com/chorus/chorus:0.1.0"
    assert container(gateway)["readinessProbe"] == container(base[("Deployment", "gateway")])[
        "readinessProbe"]  # fmt: skip
