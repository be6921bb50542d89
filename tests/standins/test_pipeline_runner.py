"""The pipeline runner is as strict as Azure: what Azure refuses or ignores, it refuses or
ignores too. Fast checks, no real uv."""

import dataclasses
import re
import time
from pathlib import Path

import pytest
import yaml

from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.pipeline import CacheStore, PipelineRunner, ToolCache
from azure_standins.pipeline.expressions import (
    InvalidExpression,
    UnsupportedConstruct,
    evaluate,
    expand_macros,
)
from azure_standins.pipeline.hosts import SERVER, SERVER_FLOOR, NotOnThisHost
from azure_standins.pipeline.portable_script import cmd_problems
from azure_standins.pipeline.protected import Checks, ServiceConnection
from azure_standins.pipeline.tasks import JobAgent, run_task
from azure_standins.pipeline.triggers import push_triggers
from azure_standins.task_reference import RELEASES
from azure_standins.uv_environment import system_path
from tests.rendering import copy_project


def test_a_tag_push_starts_no_pipeline_and_a_push_only_those_whose_branches_match(render, agent):
    for publish in (False, True):
        project = render(publish=publish)
        assert agent(project).run("refs/tags/v0.1.0").triggered is False
        assert agent(project).triggered("refs/heads/main", "IndividualCI")
        assert not agent(project).triggered("refs/heads/feature", "IndividualCI")


def test_pull_requests_are_built_only_through_a_build_validation_policy(tmp_path):
    """Azure Repos Git ignores YAML `pr:`: a policy on the target branch is what counts."""
    with_pr = {"pr": {"branches": {"include": ["main"]}}}
    ignored = pipeline_runner(tmp_path / "a", [stage("Build", {"script": "true"})], with_pr)
    assert not ignored.triggered("refs/heads/feature", "PullRequest", "main")
    policy = pipeline_runner(
        tmp_path / "b",
        [stage("Build", {"script": "true"})],
        {"pr": "none"},
        build_validation=frozenset({"main"}),
    )
    assert policy.triggered("refs/heads/feature", "PullRequest", "main")
    assert not policy.triggered("refs/heads/feature", "PullRequest", "release")


def test_unknown_task_and_template_expressions_are_refused(render, agent, tmp_path):
    project = copy_project(render(publish=False), tmp_path / "p")
    pipeline_file = project / "azure-pipelines.yml"
    pipeline = yaml.safe_load(pipeline_file.read_text())
    steps = pipeline["stages"][0]["jobs"][0]["steps"]
    steps.insert(0, {"task": "NuGetAuthenticate@1"})
    pipeline_file.write_text(yaml.safe_dump(pipeline))
    with pytest.raises(UnsupportedConstruct, match="NuGetAuthenticate"):
        agent(project).run()
    with pytest.raises(UnsupportedConstruct):
        expand_macros("${{ parameters.python }}", {})


def test_windows_leg_rejects_a_bash_only_script(render, agent, tmp_path):
    project = copy_project(render(publish=False), tmp_path / "p")
    (project / ".azure-pipelines/team-steps.yml").write_text("steps:\n  - script: export FOO=1\n")
    result = agent(project).run()
    windows = result.job("Windows")
    assert windows.status == "failed"
    assert "export" in windows.note


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("and(succeeded(), startsWith(variables['Build.SourceBranch'], 'refs/tags/v'))", True),
        ("and(succeeded(), startsWith(variables['Build.SourceBranch'], 'refs/heads/'))", False),
        ("eq(variables['Agent.OS'], 'linux')", True),
        ("and(succeeded(), eq(variables.Agent.OS, 'Windows_NT'))", False),
        ("succeededOrFailed()", True),
        ("failed()", False),
        ("not(eq(variables['Missing'], ''))", False),
        # Any non-empty string is true, 'false' included; null (a missing variable) is false.
        ("and(succeeded(), 'false')", True),
        ("or(variables['Missing'], '')", False),
        ("or(failed(), ne(variables['Agent.OS'], 'Linux'), endsWith('v1.0.0', '.0'))", True),
        ("contains(variables['Build.SourceBranch'], 'TAGS')", True),
        ("in(variables['Agent.OS'], 'Darwin', 'Windows_NT')", False),
        ("in(variables['Agent.OS'], 'Darwin', 'LINUX')", True),
        ("eq(1, '1.0')", True),
    ],
)
def test_conditions_are_evaluated_like_azure(condition, expected):
    variables = {"Build.SourceBranch": "refs/tags/v1.0.0", "Agent.OS": "Linux"}
    status = {
        "succeeded": True,
        "failed": False,
        "succeededorfailed": True,
        "always": True,
        "canceled": False,
    }
    assert evaluate(condition, variables, status) is expected


@pytest.mark.parametrize(
    "condition", ["and(succeeded())", "or(true)", "not(true, false)", "eq('a')", "in()"]
)
def test_a_function_with_too_few_or_too_many_parameters_is_refused(condition):
    with pytest.raises(InvalidExpression, match="parameters"):
        evaluate(condition, {}, {"succeeded": True})


def test_unknown_condition_function_is_refused():
    with pytest.raises(UnsupportedConstruct):
        evaluate("dependencies.Test.result", {}, {})
    with pytest.raises(UnsupportedConstruct):
        evaluate("coalesce(variables.x, 'y')", {}, {})


def test_use_python_version_fails_for_a_python_this_machine_lacks(tool_cache, tmp_path):
    assert tool_cache.python("2.1", tmp_path / "tools") is None


