"""`.local/stack.env` (what services and shells need to reach the stack) and the secret.

The internal token secret is generated once and reused, so restarting the stack does
not invalidate tokens the running services already issued to each other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path


def internal_token_secret(path: Path) -> str:
    """The secret stored at `path`, created (mode 600) on first use."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    # O_EXCL + mode 0o600 at creation: the secret is never readable by others, not even
    # briefly, and two concurrent `up`s cannot both write different secrets.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def render_env(values: Mapping[str, str]) -> str:
    for key, value in values.items():
        if not key.isidentifier() or "\n" in value:
            raise ValueError(f"cannot write {key!r} to an env file")
    return "".join(f"{key}={value}\n" for key, value in values.items())


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write KEY=VALUE lines atomically (readers never see half a file), mode 600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(render_env(values))
    partial.replace(path)


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return values
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.lstrip().startswith("#"):
            values[key.strip()] = value
    return values
