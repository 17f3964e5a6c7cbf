"""Where the local stack keeps its state: everything lives under `<repo>/.local/`.

The repository root is the directory whose `pyproject.toml` declares the uv workspace,
found by walking up from the working directory (or this file), unless `CHORUS_HOME`
names it explicitly. `.local/` is git-ignored, so wiping it never touches tracked files.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "CHORUS_HOME"


class RepoRootNotFound(RuntimeError):
    """No directory above the start point holds the workspace `pyproject.toml`."""


def _is_workspace_root(directory: Path) -> bool:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return "workspace" in data.get("tool", {}).get("uv", {})


def find_repo_root(start: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Return the workspace root: `$CHORUS_HOME`, else the nearest workspace above `start`."""
    env = os.environ if environ is None else environ
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV]).resolve()
    starts = [start] if start is not None else [Path.cwd(), Path(__file__).parent]
    for origin in starts:
        for directory in [origin.resolve(), *origin.resolve().parents]:
            if _is_workspace_root(directory):
                return directory
    raise RepoRootNotFound(
        f"no pyproject.toml with [tool.uv.workspace] above {starts[0]}; set {HOME_ENV}"
    )


@dataclass(frozen=True)
class StackPaths:
    """Every file and directory the stack manager reads or writes."""

    root: Path

    @property
    def local(self) -> Path:
        return self.root / ".local"

    @property
    def lock_file(self) -> Path:
        return self.local / "stack.lock"

    @property
    def stack_env(self) -> Path:
        return self.local / "stack.env"

    @property
    def secret_file(self) -> Path:
        return self.local / "internal_token_secret"

    @property
    def kafka(self) -> Path:
        return self.local / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka / "libs"

    @property
    def kafka_config(self) -> Path:
        return self.kafka / "config"

    @property
    def kafka_data(self) -> Path:
        return self.kafka / "data"

    @property
    def kafka_logs(self) -> Path:
        return self.kafka / "logs"

    @property
    def kafka_pom(self) -> Path:
        return self.root / "deploy" / "kafka" / "pom.xml"

    @property
    def maven_repo(self) -> Path:
        return self.local / "m2"

    @property
    def postgres(self) -> Path:
        return self.local / "postgres"

    @property
    def redis(self) -> Path:
        return self.local / "redis"

    @property
    def services(self) -> Path:
        return self.local / "services"

    @property
    def venv_python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"
