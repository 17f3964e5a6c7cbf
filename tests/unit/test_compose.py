"""Static and behavioural checks of the container deployment.

Covers docker-compose.yml, deploy/Dockerfile, the helpers in deploy/docker/ and .dockerignore.
No Docker engine is needed; `docker compose config` runs only where the compose CLI exists.
"""

from __future__ import annotations

import fnmatch
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
DOCKER_DIR = REPO_ROOT / "deploy" / "docker"
ENTRYPOINT = DOCKER_DIR / "entrypoint.sh"
HEALTHCHECK = DOCKER_DIR / "healthcheck.py"
PROMETHEUS_CONFIG = DOCKER_DIR / "prometheus.yml"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

APP_SERVICES = ("content", "sharing", "metrics", "rewards", "gateway")
ENGINES = ("kafka", "postgres", "redis")
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what uvicorn must bind inside the container
REQUIRED_ENV = ("CHORUS_POSTGRES_PASSWORD", "CHORUS_INTERNAL_TOKEN_SECRET")

# `${NAME:?message}`: compose refuses to start when NAME is unset or empty.
REQUIRED_INTERPOLATION = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
SECRET_KEY = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL", re.I)
URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:(?P<password>[^@\s]+)@")


# --------------------------------------------------------------------------- helpers


@cache
def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose().get("services")
    assert isinstance(services, dict) and services, "docker-compose.yml has no services"
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose syntaxes it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _healthcheck_command(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    return " ".join(test) if isinstance(test, list) else str(test or "")


def _published_host_ips(port: str | int | dict[str, Any]) -> list[str | None]:
    """Host IP of one `ports:` entry (None when the port is published on every interface)."""
    if isinstance(port, dict):
        return [port.get("host_ip")] if port.get("published") is not None else []
    spec = str(port).split("/", 1)[0]
    if spec.startswith("["):  # [::1]:8100:8000
        host, _, rest = spec[1:].partition("]:")
        return [host] if ":" in rest else [None]
    parts = spec.split(":")
    if len(parts) == 3:
        return [parts[0]]
    return [None]  # "8000" or "8100:8000": all interfaces


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    logical: list[str] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if buffer and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    if buffer:
        logical.append(buffer)
    result = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def _instructions(name: str) -> list[str]:
    return [args for instruction, args in _dockerfile_instructions() if instruction == name]


def _dummy_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in REQUIRED_ENV}
    env.update({"CHORUS_POSTGRES_PASSWORD": "dummy-pw", "CHORUS_INTERNAL_TOKEN_SECRET": "dummy"})
    env.update(overrides)
    return env


# --------------------------------------------------------------------------- compose file


def test_compose_declares_the_platform() -> None:
    services = _services()
    missing = [name for name in (*ENGINES, *APP_SERVICES, "prometheus") if name not in services]
    assert not missing, f"docker-compose.yml lacks services: {missing}"
    assert "version" not in _compose(), "the top-level `version` key is obsolete"


def test_every_service_has_image_or_build_and_healthcheck() -> None:
    problems = []
    for name, service in _services().items():
        if not (service.get("image") or service.get("build")):
            problems.append(f"{name}: neither image nor build")
        healthcheck = service.get("healthcheck")
        if not isinstance(healthcheck, dict) or healthcheck.get("disable"):
            problems.append(f"{name}: no healthcheck")
            continue
        test = healthcheck.get("test")
        if not test or (isinstance(test, list) and test[0] == "NONE"):
            problems.append(f"{name}: healthcheck has no test command")
    assert not problems, problems


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_built_from_shared_dockerfile(name: str) -> None:
    service = _services()[name]
    build = service.get("build")
    assert isinstance(build, dict), f"{name}: build must name the context and the Dockerfile"
    assert (REPO_ROOT / build.get("context", ".")).resolve() == REPO_ROOT, build
    assert build.get("dockerfile") == "deploy/Dockerfile", build

    env = _environment(service)
    assert env.get("CHORUS_SERVICE") == name
    assert env.get("CHORUS_KAFKA_BOOTSTRAP") == "kafka:9092"
    assert env.get("CHORUS_REDIS_URL") == "redis://redis:6379/0"
    assert env.get("CHORUS_DATABASE_URL", "").startswith("postgresql://chorus:${")
    assert env.get("CHORUS_DATABASE_URL", "").endswith("@postgres:5432/chorus")
    assert REQUIRED_INTERPOLATION.fullmatch(env.get("CHORUS_INTERNAL_TOKEN_SECRET", ""))

    assert "/readyz" in _healthcheck_command(service), f"{name}: healthcheck must probe /readyz"


def test_chorus_service_values_map_to_packages() -> None:
    selected = {
        name: env["CHORUS_SERVICE"]
        for name, service in _services().items()
        if "CHORUS_SERVICE" in (env := _environment(service))
    }
    assert sorted(selected.values()) == sorted(APP_SERVICES), selected
    for value in selected.values():
        package = REPO_ROOT / "services" / value / "src" / f"chorus_{value}"
        assert package.is_dir(), f"CHORUS_SERVICE={value} but {package} does not exist"