def test_an_arm64_agent_has_arm64_pythons_and_cannot_run_x64_only_tasks(tool_cache, tmp_path):
    version = tool_cache.versions()[0]
    only_the_tool_cache = {"versionSpec": version, "disableDownloadFromRegistry": "true"}
    use = {"task": "UsePythonVersion@0", "displayName": "use", "inputs": only_the_tool_cache}
    arm64 = {**use, "inputs": {**use["inputs"], "architecture": "arm64"}}
    show = {
        "script": 'echo "$AGENT_OSARCHITECTURE"; python --version; echo "<coverage/>" > c',
        "displayName": "show",
    }
    # A report found: the publisher's x64 binary would read it.
    coverage = {"task": COVERAGE, "displayName": "coverage", "inputs": {"summaryFileLocation": "c"}}
    job = {"job": "B", "pool": {"name": "Arm"}, "steps": [arm64, show, coverage]}
    runner = pipeline_runner(
        tmp_path / "arm", [{"stage": "B", "jobs": [job]}], tools=tool_cache, architecture="ARM64"
    )
    result = runner.run()
    leg = result.job("B")
    assert leg.step("use").status == "succeeded", result.log
    assert "ARM64" in leg.step("show").output and version in leg.step("show").output
    assert leg.step("coverage").status == "failed"
    job["steps"] = [use]
    x64 = pipeline_runner(
        tmp_path / "x64", [{"stage": "B", "jobs": [job]}], tools=tool_cache, architecture="ARM64"
    )
    output = x64.run().job("B").step("use").output
    assert f"Version spec {version} for architecture x64 did not match any version" in output


JUNIT_FAILED = '<testsuites><testsuite tests="1" failures="1"/></testsuites>'
COVERAGE = "PublishCodeCoverageResults@2"
TEST_RESULTS = "PublishTestResults@2"


@pytest.mark.parametrize(
    ("task", "content", "inputs", "passes"),
    [
        (COVERAGE, None, {}, True),  # failIfCoverageEmpty defaults to false: a warning
        (COVERAGE, None, {"failIfCoverageEmpty": "true"}, False),
        (COVERAGE, "", {"failIfCoverageEmpty": "true"}, False),
        (COVERAGE, "<html/>", {"failIfCoverageEmpty": "true"}, False),
        (COVERAGE, "<coverage/>", {"failIfCoverageEmpty": "true"}, True),
        (TEST_RESULTS, None, {}, True),  # failTaskOnMissingResultsFile defaults to false
        (TEST_RESULTS, None, {"failTaskOnMissingResultsFile": "true"}, False),
        (TEST_RESULTS, "not xml", {}, True),
        (TEST_RESULTS, "not xml", {"failTaskOnFailureToPublishResults": "true"}, False),
        (TEST_RESULTS, JUNIT_FAILED, {}, True),
        (TEST_RESULTS, JUNIT_FAILED, {"failTaskOnFailedTests": "true"}, False),
    ],
)
def test_result_publishing_tasks_follow_their_inputs_and_defaults(
    tmp_path, task, content, inputs, passes
):
    name = "coverage.xml" if task == COVERAGE else "test-results.xml"
    if content is not None:
        (tmp_path / name).write_text(content)
    key = "summaryFileLocation" if task == COVERAGE else "testResultsFiles"
    agent = JobAgent(tmp_path, {"PATH": str(with_dotnet(tmp_path))}, tmp_path / "a", None, None, [])
    ok, output = run_task(task, {key: name, **inputs}, agent)
    assert ok is passes, output


def with_dotnet(tmp_path):
    """A folder holding a `dotnet` command, as on an agent with .NET installed."""
    folder = tmp_path / "dotnet-bin"
    folder.mkdir()
    (folder / "dotnet").write_text("#!/bin/sh\n")
    (folder / "dotnet").chmod(0o755)
    return folder


def test_the_coverage_task_warns_and_succeeds_on_an_agent_without_dotnet(tmp_path):
    """Microsoft's code: a summary file found, the publisher returns at once without .NET,
    whatever the file holds; none found, failIfCoverageEmpty fails first, .NET or not."""
    inputs = {"summaryFileLocation": "coverage.xml", "failIfCoverageEmpty": "true"}
    without = JobAgent(tmp_path, {"PATH": "/nonexistent"}, tmp_path / "a", None, None, [])
    with_it = JobAgent(
        tmp_path, {"PATH": str(with_dotnet(tmp_path))}, tmp_path / "a", None, None, []
    )
    for agent in (without, with_it):
        ok, output = run_task(COVERAGE, inputs, agent)
        assert not ok and "No code coverage results were found to publish." in output
    (tmp_path / "coverage.xml").write_text("not a coverage report")
    ok, output = run_task(COVERAGE, inputs, without)
    assert ok and "Please install dotnet core to run this task." in output
    assert run_task(COVERAGE, inputs, with_it)[0] is False


def test_result_publishing_tasks_refuse_inputs_they_do_not_implement(tmp_path):
    agent = JobAgent(tmp_path, {}, tmp_path / "artifacts", None, None, [])
    with pytest.raises(UnsupportedConstruct, match="mergeTestResults"):
        run_task(TEST_RESULTS, {"testResultsFiles": "x.xml", "mergeTestResults": "true"}, agent)


@pytest.mark.parametrize(
    "script",
    [
        "echo $HOME",
        "export UV_CACHE_DIR=x",
        "uv sync && \\\n uv build",
        "uv publish dist/*",
        "echo 'a b'",
        "uv sync; uv build",
    ],
)
def test_portability_check_rejects_shell_specific_lines(script):
    assert cmd_problems(script)


def test_portability_check_accepts_azure_macros():
    assert cmd_problems("python -m pip install uv==$(UV_VERSION)") == []


# -- small pipelines of bash steps: each pins one rule of the agent ------------------------

TOKEN = "s3cr3t-access-token"


def pipeline_runner(
    tmp_path, stages: list, top: dict | None = None, files: dict | None = None, **options
) -> PipelineRunner:
    """A runner for a pipeline of `stages` (and `top`-level keys) in a folder of `files`."""
    project = tmp_path / "project"
    project.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {}).items():
        (project / name).write_text(text)
    pipeline = {"trigger": {"branches": {"include": ["main"]}}, **(top or {}), "stages": stages}
    (project / "azure-pipelines.yml").write_text(yaml.safe_dump(pipeline))
    return PipelineRunner(
        project,
        tmp_path / "agent",
        cache=options.pop("cache", None) or CacheStore(tmp_path / "pipeline-cache"),
        tools=options.pop("tools", None) or ToolCache(),
        access_token=TOKEN,
        env={"PATH": system_path()},
        **options,
    )


def run_pipeline(tmp_path, stages: list, files: dict | None = None, variables=None, cache=None):
    """Run a pipeline made of `stages` in a plain folder holding `files`."""
    top = {"variables": variables} if variables else {}
    return pipeline_runner(tmp_path, stages, top, files, cache=cache).run()


