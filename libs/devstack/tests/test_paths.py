"""Finding the repository root that holds `.local/`."""

from __future__ import annotations

from pathlib import Path

import pytest
from chorus_devstack.paths import RepoRootNotFound, StackPaths, find_repo_root

WORKSPACE = '[project]\nname = "x"\n[tool.uv.workspace]\nmembers = ["libs/*"]\n'


def test_walks_up_to_the_pyproject_that_declares_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(WORKSPACE)
    member = tmp_path / "libs" / "devstack"
    member.mkdir(parents=True)
    (member / "pyproject.toml").write_text('[project]\nname = "member"\n')
    assert find_repo_root(member / "nonexistent-ok", environ={}) == tmp_path.resolve()
    assert find_repo_root(member, environ={}) == tmp_path.resolve()


def test_chorus_home_wins(tmp_path: Path) -> None:
    assert find_repo_root(Path("/"), environ={"CHORUS_HOME": str(tmp_path)}) == tmp_path


def test_fails_clearly_outside_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.uv]\npackage = false\n")
    with pytest.raises(RepoRootNotFound, match="CHORUS_HOME"):
        find_repo_root(tmp_path, environ={})


def test_this_repository_is_found_from_here() -> None:
    root = find_repo_root(Path(__file__).parent, environ={})
    assert (root / "libs" / "devstack").is_dir()


def test_all_state_lives_under_dot_local(tmp_path: Path) -> None:
    paths = StackPaths(tmp_path)
    for path in (paths.kafka_data, paths.postgres, paths.redis, paths.stack_env, paths.services):
        assert path.is_relative_to(tmp_path / ".local")
