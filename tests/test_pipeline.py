"""The generated azure-pipelines.yml, read as a reviewer would read it."""

import subprocess
import sys
from pathlib import Path

import pytest

from azure_standins.pipeline.portable_script import cmd_problems
from azure_standins.template_facts import PINNED_UV
from tests.schema import read_pipeline, steps
from tests.variants import MATRIX, variant_answers, variant_id

CACHE_KEY = '"uv-cache" | "$(Agent.OS)" | .python-version | uv.lock'
RESTORE_KEYS = ['"uv-cache" | "$(Agent.OS)" | .python-version', '"uv-cache" | "$(Agent.OS)"']


def job_steps(pipeline: dict, job: str) -> list[dict]:
    (found,) = [j for stage in pipeline["stages"] for j in stage["jobs"] if j["job"] == job]
    return found["steps"]


def scripts_of_test_job(project: Path) -> list[str]:
    return [s["script"] for s in job_steps(read_pipeline(project), "Test") if "script" in s]


@pytest.fixture(scope="module", params=[True, False], ids=["publish", "consume"])
def project(request, render) -> Path:
    return render(publish=request.param)


@pytest.mark.parametrize("variant", MATRIX, ids=[variant_id(*v) for v in MATRIX])
def test_every_script_works_in_bash_and_cmd(render, variant):
    pipeline = read_pipeline(render(**variant_answers(*variant)))
    problems = {s["script"]: cmd_problems(s["script"]) for s in steps(pipeline) if "script" in s}
    assert {script: found for script, found in problems.items() if found} == {}


def test_access_token_is_mapped_only_into_step_env(project):
    pipeline = read_pipeline(project)
    assert "System.AccessToken" not in str(pipeline["variables"])
    for step in steps(pipeline):
        outside_env = {k: v for k, v in step.items() if k != "env"}
        assert "System.AccessToken" not in str(outside_env)
        for name, value in step.get("env", {}).items():
            if "System.AccessToken" in value:
                assert name.endswith("_PASSWORD") or name == "UV_PUBLISH_TOKEN"


def test_no_prompts_and_no_python_downloads_in_ci(project):
    variables = read_pipeline(project)["variables"]
    assert variables["UV_KEYRING_PROVIDER"] == "disabled"
    assert variables["UV_INDEX_AZURE_DEVOPS_USERNAME"] == "VssSessionToken"
    assert variables["UV_PYTHON_DOWNLOADS"] == "never"


def test_uv_is_pinned_once_and_installed_in_one_step(project):
    pipeline = read_pipeline(project)
    pinned = PINNED_UV
    assert pipeline["variables"]["UV_VERSION"] == pinned
    installs = [s for s in steps(pipeline) if "uv==" in s.get("script", "")]
    assert installs and all(
        s["script"] == "python -m pip install uv==$(UV_VERSION)" for s in installs
    )
    major, minor, _ = pinned.split(".")
    build_requires = (project / "pyproject.toml").read_text()
    assert f'"uv_build>={major}.{minor}.0,<{major}.{int(minor) + 1}"' in build_requires


def test_uv_cache_is_keyed_on_lock_and_python_version(project):
    pipeline = read_pipeline(project)
    (cache,) = [s for s in steps(pipeline) if s.get("task") == "Cache@2"]
    assert cache["inputs"]["key"] == CACHE_KEY
    assert cache["inputs"]["restoreKeys"].splitlines() == RESTORE_KEYS
    assert cache["inputs"]["path"] == "$(UV_CACHE_DIR)"
    assert pipeline["variables"]["UV_CACHE_DIR"].startswith("$(Pipeline.Workspace)/")


def test_cache_is_pruned_without_dropping_downloaded_wheels(project):
    scripts = [s["script"] for s in steps(read_pipeline(project)) if "script" in s]
    assert "uv cache prune" in scripts
    assert not any("--ci" in script for script in scripts)
    assert scripts.index("uv cache prune") == len(scripts_of_test_job(project)) - 1


def test_test_job_syncs_lints_tests_and_builds_in_order(project):
    assert scripts_of_test_job(project) == [
        "python -m pip install uv==$(UV_VERSION)",
        "uv sync --locked",
        "uv run --no-sync ruff check",
        "uv run --no-sync ruff format --check",
        "uv run --no-sync pytest --junitxml=test-results.xml --cov --cov-report=xml:coverage.xml",
        "uv build",
        "python .azure-pipelines/trim_uv_cache.py",
        "uv cache prune",
    ]
    tasks = {s["task"]: s for s in job_steps(read_pipeline(project), "Test") if "task" in s}
    assert tasks["PublishTestResults@2"]["inputs"]["testResultsFiles"] == "test-results.xml"
    assert tasks["PublishCodeCoverageResults@2"]["inputs"]["summaryFileLocation"] == "coverage.xml"


def test_linux_and_windows_legs(project):
    pipeline = read_pipeline(project)
    (test_stage,) = [s for s in pipeline["stages"] if s["stage"] == "Test"]
    (job,) = test_stage["jobs"]
    images = {leg["imageName"] for leg in job["strategy"]["matrix"].values()}
    assert images == {"ubuntu-latest", "windows-latest"}
    assert job["pool"]["vmImage"] == "$(imageName)"


def test_triggers_main_and_pull_requests(project):
    pipeline = read_pipeline(project)
    assert pipeline["trigger"]["branches"]["include"] == ["main"]
    assert pipeline["pr"]["branches"]["include"] == ["main"]


def test_publish_stage_runs_only_for_tags_after_tests(render):
    pipeline = read_pipeline(render(publish=True))
    (stage,) = [s for s in pipeline["stages"] if s["stage"] == "Publish"]
    assert stage["dependsOn"] == "Test"
    assert stage["condition"] == (
        "and(succeeded(), startsWith(variables['Build.SourceBranch'], 'refs/tags/v'))"
    )
    scripts = [s["script"] for s in job_steps(pipeline, "Publish") if "script" in s]
    check = "python .azure-pipelines/check_release_tag.py $(Build.SourceBranchName) dist"
    assert scripts.index(check) < scripts.index(
        "uv publish --index azure-devops --trusted-publishing never"
    )
    (upload,) = [s for s in job_steps(pipeline, "Publish") if "uv publish" in s.get("script", "")]
    assert upload["env"] == {
        "UV_PUBLISH_TOKEN": "$(System.AccessToken)",
        "UV_INDEX_AZURE_DEVOPS_PASSWORD": "$(System.AccessToken)",
    }


@pytest.mark.parametrize(
    ("tag", "files", "accepted"),
    [
        (
            "v0.1.0",
            ["contoso_widgets-0.1.0-py3-none-any.whl", "contoso_widgets-0.1.0.tar.gz"],
            True,
        ),
        (
            "v0.2.0",
            ["contoso_widgets-0.1.0-py3-none-any.whl", "contoso_widgets-0.1.0.tar.gz"],
            False,
        ),
        ("0.1.0", ["contoso_widgets-0.1.0-py3-none-any.whl"], False),
        ("v0.1.0", [], False),
    ],
)
def test_release_tag_check(render, tmp_path, tag, files, accepted):
    script = render(publish=True) / ".azure-pipelines/check_release_tag.py"
    for name in files:
        (tmp_path / name).touch()
    result = subprocess.run(
        [sys.executable, str(script), tag, str(tmp_path)], capture_output=True, text=True
    )
    assert (result.returncode == 0) == accepted
    if not accepted:
        assert "##vso[task.logissue type=error]" in result.stdout