def stage(name: str, *steps: dict, **extra) -> dict:
    job = {"job": name, "pool": {"vmImage": "ubuntu-latest"}, "steps": list(steps)}
    return {"stage": name, "jobs": [job], **extra}


def test_secret_reaches_a_step_only_through_its_env_and_is_masked_in_logs(tmp_path):
    result = run_pipeline(
        tmp_path,
        [
            stage(
                "Build",
                {"script": 'echo "token=[$SYSTEM_ACCESSTOKEN]"', "displayName": "without"},
                {
                    "script": 'echo "$TOKEN" > token.txt && echo "token=$TOKEN"',
                    "displayName": "with",
                    "env": {"TOKEN": "$(System.AccessToken)"},
                },
            )
        ],
    )
    job = result.job("Build")
    assert job.step("without").output.strip() == "token=[]"
    assert job.step("with").output.strip() == "token=***"
    assert TOKEN not in result.log
    (sources,) = (tmp_path / "agent").glob("run-1/Build.Build.job/s")
    assert (sources / "token.txt").read_text().strip() == TOKEN


def test_variables_become_upper_case_environment_variables_with_underscores(tmp_path):
    result = run_pipeline(
        tmp_path,
        [stage("Build", {"script": 'echo "$TEAM_NAME $(Team.Name)"', "displayName": "echo"})],
        variables={"Team.Name": "widgets"},
    )
    assert result.job("Build").step("echo").output.strip() == "widgets widgets"


def test_a_stage_runs_after_its_dependencies_succeed_and_is_skipped_after_a_failure(tmp_path):
    ok = {"script": "true", "displayName": "ok"}
    fail = {"script": "false", "displayName": "fail"}
    passed = run_pipeline(tmp_path / "a", [stage("One", ok), stage("Two", ok)])
    assert [job.status for job in passed.jobs] == ["succeeded", "succeeded"]
    failed = run_pipeline(tmp_path / "b", [stage("One", fail, ok), stage("Two", ok)])
    assert [job.status for job in failed.jobs] == ["failed", "skipped"]
    assert failed.job("One").step("ok").status == "skipped"
    always = run_pipeline(
        tmp_path / "c",
        [stage("One", fail), stage("Two", ok, condition="succeededOrFailed()")],
    )
    assert always.job("Two").status == "succeeded"
    # An explicit dependsOn replaces the previous stage; [] depends on nothing.
    explicit = run_pipeline(
        tmp_path / "d",
        [stage("One", fail), stage("Two", ok, dependsOn=[]), stage("Three", ok, dependsOn="Two")],
    )
    assert [job.status for job in explicit.jobs] == ["failed", "succeeded", "succeeded"]
    # A skipped stage skips the stages that depend on it.
    skipped = run_pipeline(
        tmp_path / "e",
        [stage("One", ok, condition="false"), stage("Two", ok), stage("Three", ok, dependsOn=[])],
    )
    assert [job.status for job in skipped.jobs] == ["skipped", "skipped", "succeeded"]


def test_a_job_runs_after_the_jobs_it_depends_on_and_is_skipped_after_a_failure(tmp_path):
    def job(name: str, script: str, **extra) -> dict:
        steps = [{"script": script, "displayName": name}]
        return {"job": name, "pool": {"vmImage": "ubuntu-latest"}, "steps": steps, **extra}

    jobs = [job("Test", "false"), job("Lint", "true"), job("Image", "true", dependsOn=["Test"])]
    failed = run_pipeline(tmp_path / "a", [{"stage": "Build", "jobs": jobs}])
    assert [(j.job, j.status) for j in failed.jobs] == [
        ("Test", "failed"), ("Lint", "succeeded"), ("Image", "skipped")
    ]  # fmt: skip
    jobs[0] = job("Test", "true")
    passed = run_pipeline(tmp_path / "b", [{"stage": "Build", "jobs": jobs}])
    assert passed.job("Image").status == "succeeded"


def test_every_job_starts_on_a_fresh_agent(tmp_path):
    write = {"script": "touch built.txt $HOME/state.txt", "displayName": "write"}
    look = {"script": "test ! -e built.txt && test ! -e $HOME/state.txt", "displayName": "look"}
    result = run_pipeline(tmp_path, [stage("One", write), stage("Two", look)])
    assert result.succeeded, result.log


def cache_step(key: str, restore_keys: str = "") -> dict:
    inputs = {"key": key, "path": "$(Pipeline.Workspace)/cached"}
    if restore_keys:
        inputs["restoreKeys"] = restore_keys
    return {"task": "Cache@2", "displayName": "cache", "inputs": inputs}


FILL = {"script": "mkdir -p ../cached && date +%s%N > ../cached/stamp", "displayName": "fill"}


def test_cache_key_hashes_the_files_it_names_and_a_missing_file_fails_the_step(tmp_path):
    result = run_pipeline(tmp_path, [stage("Build", cache_step('"deps" | missing.lock'))])
    step = result.job("Build").step("cache")
    assert step.status == "failed" and "missing.lock" in step.output


def test_cache_is_saved_after_a_successful_job_only_and_never_overwritten(tmp_path):
    store = CacheStore(tmp_path / "pipeline-cache")
    files = {"deps.lock": "a==1\n"}
    key = cache_step('"deps" | deps.lock', '"deps"')
    failed = run_pipeline(
        tmp_path, [stage("B", key, FILL, {"script": "false"})], files, cache=store
    )
    assert [event for _, event in failed.cache_events] == ["miss", "not saved: job failed"]
    first = run_pipeline(tmp_path, [stage("B", key, FILL)], files, cache=store)
    assert [event for _, event in first.cache_events] == ["miss", "saved"]
    again = run_pipeline(tmp_path, [stage("B", key, FILL)], files, cache=store)
    assert [event for _, event in again.cache_events] == ["restored: exact", "not saved: exact hit"]
    changed = run_pipeline(tmp_path, [stage("B", key, FILL)], {"deps.lock": "a==2\n"}, cache=store)
    events = [event for _, event in changed.cache_events]
    assert events == ["restored: prefix deps", "saved"]


# -- checkout, deployment jobs and pools ---------------------------------------------------


