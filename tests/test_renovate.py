"""Fleet updates through the real Renovate (39.x, the newest that runs on Node.js 20): its
copier manager finds the template in a project's answers file, sees the newer release, and
runs `copier update` under its own flags; its config code reads the project's renovate.json.

The project is rendered from the template by URL (`file://.../.git`, which both Copier and
Renovate take) at v1.0.0, a release without the agent_pool question, and lives in a git
repository of its own, as on Azure Repos.
"""

import os
import sys
from pathlib import Path

import pytest
import yaml

from azure_standins.git_repo import commit_as_new_repository
from azure_standins.renovate_tool import update_template, validate_config
from azure_standins.template_facts import EXAMPLE_ANSWERS, PINNED_UV
from azure_standins.uv_environment import system_path
from tests.rendering import copier_cli, data_args
from tests.template_releases import FORMAT_STEP

pytestmark = pytest.mark.e2e

ANSWERS_FILE = ".copier-answers.yml"


@pytest.fixture
def renovate_env(tmp_path) -> dict[str, str]:
    """An agent that runs Renovate: on PATH, git, node and a `copier` with the template's
    two extensions (this environment's), and nothing else of this environment."""
    this_env = Path(sys.executable).parent
    bin_dir = tmp_path / "copier-bin"
    bin_dir.mkdir()
    (bin_dir / "copier").symlink_to(this_env / "copier")
    return {**os.environ, "PATH": system_path(bin_dir)}


@pytest.fixture
def project_repository(template_repo, tmp_path) -> Path:
    """A team's repository, rendered by URL from the template's v1.0.0."""
    url = f"file://{template_repo}/.git"
    project = tmp_path / "contoso-widgets"
    copied = copier_cli(
        "copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0",
        *data_args(EXAMPLE_ANSWERS), url, str(project),
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text())
    assert answers["_src_path"] == url and "agent_pool" not in answers
    return commit_as_new_repository(project, "Start from the template")


def changed_files(result: dict) -> dict[str, str]:
    return {item["file"]["path"]: item["file"].get("contents") for item in result["files"]}


def test_renovate_moves_a_project_to_the_next_release_in_one_pull_request(
    project_repository, template_repo, renovate_env, tmp_path
):
    result = update_template(project_repository, tmp_path / "renovate", renovate_env)
    assert result["dependency"]["depName"] == f"file://{template_repo}/.git"
    assert result["dependency"]["currentValue"] == "v1.0.0"
    assert {"v1.0.0", "v2.0.0"} <= set(result["versions"])
    assert result["newVersion"] == "v2.0.0"
    # renovate.json lets the copier manager pass --trust, and groups the update.
    assert result["ignoreScripts"] is False
    assert result["groupName"] == "copier-uv-azure template"
    assert not any("artifactError" in item for item in result["files"])

    files = changed_files(result)
    answers = yaml.safe_load(files[ANSWERS_FILE])
    assert answers["_commit"] == "v2.0.0"
    # A question added since v1.0.0 takes the default that reproduces the old output.
    assert answers["agent_pool"] == ""
    pipeline = files["azure-pipelines.yml"]
    assert FORMAT_STEP.strip().splitlines()[0].strip() in pipeline
    assert f'UV_VERSION: "{PINNED_UV}"' in pipeline
    assert "vmImage: $(imageName)" in pipeline  # Microsoft-hosted, as v1.0.0 had it
    assert not any("<<<<<<<" in (contents or "") for contents in files.values())


def test_renovate_defaults_cannot_update_the_template(project_repository, renovate_env, tmp_path):
    """Without the project's renovate.json, ignoreScripts is true: no --trust, and Copier
    refuses the template. The README tells organizations to allow scripts for this."""
    result = update_template(
        project_repository, tmp_path / "renovate", renovate_env, repository_config=False
    )
    assert result["ignoreScripts"] is True
    (error,) = [item["artifactError"] for item in result["files"]]
    assert "--trust" not in error["stderr"].split("\n")[0]
    assert "potentially unsafe features: jinja_extensions, migrations, tasks" in error["stderr"]


def test_renovate_accepts_the_generated_config_and_would_refuse_a_broken_one(
    render, renovate_env, tmp_path
):
    checked = validate_config(render(), renovate_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Config validated successfully" in checked.stdout + checked.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    text = (render() / "renovate.json").read_text()
    (broken / "renovate.json").write_text(text.replace('"ignoreScripts"', '"ignoreScript"'))
    assert validate_config(broken, renovate_env).returncode != 0
