"""`.local/stack.env` and the internal token secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from chorus_devstack.envfile import (
    internal_token_secret,
    read_env_file,
    render_env,
    write_env_file,
)


def test_secret_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "internal_token_secret"
    first = internal_token_secret(path)
    assert len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert internal_token_secret(path) == first
    path.unlink()
    assert internal_token_secret(path) != first


def test_env_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    values = {"CHORUS_KAFKA_BOOTSTRAP": "127.0.0.1:19092", "CHORUS_X": "a=b"}
    write_env_file(path, values)
    assert path.read_text() == "CHORUS_KAFKA_BOOTSTRAP=127.0.0.1:19092\nCHORUS_X=a=b\n"
    assert read_env_file(path) == values
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_env_file(path, {"ONLY": "1"})
    assert read_env_file(path) == {"ONLY": "1"}, "rewritten, not appended"


def test_values_that_would_break_the_file_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot write"):
        render_env({"KEY": "line1\nEVIL=1"})
    with pytest.raises(ValueError, match="cannot write"):
        render_env({"NOT A NAME": "x"})


def test_missing_env_file_reads_as_empty(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "absent.env") == {}