def deployment_stage(name: str, *steps: dict) -> dict:
    deployment = {
        "deployment": name,
        "environment": "widgets-release",
        "pool": {"vmImage": "ubuntu-latest"},
        "strategy": {"runOnce": {"deploy": {"steps": list(steps)}}},
    }
    return {"stage": name, "jobs": [deployment]}


def repository_runner(tmp_path, stages: list) -> PipelineRunner:
    """A runner for a git repository with two commits on main, the second tagged v1."""
    trigger = {"trigger": {"branches": {"include": ["main"]}, "tags": {"include": ["v*"]}}}
    runner = pipeline_runner(tmp_path, stages, trigger, files={"README.md": "first\n"})
    commit_as_new_repository(runner.project, "First")
    (runner.project / "README.md").write_text("second\n")
    git(runner.project, "commit", "-q", "-am", "Second")
    git(runner.project, "tag", "v1")
    return runner


def test_a_job_fetches_one_commit_unless_fetch_depth_is_zero(tmp_path):
    shallow = {"script": "test $(git rev-list --count HEAD) = 1", "displayName": "shallow"}
    no_main = {"script": "! git rev-parse --verify -q origin/main", "displayName": "no main"}
    full = {"script": "test $(git rev-list --count origin/main) = 2", "displayName": "full"}
    runner = repository_runner(
        tmp_path,
        [
            stage("Default", shallow, no_main),
            stage("Deep", {"checkout": "self", "fetchDepth": 0}, full),
        ],
    )
    result = runner.run()
    assert result.succeeded, result.log


def test_a_tag_build_checks_out_the_tagged_commit(tmp_path):
    runner = repository_runner(tmp_path, [stage("Build", {"script": "grep -q second README.md"})])
    git(runner.project, "commit", "-q", "--allow-empty", "-m", "After the tag")
    git(runner.project, "checkout", "-q", "HEAD~2")  # the working tree is not what runs
    result = runner.run("refs/tags/v1")
    assert result.succeeded, result.log


def test_a_deployment_job_checks_out_nothing_unless_a_step_says_so(tmp_path):
    runner = repository_runner(
        tmp_path,
        [
            deployment_stage("Bare", {"script": "test ! -e README.md", "displayName": "bare"}),
            deployment_stage("Checked", {"checkout": "self"}, {"script": "test -e README.md"}),
        ],
    )
    result = runner.run()
    assert result.succeeded, result.log
    assert [job.job for job in result.jobs] == ["Bare", "Checked"]


def test_a_deployment_job_downloads_the_runs_artifacts_unless_told_not_to(tmp_path):
    build = stage(
        "Build",
        {"script": "mkdir out && echo built > out/file"},
        {"task": "PublishPipelineArtifact@1", "inputs": {"targetPath": "out", "artifact": "out"}},
    )
    downloaded = {"script": "test -e ../out/file", "displayName": "downloaded"}
    not_downloaded = {"script": "test ! -e ../out", "displayName": "not downloaded"}
    result = repository_runner(
        tmp_path,
        [
            build,
            deployment_stage("Auto", downloaded),
            deployment_stage("None", {"download": "none"}, not_downloaded),
        ],
    ).run()
    assert result.succeeded, result.log


def python_job(pool: dict, version: str) -> dict:
    use = {"task": "UsePythonVersion@0", "inputs": {"versionSpec": version}}
    return {"stage": "Test", "jobs": [{"job": "Test", "pool": pool, "steps": [use]}]}


def test_a_self_hosted_pool_runs_here_and_fails_without_the_python_it_asks_for(tmp_path):
    result = run_pipeline(tmp_path / "a", [python_job({"name": "Default"}, "2.1")])
    assert result.job("Test").status == "failed"
    # On Services the task would fetch it from GitHub, which this stand-in never does...
    assert "github.com/actions/python-versions" in result.job("Test").steps[0].output
    # ...unless told to use the tool cache only.
    only_cache = python_job({"name": "Default"}, "2.1")
    only_cache["jobs"][0]["steps"][0]["inputs"]["disableDownloadFromRegistry"] = True
    result = run_pipeline(tmp_path / "b", [only_cache])
    assert "did not match" in result.job("Test").steps[0].output


def test_a_hosted_leg_whose_python_this_machine_lacks_is_not_run(tmp_path):
    result = run_pipeline(tmp_path, [python_job({"vmImage": "ubuntu-latest"}, "2.1")])
    assert result.job("Test").status == "not run"
    assert "Python 2.1" in result.job("Test").note


# -- what a run reports ----------------------------------------------------------------------


def windows_stage(name: str, *steps: dict) -> dict:
    job = {"job": name, "pool": {"vmImage": "windows-latest"}, "steps": list(steps)}
    return {"stage": name, "jobs": [job]}


def test_a_run_with_a_leg_not_run_here_is_incomplete_never_succeeded(tmp_path):
    """A Windows leg that would fail on Azure is not run here: the run cannot pass."""
    result = run_pipeline(
        tmp_path,
        [windows_stage("Test", {"script": "exit 1"}), stage("Publish", {"script": "true"})],
    )
    assert result.status == "incomplete"
    assert not result.succeeded
    assert result.not_run == ["Test/Test/Test"]
    assert "not run here: ['Test/Test/Test']" in result.log


def test_a_failure_beats_a_leg_not_run(tmp_path):
    result = run_pipeline(
        tmp_path,
        [windows_stage("Windows", {"script": "true"}), stage("Linux", {"script": "false"})],
    )
    assert result.status == "failed"


# -- triggers -------------------------------------------------------------------------------