def test_published_ports_are_loopback_only() -> None:
    published: dict[str, list[str | None]] = {}
    for name, service in _services().items():
        for port in service.get("ports") or []:
            published.setdefault(name, []).extend(_published_host_ips(port))
    exposed = [f"{name}:{ip}" for name, ips in published.items() for ip in ips if ip != "127.0.0.1"]
    assert not exposed, f"ports published beyond 127.0.0.1: {exposed}"
    apps_publishing = sorted(name for name in published if name in APP_SERVICES)
    assert apps_publishing == ["gateway"], "only the gateway is reachable from the host"
    assert _services()["gateway"]["ports"] == ["127.0.0.1:8100:8000"]


def test_depends_on_waits_for_healthy_dependencies() -> None:
    services = _services()
    for name, service in services.items():
        depends_on = service.get("depends_on")
        if depends_on is None:
            continue
        assert isinstance(depends_on, dict), f"{name}: list-form depends_on does not wait"
        for dependency, spec in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert (spec or {}).get("condition") == "service_healthy", f"{name} -> {dependency}"
    for name in APP_SERVICES:
        assert set(ENGINES) <= set(services[name].get("depends_on") or {}), name
    assert set(APP_SERVICES) - {"gateway"} <= set(services["gateway"]["depends_on"])


def test_no_literal_secrets() -> None:
    problems = []
    for name, service in _services().items():
        for key, value in _environment(service).items():
            if SECRET_KEY.search(key) and not REQUIRED_INTERPOLATION.fullmatch(value):
                problems.append(f"{name}.{key} is not a required ${{...:?...}} interpolation")
            for match in URL_CREDENTIALS.finditer(value):
                if not REQUIRED_INTERPOLATION.fullmatch(match["password"]):
                    problems.append(f"{name}.{key} embeds a literal password")
    # And no secret-looking variable anywhere gets a fallback value (`${X:-default}`).
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for variable, operator in re.findall(r"\$\{([A-Za-z0-9_]+)(:?[-?+]?)", text):
        if SECRET_KEY.search(variable) and operator != ":?":
            problems.append(f"${{{variable}}} must be written ${{{variable}:?...}}")
    assert not problems, problems


def test_kafka_is_single_node_kraft() -> None:
    kafka = _services()["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.1"
    env = _environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_LISTENERS"] == "PLAINTEXT://:9092,CONTROLLER://:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env.get("CLUSTER_ID", "")), "needs a base64 UUID"
    assert "kafka-broker-api-versions.sh" in _healthcheck_command(kafka)


def test_engine_data_lives_in_named_volumes() -> None:
    volumes = _compose().get("volumes") or {}
    for name in ENGINES:
        mounts = [str(mount).split(":", 1)[0] for mount in _services()[name].get("volumes") or []]
        assert any(mount in volumes for mount in mounts), f"{name} keeps no data volume"


def test_prometheus_scrapes_every_service() -> None:
    prometheus = _services()["prometheus"]
    mounts = [str(mount) for mount in prometheus.get("volumes") or []]
    assert "./deploy/docker/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    targets = {
        target
        for job in config["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for static in job.get("static_configs", [])
        for target in static.get("targets", [])
    }
    assert {f"{name}:8000" for name in APP_SERVICES} <= targets, targets
    # The same jobs and rules as deploy/prometheus, so the alerts apply here too.
    assert {job["job_name"] for job in config["scrape_configs"]} >= {
        f"chorus-{name}" for name in APP_SERVICES
    }
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert config["rule_files"] == ["rules/chorus.rules.yml"]


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_one_image_for_all_services() -> None:
    assert DOCKERFILE.is_file()
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = _instructions("FROM")
    assert len(froms) >= 2, "multi-stage build expected"
    assert "python:3.11-slim" in text
    assert any("pip install" in run and "uv" in run for run in _instructions("RUN"))
    syncs = [run for run in _instructions("RUN") if "uv sync" in run]
    assert any("--frozen" in run and "--no-dev" in run for run in syncs), syncs
    assert _instructions("EXPOSE") == ["8000"]

    users = _instructions("USER")
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}

    healthchecks = _instructions("HEALTHCHECK")
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0]
    assert "urllib" in HEALTHCHECK.read_text(encoding="utf-8")
    assert "curl" not in healthchecks[0]


def test_dockerfile_entrypoint_reads_chorus_service() -> None:
    entrypoints = _instructions("ENTRYPOINT")
    assert len(entrypoints) == 1
    installed = entrypoints[0].strip('[]" ')
    copies = [copy for copy in _instructions("COPY") if copy.endswith(installed)]
    assert copies, f"ENTRYPOINT {installed} is not copied into the image"
    source = REPO_ROOT / copies[0].split()[-2]
    assert source == ENTRYPOINT and source.is_file()
    assert os.access(source, os.X_OK), "entrypoint.sh must be executable"
    script = source.read_text(encoding="utf-8")
    assert "CHORUS_SERVICE" in script
    assert "chorus_${service}.app:app" in script


