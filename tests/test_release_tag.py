"""The generated README's release tag command, run as written: it tags and pushes the
version in pyproject.toml, and refuses, before pushing anything, what the pipeline would
refuse later."""

from pathlib import Path

import pytest

from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.uv_environment import run_uv
from tests.shells import Run, terminal_statements

TAG_SCRIPT = ("uv", "run", "scripts/tag_release.py")


@pytest.fixture
def released_project(project_for, tmp_path) -> Path:
    """A publishing project on main, pushed to its origin."""
    project = commit_as_new_repository(project_for(), "Start")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "-q", "origin", "main")
    return project


def tag_release(project: Path, uv_env: dict):
    """The README's command, which every shell passes to uv as these words."""
    rows = terminal_statements((project / "README.md").read_text())
    assert Run(TAG_SCRIPT) in {row[0] for row in rows}
    return run_uv(project, *TAG_SCRIPT[1:], env=uv_env)


def origin_tags(project: Path) -> list[str]:
    return git(project, "ls-remote", "--tags", "--refs", "origin").split()[1::2]


def test_tags_the_version_and_pushes_the_tag_once(released_project, uv_env):
    first = tag_release(released_project, uv_env)
    assert first.returncode == 0, first.stderr
    assert "Pushed v0.1.0" in first.stdout
    assert origin_tags(released_project) == ["refs/tags/v0.1.0"]

    again = tag_release(released_project, uv_env)
    assert again.returncode == 1
    assert "v0.1.0 is already tagged" in again.stderr and "uv version --bump" in again.stderr


def test_refuses_a_commit_that_is_not_on_main(released_project, uv_env):
    git(released_project, "switch", "-q", "-c", "feature")
    (released_project / "NOTES.md").write_text("A feature.\n")
    git(released_project, "add", "NOTES.md")
    git(released_project, "commit", "-q", "-m", "A feature")
    refused = tag_release(released_project, uv_env)
    assert refused.returncode == 1
    assert "not on origin's main" in refused.stderr
    assert origin_tags(released_project) == []
    assert git(released_project, "tag") == ""


def test_refuses_uncommitted_changes(released_project, uv_env):
    pyproject = released_project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    refused = tag_release(released_project, uv_env)
    assert refused.returncode == 1 and "uncommitted changes" in refused.stderr
    assert origin_tags(released_project) == []