PUSH_CASES = [
    # (trigger, ref, changed files, starts a run)
    (None, "refs/heads/feature/x", ["a.py"], True),  # no trigger key: every branch
    (None, "refs/tags/v1.0.0", ["a.py"], False),  # ...and no tag
    ("none", "refs/heads/main", ["a.py"], False),
    (["main", "releases/*"], "refs/heads/releases/2.0", ["a.py"], True),
    (["main"], "refs/heads/mainline", ["a.py"], False),
    ({"branches": {"include": ["releases/*"], "exclude": ["releases/old*"]}},
     "refs/heads/releases/old-1", ["a.py"], False),
    ({"branches": {"exclude": ["experimental/*"]}}, "refs/heads/feature", ["a.py"], True),
    ({"branches": {"exclude": ["experimental/*"]}}, "refs/heads/experimental/x", ["a"], False),
    ({"tags": {"include": ["v*"], "exclude": ["v*-rc*"]}}, "refs/tags/v2.0-rc1", [], False),
    ({"tags": {"include": ["v*"]}}, "refs/tags/v2.0", [], True),
    ({"branches": {"include": ["refs/tags/v*"]}}, "refs/tags/v2.0", [], True),
    ({"branches": {"include": ["main"]}, "paths": {"include": ["src"]}},
     "refs/heads/main", ["docs/index.md"], False),
    ({"branches": {"include": ["main"]}, "paths": {"include": ["src"]}},
     "refs/heads/main", ["docs/index.md", "src/pkg/a.py"], True),
    ({"branches": {"include": ["main"]}, "paths": {"exclude": ["docs/*"]}},
     "refs/heads/main", ["docs/index.md"], False),
    ({"branches": {"include": ["main"]}, "paths": {"exclude": ["docs"]}},
     "refs/heads/main", ["README.md"], True),
    ({"branches": {"include": ["main"]},
      "paths": {"exclude": ["tools"], "include": ["tools/trigger-runs-on-these"]}},
     "refs/heads/main", ["tools/trigger-runs-on-these/a.sh"], True),
    ({"branches": {"include": ["main"]}, "paths": {"include": ["docs/*.md"]}},
     "refs/heads/main", ["docs/a.txt"], False),
]  # fmt: skip


@pytest.mark.parametrize(("trigger", "ref", "changed", "starts"), PUSH_CASES)
def test_pushes_trigger_as_azure_repos_documents(trigger, ref, changed, starts):
    assert push_triggers(trigger, ref, changed) is starts


@pytest.mark.parametrize(
    "trigger",
    [
        {"paths": {"include": ["src"]}},  # paths need branches
        {"branches": ["main"], "tags": ["v*"], "paths": {"include": ["src"]}},  # ambiguous
        {"branches": ["main"], "pr": True},
        "sometimes",
    ],
)
def test_triggers_the_runner_cannot_judge_are_refused(trigger):
    with pytest.raises(UnsupportedConstruct):
        push_triggers(trigger, "refs/heads/main", ["a.py"])


def test_the_runner_triggers_on_the_files_the_push_changed(tmp_path):
    docs_only = {"branches": {"include": ["main"]}, "paths": {"exclude": ["docs"]}}
    runner = pipeline_runner(tmp_path, [stage("Build", {"script": "true"})], {"trigger": docs_only})
    commit_as_new_repository(runner.project, "First")
    assert runner.triggered("refs/heads/main", "IndividualCI")
    (runner.project / "docs").mkdir()
    (runner.project / "docs/index.md").write_text("docs\n")
    git(runner.project, "add", "-A")
    git(runner.project, "commit", "-q", "-m", "Docs only")
    assert not runner.triggered("refs/heads/main", "IndividualCI")
    assert runner.run().triggered is False


# -- timeouts -------------------------------------------------------------------------------


def test_a_job_past_its_timeout_is_canceled_and_saves_no_cache(tmp_path):
    """One pipeline minute is 0.5 s here: the job's limit is 2 minutes, its step needs 6."""
    files = {"deps.lock": "a==1\n"}
    slow = {"script": "sleep 3", "displayName": "slow"}
    job = {
        "job": "Build",
        "timeoutInMinutes": 2,
        "pool": {"vmImage": "ubuntu-latest"},
        "steps": [cache_step('"deps" | deps.lock'), FILL, slow, {"script": "true"}],
    }
    runner = pipeline_runner(tmp_path, [{"stage": "Build", "jobs": [job]}], files=files, minute=0.5)
    result = runner.run()
    build = result.job("Build")
    assert build.status == "canceled" and result.status == "failed"
    assert "ran longer than the maximum time of 2 minutes" in build.step("slow").output
    assert len(build.steps) == 3  # nothing after the step the timeout stopped
    assert [event for _, event in result.cache_events] == ["miss", "not saved: job failed"]
    assert sum(step.seconds for step in build.steps) < 4


def test_a_step_past_its_own_timeout_fails_and_the_job_goes_on(tmp_path):
    slow = {"script": "sleep 3", "displayName": "slow", "timeoutInMinutes": 1}
    after = {"script": "true", "displayName": "after", "condition": "always()"}
    runner = pipeline_runner(tmp_path, [stage("Build", slow, after)], minute=0.5)
    build = runner.run().job("Build")
    assert build.step("slow").status == "failed"
    assert "The task has timed out" in build.step("slow").output
    assert build.step("after").status == "succeeded"
    assert build.status == "failed"


def test_the_tool_cache_serves_the_newest_complete_matching_version(tool_cache):
    assert tool_cache.find("3.12").name == "x64"
    assert tool_cache.find("3.12").parent.name.startswith("3.12.")
    assert tool_cache.find("3.x").parent.name.startswith("3.13.")
    assert tool_cache.find("3.9") is None  # on the machine, but not in the agent's cache


def test_the_tool_cache_holds_each_python_as_installed_without_what_was_added_later(tool_cache):
    """Whatever this machine's owner pip-installed into a Python (uv, here and in CI), an
    agent's tool cache has only what a fresh installation has: pip, and setuptools."""
    for version in tool_cache.versions():
        installation = tool_cache.root / version / "x64"
        (site_packages,) = installation.glob("lib/python3.*/site-packages")
        assert not (installation / "bin" / "uv").exists()
        assert not list(site_packages.glob("uv*"))
        assert list(site_packages.glob("pip-*.dist-info"))


def test_the_tool_cache_shares_no_file_with_this_machines_pythons(tool_cache):
    """A job that rewrites a file of its Python in place must not change this machine's."""
    for version, prefix in tool_cache.installations.items():
        ours = tool_cache.root / version / "x64" / "bin"
        theirs = Path(prefix) / "bin"
        for binary in ours.iterdir():
            if binary.is_file() and not binary.is_symlink():
                assert binary.stat().st_ino != (theirs / binary.name).stat().st_ino


