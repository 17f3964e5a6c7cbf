"""The Prometheus configuration and alert rules, checked by the real promtool.

promtool comes from Debian's `prometheus` package, installed when missing (as
PostgreSQL and Redis are), so these never skip on a fresh CI machine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from chorus_devstack.prometheus import run_promtool

from .exported import exported_metric_names

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "chorus.rules.yml"
RULE_TESTS = PROMETHEUS / "tests" / "chorus.rules.test.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def alerts() -> list[dict[str, Any]]:
    return [r for g in load(RULES)["groups"] for r in g["rules"] if "alert" in r]


def promtool_ok(*args: str, cwd: Path | None = None) -> str:
    done = run_promtool(args, cwd=cwd)
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_local_scrape_config_is_valid() -> None:
    out = promtool_ok("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert "SUCCESS" in out


def test_the_kubernetes_scrape_config_is_valid(tmp_path: Path) -> None:
    # Debian builds Prometheus without Kubernetes discovery, so promtool rejects the
    # `kubernetes_sd_configs` key itself; everything else (relabelling included) is
    # checked with a file discovery in its place.
    config = load(PROMETHEUS / "prometheus-kubernetes.yml")
    [job] = config["scrape_configs"]
    assert job["kubernetes_sd_configs"][0]["role"] == "pod"
    job.pop("kubernetes_sd_configs")
    job["file_sd_configs"] = [{"files": [str(tmp_path / "targets.json")]}]
    config["rule_files"] = [str(RULES)]
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config))
    promtool_ok("check", "config", str(checked))


def test_the_rules_are_valid() -> None:
    out = promtool_ok("check", "rules", str(RULES))
    assert "SUCCESS" in out


def test_every_alert_behaves_as_its_unit_test_says() -> None:
    out = promtool_ok("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert "SUCCESS" in out


def test_every_alert_has_a_unit_test_where_it_fires() -> None:
    tested = {
        case["alertname"]
        for test in load(RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {a["alert"] for a in alerts()} == tested


@pytest.mark.parametrize("alert", alerts(), ids=lambda a: str(a["alert"]))
def test_every_alert_has_a_severity_and_a_runbook_that_exists(alert: dict[str, Any]) -> None:
    assert alert["labels"]["severity"] in ("page", "ticket")
    runbook = REPO_ROOT / alert["annotations"]["runbook_url"]
    assert runbook.is_file(), f"{alert['alert']}: no runbook at {runbook}"
    assert runbook.read_text().startswith(f"# {alert['alert']}\n")


def test_the_rules_use_only_series_the_services_export() -> None:
    used = set(re.findall(r"\bchorus_[a-z_]+\b", RULES.read_text()))
    assert used, "no chorus series found in the rules"
    unknown = sorted(name for name in used if name not in exported_metric_names())
    assert not unknown, f"rules use series no service exports: {unknown}"