def test_dockerfile_copy_sources_exist() -> None:
    for copy in _instructions("COPY"):
        if copy.startswith("--from"):
            continue
        *sources, _destination = copy.split()
        for source in sources:
            if source.startswith("--"):
                continue
            matches = list(REPO_ROOT.glob(source.rstrip("/")))
            assert matches or "*" in source, f"COPY source {source} does not exist"


def test_dockerignore_admits_copied_files_and_keeps_local_state_out() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] in {"*", "**"}, ".dockerignore is an allow-list"
    allowed = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
    for copy in _instructions("COPY"):
        if copy.startswith("--from"):
            continue
        for source in copy.split()[:-1]:
            path = source.rstrip("/*").rstrip("/")
            assert any(
                fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/")
                for pattern in allowed
            ), f"{source} is copied but .dockerignore keeps it out"
    for secret_or_state in (".env", ".venv", ".git", ".local"):
        assert not any(fnmatch.fnmatch(secret_or_state, pattern) for pattern in allowed)
    assert "**/.env" in lines and "**/.venv" in lines


# --------------------------------------------------------------------------- helper scripts


@pytest.fixture
def entrypoint_env(tmp_path: Path) -> dict[str, str]:
    """PATH with a stand-in `uvicorn` that prints the arguments it was started with."""
    stub = tmp_path / "uvicorn"
    stub.write_text('#!/bin/sh\necho "uvicorn $*"\n', encoding="utf-8")
    stub.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHORUS_", "UVICORN_"))}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run_entrypoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_entrypoint_serves_the_selected_service(entrypoint_env: dict[str, str]) -> None:
    for name in APP_SERVICES:
        result = _run_entrypoint({**entrypoint_env, "CHORUS_SERVICE": name})
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [
            "uvicorn",
            f"chorus_{name}.app:app",
            "--host",
            ALL_INTERFACES,
            "--port",
            "8000",
        ]
    extra = _run_entrypoint(
        {**entrypoint_env, "CHORUS_SERVICE": "gateway", "CHORUS_PORT": "9000"}, "serve", "--reload"
    )
    assert extra.stdout.split()[-3:] == ["--port", "9000", "--reload"]


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_entrypoint_rejects_missing_or_unknown_service(entrypoint_env: dict[str, str]) -> None:
    missing = _run_entrypoint(entrypoint_env)
    assert missing.returncode == 64 and "CHORUS_SERVICE" in missing.stderr
    unknown = _run_entrypoint({**entrypoint_env, "CHORUS_SERVICE": "billing"})
    assert unknown.returncode == 64 and "billing" in unknown.stderr
    assert "uvicorn" not in missing.stdout + unknown.stdout


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_entrypoint_runs_other_commands_as_given(entrypoint_env: dict[str, str]) -> None:
    result = _run_entrypoint(entrypoint_env, "echo", "migrate", "now")
    assert result.returncode == 0
    assert result.stdout.strip() == "migrate now"


class _Handler(http.server.BaseHTTPRequestHandler):
    status_by_path: dict[str, int] = {"/healthz": 200, "/readyz": 503}

    def do_GET(self) -> None:
        status = self.status_by_path.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _probe(port: int, *args: str) -> int:
    env = {**os.environ, "CHORUS_PORT": str(port), "CHORUS_HEALTHCHECK_TIMEOUT": "5"}
    result = subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode


def test_healthcheck_script_follows_http_status(http_port: int) -> None:
    assert _probe(http_port) == 0  # /healthz by default
    assert _probe(http_port, "/healthz") == 0
    assert _probe(http_port, "/readyz") == 1
    assert _probe(http_port, "/missing") == 1


def test_healthcheck_script_fails_when_nothing_listens() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    assert _probe(port) == 1  # bound and released: nothing listens there now


# --------------------------------------------------------------------------- docker compose CLI


@cache
def _compose_cli() -> tuple[str, ...] | None:
    if shutil.which("docker") is None:
        return None
    try:
        result = subprocess.run(
            ["docker", "compose", "version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ("docker", "compose") if result.returncode == 0 else None


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cli = _compose_cli()
    assert cli is not None
    return subprocess.run(
        # --env-file /dev/null: a developer's .env must not decide the outcome.
        [*cli, "--env-file", os.devnull, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_docker_compose_config_is_valid() -> None:
    if _compose_cli() is None:
        pytest.skip("`docker compose version` does not work on this machine")
    result = _compose_config(_dummy_env())
    assert result.returncode == 0, result.stderr


def test_docker_compose_config_requires_the_secrets() -> None:
    if _compose_cli() is None:
        pytest.skip("`docker compose version` does not work on this machine")
    for variable in REQUIRED_ENV:
        env = _dummy_env()
        del env[variable]
        result = _compose_config(env)
        assert result.returncode != 0, f"compose accepted a missing {variable}"
        assert variable in result.stderr