def test_a_tool_cache_version_without_its_complete_marker_is_not_served(tmp_path):
    cache = ToolCache()
    cache.root = tmp_path / "Python"
    for version in ("3.12.1", "3.12.9"):
        (cache.root / version / "x64").mkdir(parents=True)
    (cache.root / "3.12.1" / "x64.complete").touch()  # 3.12.9 is still being installed
    assert cache.find("3.12") == cache.root / "3.12.1" / "x64"


def test_a_cache_entry_is_immutable_and_restore_keys_take_the_newest_match(tmp_path):
    store = CacheStore(tmp_path / "pipeline-cache")
    for key, content in [("deps|b", "older"), ("deps|a", "newer"), ("deps|b", "again")]:
        folder = tmp_path / content
        folder.mkdir()
        (folder / "stamp").write_text(content)
        store.save(key, folder)
        time.sleep(0.01)
    assert (store.get("deps|b") / "stamp").read_text() == "older"  # never overwritten
    key, data = store.newest_with_prefix("deps")
    assert key == "deps|a" and (data / "stamp").read_text() == "newer"


# -- what each host offers --------------------------------------------------------------------

SERVER_ANSWERS = "azure_host: https://devops.contoso.com/tfs\n"


@pytest.mark.parametrize(
    ("step", "page"),
    [
        (cache_step('"deps"'), "release/caching"),
        (
            {"task": "PublishPipelineArtifact@1", "inputs": {"targetPath": "d", "artifact": "d"}},
            "publish-pipeline-artifact-v1",
        ),
        ({"task": "DownloadPipelineArtifact@2", "inputs": {"artifactName": "d"}}, "download-pipe"),
        ({"publish": "dist", "artifact": "dist"}, "steps-publish"),
        ({"download": "current", "artifact": "dist"}, "steps-download"),
    ],
)
def test_a_server_refuses_what_only_services_has_before_any_job_runs(tmp_path, step, page):
    self_hosted = {"stage": "B", "jobs": [{"job": "B", "pool": {"name": "Default"}, "steps": []}]}
    self_hosted["jobs"][0]["steps"] = [{"script": "touch ran"}, step]
    files = {".copier-answers.yml": SERVER_ANSWERS}
    runner = pipeline_runner(tmp_path, [self_hosted], files=files)
    with pytest.raises(NotOnThisHost, match=page):
        runner.run()
    assert not list(runner.work.rglob("ran"))


# (task step, a release that has it, one that lacks it) per Microsoft's task reference
# (azure_standins/task_reference/tasks.json): 2022 is Server 2022.0, "server" the release after.
EACH_RELEASE = [
    ({"task": "DownloadBuildArtifacts@1", "inputs": {"artifactName": "d"}}, "2022.1", "2022"),
    (
        {"task": "PublishTestResults@2", "inputs": {"failTaskOnMissingResultsFile": "true"}},
        "2022.2",
        "2022.1",
    ),
    (
        {"task": "UsePythonVersion@0", "inputs": {"disableDownloadFromRegistry": "true"}},
        "2022.1",
        "2022",
    ),
    ({"task": "PublishCodeCoverageResults@2", "inputs": {}}, "2022.1", "2022"),
    ({"task": "UsePythonVersion@0", "inputs": {"architecture": "arm64"}}, None, "server"),
]


@pytest.mark.parametrize(("step", "has", "lacks"), EACH_RELEASE)
def test_each_release_has_only_the_tasks_and_inputs_microsofts_reference_lists(
    tmp_path, step, has, lacks
):
    def moniker(release):
        return "azure-pipelines" + (f"-{release}" if release else "")

    job = {"job": "B", "pool": {"name": "Default"}, "steps": [step]}
    pipeline = [{"stage": "B", "jobs": [job]}]
    files = {".copier-answers.yml": SERVER_ANSWERS}
    older = pipeline_runner(tmp_path / "old", pipeline, files=files, release=moniker(lacks))
    with pytest.raises(NotOnThisHost, match=re.escape(RELEASES[moniker(lacks)])):
        older.run()
    newer = pipeline_runner(tmp_path / "new", pipeline, files=files, release=moniker(has))
    newer.compiled({"Build.SourceBranch": "refs/heads/main"})  # refuses nothing


@pytest.mark.parametrize(
    ("answers", "host"),
    [
        ("azure_host: https://pkgs.dev.azure.com\n", "Azure DevOps Services"),
        (SERVER_ANSWERS, "Azure DevOps Server"),
        (None, "Azure DevOps Services"),
    ],
)
def test_the_runner_stands_in_for_the_host_the_answers_name(tmp_path, answers, host):
    files = {".copier-answers.yml": answers} if answers else {}
    self_hosted = {"stage": "B", "jobs": [{"job": "B", "pool": {"name": "P"}, "steps": []}]}
    runner = pipeline_runner(tmp_path, [self_hosted], files=files)
    assert runner.host == host
    assert RELEASES[runner.release] == {SERVER: RELEASES[SERVER_FLOOR]}.get(host, host)


def test_a_server_has_no_microsoft_hosted_agents(tmp_path):
    files = {".copier-answers.yml": SERVER_ANSWERS}
    runner = pipeline_runner(tmp_path, [stage("Build", {"script": "true"})], files=files)
    with pytest.raises(NotOnThisHost, match="agents/hosted"):
        runner.run()


def test_build_artifacts_are_shared_by_the_jobs_of_a_server_run(tmp_path):
    build = {
        "stage": "Build",
        "jobs": [
            {
                "job": "Build",
                "pool": {"name": "Default"},
                "steps": [
                    {"script": "mkdir dist && echo built > dist/pkg.whl"},
                    {
                        "task": "PublishBuildArtifacts@1",
                        "inputs": {"PathtoPublish": "dist", "ArtifactName": "dist"},
                    },
                ],
            }
        ],
    }
    fetch = {
        "task": "DownloadBuildArtifacts@1",
        "inputs": {"artifactName": "dist", "downloadPath": "$(Build.SourcesDirectory)"},
    }
    release = deployment_stage(
        "Release", {"download": "none"}, fetch, {"script": "test -e dist/pkg.whl"}
    )
    release["jobs"][0]["pool"] = {"name": "Default"}
    runner = pipeline_runner(
        tmp_path, [build, release], files={".copier-answers.yml": SERVER_ANSWERS}
    )
    result = runner.run()
    assert result.succeeded, result.log


def test_a_self_hosted_agent_keeps_its_work_folder_between_runs(tmp_path):
    """Each run's workspace is new, but a self-hosted agent's work folder stays; a
    Microsoft-hosted agent is a new machine for every job."""
    remember = {"script": 'touch "$(Agent.WorkFolder)/seen"'}
    seen = {"script": 'test -e "$(Agent.WorkFolder)/seen"', "displayName": "seen"}
    own = {
        "stage": "Own",
        "jobs": [{"job": "Own", "pool": {"name": "Default"}, "steps": [remember]}],
    }
    runner = pipeline_runner(tmp_path, [own])
    assert runner.run().succeeded
    own["jobs"][0]["steps"] = [seen]
    hosted = stage("Hosted", seen)
    runner = pipeline_runner(tmp_path, [own, hosted], cache=runner.cache)
    runner.work = tmp_path / "agent"  # the same agent machine as the first run
    result = runner.run()
    assert result.job("Own").status == "succeeded", result.log
    assert result.job("Hosted").status == "failed"


# -- protected resources ----------------------------------------------------------------------

RELEASE = ServiceConnection(token="release-token", allowed_branches=("refs/tags/v*",))
SIGN_IN_AS_RELEASE = {
    "task": "TwineAuthenticate@1",
    "displayName": "sign in",
    "inputs": {
        "azureDevOpsServiceConnection": "release",
        "feedUrl": "https://pkgs.dev.azure.com/contoso/_packaging/widgets/pypi/upload/",
    },
}
READ_PYPIRC = {"script": 'cat "$PYPIRC_PATH"', "displayName": "read"}


@pytest.mark.parametrize(
    ("ref", "connection", "allowed"),
    [
        ("refs/tags/v1", RELEASE, True),
        ("refs/heads/main", RELEASE, False),  # Branch control: tags only
        ("refs/tags/v1", dataclasses.replace(RELEASE, approved=False), False),  # rejected
    ],
)
def test_a_job_reaches_a_service_connection_only_past_its_checks(
    tmp_path, ref, connection, allowed
):
    trigger = {"trigger": {"branches": {"include": ["main"]}, "tags": {"include": ["v*"]}}}
    runner = pipeline_runner(
        tmp_path, [stage("Release", SIGN_IN_AS_RELEASE, READ_PYPIRC)], trigger,
        service_connections={"release": connection},
    )  # fmt: skip
    commit_as_new_repository(runner.project, "First")
    git(runner.project, "tag", "v1")
    result = runner.run(ref)
    job = result.job("Release")
    if allowed:
        assert job.status == "succeeded", result.log
        # The credential is in the .pypirc TwineAuthenticate writes, masked in the log...
        assert "[widgets]" in job.step("read").output and "password=***" in job.step("read").output
        assert "release-token" not in result.log
        # ...and the file is gone after the job.
        assert not list((tmp_path / "agent").rglob(".pypirc"))
    else:
        assert job.status == "failed" and job.steps == []
        assert "release" in job.note


@pytest.mark.parametrize(
    "connections", [{}, {"release": dataclasses.replace(RELEASE, authorized=False)}]
)
def test_a_run_naming_a_missing_or_unauthorized_connection_fails_before_any_job(
    tmp_path, connections
):
    """Azure resolves the compiled pipeline's resources first: a runtime condition that
    would skip the stage does not save the run."""
    build = stage("Build", {"script": "touch built"})
    release = stage("Release", SIGN_IN_AS_RELEASE, condition="eq(1, 2)")
    runner = pipeline_runner(tmp_path, [build, release], service_connections=connections)
    result = runner.run()
    assert result.status == "failed" and result.jobs == []
    assert not list(runner.work.rglob("built"))
    assert (
        "Step input azureDevOpsServiceConnection references service connection release which "
        "could not be found. The service connection does not exist, has been disabled or has "
        "not been authorized for use."
    ) in result.log


def test_a_run_on_a_pool_that_does_not_exist_fails_before_any_job(tmp_path):
    job = {"job": "B", "pool": {"name": "Linux Agents"}, "steps": [{"script": "true"}]}
    runner = pipeline_runner(
        tmp_path, [{"stage": "B", "jobs": [job]}], pools=frozenset({"Default"})
    )
    result = runner.run()
    assert result.status == "failed" and result.jobs == []
    assert "Could not find a pool with name Linux Agents." in result.log


TAGS_ONLY = "${{ if startsWith(variables['Build.SourceBranch'], 'refs/tags/v') }}"


def test_a_false_compile_time_if_drops_its_stage_and_the_resources_it_names(tmp_path):
    """A stage inside `${{ if }}` is not in a branch build's compiled pipeline, so the
    connection it names need not exist yet; a tag build compiles it in and is refused."""
    trigger = {"trigger": {"branches": {"include": ["main"]}, "tags": {"include": ["v*"]}}}
    stages = [
        stage("Build", {"script": "true"}),
        {TAGS_ONLY: [stage("Release", SIGN_IN_AS_RELEASE)]},
    ]
    runner = pipeline_runner(tmp_path, stages, trigger)
    commit_as_new_repository(runner.project, "First")
    git(runner.project, "tag", "v1")
    main = runner.run("refs/heads/main")
    assert main.succeeded and [job.job for job in main.jobs] == ["Build"], main.log
    tag = runner.run("refs/tags/v1")
    assert tag.status == "failed" and tag.jobs == []
    assert "service connection release which could not be found" in tag.log


def test_a_compile_time_if_sees_no_job_status(tmp_path):
    stages = [{"${{ if succeeded() }}": [stage("Build", {"script": "true"})]}]
    with pytest.raises(InvalidExpression, match="template expressions"):
        pipeline_runner(tmp_path, stages).run()


def test_a_pull_request_builds_its_merge_into_the_target_under_refs_pull(tmp_path):
    show = {"script": 'echo "$BUILD_SOURCEBRANCH"; cat main.txt feature.txt', "displayName": "show"}
    runner = pipeline_runner(tmp_path, [stage("Build", show)], build_validation=frozenset({"main"}))
    commit_as_new_repository(runner.project, "First")
    git(runner.project, "switch", "-q", "-c", "feature")
    (runner.project / "feature.txt").write_text("from the feature branch\n")
    git(runner.project, "add", ".")
    git(runner.project, "commit", "-q", "-m", "Feature")
    git(runner.project, "switch", "-q", "main")
    (runner.project / "main.txt").write_text("from main\n")
    git(runner.project, "add", ".")
    git(runner.project, "commit", "-q", "-m", "Main moved on")
    result = runner.run("refs/heads/feature", "PullRequest", "main")
    output = result.job("Build").step("show").output
    assert result.succeeded, result.log
    assert "refs/pull/1/merge" in output
    assert "from main" in output and "from the feature branch" in output


@pytest.mark.parametrize(("approved", "branches", "runs"), [
    (True, ("refs/tags/v*",), True),
    (False, ("refs/tags/v*",), False),
    (True, ("refs/heads/main",), False),
])  # fmt: skip
def test_a_deployment_job_runs_only_past_its_environments_checks(
    tmp_path, approved, branches, runs
):
    trigger = {"trigger": {"tags": {"include": ["v*"]}}}
    runner = pipeline_runner(
        tmp_path,
        [deployment_stage("Release", {"script": "touch deployed"})],
        trigger,
        environments={"widgets-release": Checks(allowed_branches=branches, approved=approved)},
    )
    commit_as_new_repository(runner.project, "First")
    git(runner.project, "tag", "v1")
    result = runner.run("refs/tags/v1")
    job = result.job("Release")
    assert (job.status == "succeeded") is runs, result.log
    if not runs:
        assert job.steps == [] and "environment 'widgets-release'" in job.note


def test_verify_branch_protection_admits_only_a_branch_with_policies(tmp_path):
    main_only = Checks(allowed_branches=("refs/heads/*",), verify_branch_protection=True)
    for branch, protected, runs in [("main", {"main"}, True), ("feature", {"main"}, False)]:
        runner = pipeline_runner(
            tmp_path / branch,
            [deployment_stage("Release", {"script": "true"})],
            {"trigger": {"branches": {"include": ["*"]}}},
            environments={"widgets-release": main_only},
            build_validation=frozenset(protected),
        )
        commit_as_new_repository(runner.project, "First")
        if branch != "main":
            git(runner.project, "branch", branch)
        job = runner.run(f"refs/heads/{branch}").job("Release")
        assert (job.status == "succeeded") is runs, job.note
        if not runs:
            assert "not protected by branch policies" in job.note


def test_logging_commands_set_variables_for_later_steps_and_name_the_run(tmp_path):
    result = run_pipeline(
        tmp_path,
        [
            stage(
                "Build",
                {"script": "echo '##vso[task.setvariable variable=RELEASE]no'"},
                {"script": "echo '##vso[build.updatebuildnumber]widgets 1.2.3'"},
                {"script": 'echo "$RELEASE $(RELEASE)"', "displayName": "later"},
                {
                    "script": "true",
                    "displayName": "skipped",
                    "condition": "eq(variables.RELEASE, 'yes')",
                },
            )
        ],
    )
    job = result.job("Build")
    assert job.step("later").output.strip() == "no no"
    assert job.step("skipped").status == "skipped"
    assert result.name == "widgets 1.2.3"


def test_prepend_path_puts_a_folder_first_on_path_for_the_later_steps(tmp_path):
    """What install_uv.py relies on: the next steps find its uv first on PATH."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "widget").write_text("#!/bin/sh\necho from tools\n")
    (tools / "widget").chmod(0o755)
    result = run_pipeline(
        tmp_path,
        [
            stage(
                "Build",
                {"script": f"echo '##vso[task.prependpath]{tools}'"},
                {"script": "widget", "displayName": "later"},
            )
        ],
    )
    assert result.job("Build").step("later").output.strip() == "from tools"


STEPS_WITH_A_PARAMETER = """parameters:
  - name: python
    type: string
  - name: greeting
    type: string
    default: hello
steps:
  - script: echo ${{ parameters.greeting }} ${{ parameters.python }}
    displayName: Say ${{ parameters.python }}
"""


def test_a_steps_template_gets_its_parameters_or_their_defaults(tmp_path):
    result = run_pipeline(
        tmp_path,
        [
            stage(
                "Build",
                {"template": "say.yml", "parameters": {"python": "3.12"}},
                {"template": "say.yml", "parameters": {"python": "3.13", "greeting": "hi"}},
            )
        ],
        files={"say.yml": STEPS_WITH_A_PARAMETER},
    )
    job = result.job("Build")
    assert job.step("Say 3.12").output.strip() == "hello 3.12"
    assert job.step("Say 3.13").output.strip() == "hi 3.13"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({}, "A value for the 'python' parameter must be provided."),
        ({"python": "3.12", "pyhton": "3.13"}, "Unexpected parameter 'pyhton'"),
    ],
)
def test_a_steps_template_refuses_a_missing_or_unknown_parameter(tmp_path, parameters, message):
    runner = pipeline_runner(
        tmp_path,
        [stage("Build", {"template": "say.yml", "parameters": parameters})],
        files={"say.yml": STEPS_WITH_A_PARAMETER},
    )
    with pytest.raises(InvalidExpression, match=message):
        runner.run()


def test_a_run_takes_its_yaml_and_templates_from_the_commit_it_builds(tmp_path):
    files = {"steps.yml": "steps:\n  - script: echo main\n    displayName: say\n"}
    runner = pipeline_runner(
        tmp_path,
        [stage("Build", {"template": "steps.yml"})],
        {"trigger": {"branches": {"include": ["*"]}}},
        files,
    )
    commit_as_new_repository(runner.project, "First")
    git(runner.project, "switch", "-q", "-c", "feature")
    (runner.project / "steps.yml").write_text(files["steps.yml"].replace("main", "feature"))
    git(runner.project, "commit", "-q", "-am", "Its own steps")
    git(runner.project, "switch", "-q", "main")
    said = runner.run("refs/heads/feature").job("Build").step("say").output
    assert said.strip() == "feature"
    assert runner.run("refs/heads/main").job("Build").step("say").output.strip() == "main"
