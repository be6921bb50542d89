"""The generated azure-pipelines.yml, run step by step by tests/pipeline_runner.py against the
feed emulator: what would happen on Azure, without Azure."""

from pathlib import Path

import pytest
import yaml

from tests.conftest import copy_project
from tests.git_repo import commit_as_new_repository, git
from tests.pipeline_expressions import UnsupportedConstruct, evaluate, expand_macros
from tests.pipeline_runner import CacheStore, PipelineRunner, ToolCache, xml_result_file
from tests.uv_environment import run_uv, with_feed_token
from tests.wheelhouse import tools_wheelhouse

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
TEST_STEPS = [
    "Use Python {python}",
    "Install uv $(UV_VERSION)",
    "Restore the uv cache",
    "Install dependencies",
    "Lint",
    "Check formatting",
    "Test",
    "Publish test results",
    "Publish coverage",
    "Build sdist and wheel",
]


@pytest.fixture(scope="session")
def tool_cache(tmp_path_factory) -> ToolCache:
    return ToolCache(tmp_path_factory.mktemp("toolcache"))


@pytest.fixture
def repository(render, emulator, interpreter, uv_env, tmp_path):
    """A team's repository: the rendered project with its uv.lock, committed on main."""

    def _repository(name: str = "repo", **answers) -> Path:
        shared = render(azure_host=emulator.url, python_version=interpreter[1], **answers)
        project = copy_project(shared, tmp_path / name)
        feed = emulator.feed(answers.get("azure_feed", "widgets"))
        env = with_feed_token(uv_env, feed.token)
        locked = run_uv(project, "lock", env=env)
        assert locked.returncode == 0, locked.stderr
        return commit_as_new_repository(project, "Start")

    return _repository


@pytest.fixture
def agent(feed_server, tool_cache, uv_env, interpreter, tmp_path):
    """Builds runners that share one cache service, as runs of one pipeline do on Azure."""
    cache = CacheStore(tmp_path / "pipeline-cache")
    agent_env = {k: v for k, v in uv_env.items() if not k.startswith("UV_")}

    def _runner(project: Path, feed_name: str = "widgets") -> PipelineRunner:
        feed = feed_server.feed(feed_name)
        return PipelineRunner(
            project,
            tmp_path / "agent",
            cache=cache,
            tools=tool_cache,
            access_token=feed.token,
            env=agent_env,
            pip_wheelhouse=tools_wheelhouse(interpreter[1]),
        )

    return _runner


def step_names(job) -> list[str]:
    return [step.name for step in job.steps]


@pytest.mark.e2e
def test_consume_only_branch_build_passes_every_step_and_uploads_nothing(
    repository, agent, feed_server, interpreter
):
    project = repository(publish=False, **PROJECT_FEED)
    result = agent(project).run("refs/heads/main")
    assert result.succeeded, result.log
    linux = result.job("Test", "Linux")
    assert step_names(linux) == [
        *(name.format(python=interpreter[1]) for name in TEST_STEPS),
        "Forget unlocked versions in the uv cache",
        "Prune the uv cache",
    ]
    assert {step.status for step in linux.steps} == {"succeeded"}
    assert result.job("Test", "Windows").status == "not run"
    assert [job.job for job in result.jobs] == ["Test", "Test"]
    assert feed_server.counts()["upload"] == 0


@pytest.mark.e2e
def test_tag_build_publishes_and_a_rerun_uploads_nothing_more(
    repository, agent, feed_server, render, interpreter, uv_env, tmp_path
):
    project = repository(**PROJECT_FEED)
    runner = agent(project)
    result = runner.run("refs/tags/v0.1.0")
    assert result.succeeded, result.log
    assert result.job("Publish").status == "succeeded"
    feed = feed_server.feed("widgets")
    assert set(feed.packages["contoso-widgets"]) == {
        "contoso_widgets-0.1.0-py3-none-any.whl",
        "contoso_widgets-0.1.0.tar.gz",
    }
    assert feed.token not in result.log

    consumer = copy_project(
        render(
            azure_host=feed_server.url,
            python_version=interpreter[1],
            publish=False,
            project_name="Contoso Gadgets",
            **PROJECT_FEED,
        ),
        tmp_path / "consumer",
    )
    env = with_feed_token(uv_env, feed.token)
    added = run_uv(consumer, "add", "contoso-widgets==0.1.0", env=env)
    assert added.returncode == 0, added.stderr

    feed_server.reset()
    again = runner.run("refs/tags/v0.1.0")
    assert again.succeeded, again.log
    assert feed_server.counts()["upload"] == 0


@pytest.mark.e2e
def test_tag_that_does_not_match_the_version_fails_before_any_upload(
    repository, agent, feed_server
):
    project = repository(**PROJECT_FEED)
    result = agent(project).run("refs/tags/v0.2.0")
    assert not result.succeeded
    publish = result.job("Publish")
    assert publish.step("Check the tag names the package version").status == "failed"
    assert "does not match" in publish.step("Check the tag names the package version").output
    assert publish.step("Upload to widgets").status == "skipped"
    assert feed_server.counts()["upload"] == 0


@pytest.mark.e2e
def test_branch_build_of_a_publish_project_skips_publishing(repository, agent, feed_server):
    project = repository(**PROJECT_FEED)
    result = agent(project).run("refs/heads/main")
    assert result.succeeded, result.log
    assert result.job("Test", "Linux").step("Keep the build for publishing").status == "succeeded"
    assert result.job("Publish").status == "skipped"
    assert feed_server.counts()["upload"] == 0


@pytest.mark.e2e
def test_cache_hits_on_the_same_lock_and_falls_back_to_restore_keys(
    repository, agent, feed_server, uv_env
):
    project = repository(publish=False, **PROJECT_FEED)
    runner = agent(project)
    first = runner.run()
    assert first.succeeded, first.log
    assert [event for _, event in first.cache_events] == ["miss", "saved"]
    assert feed_server.counts()["download"] > 0

    feed_server.reset()
    second = runner.run()
    assert second.succeeded, second.log
    assert [event for _, event in second.cache_events] == [
        "restored: exact",
        "not saved: exact hit",
    ]
    counts = feed_server.counts()
    assert counts["download"] == 0 and counts["blob"] == 0

    feed = feed_server.feed("widgets")
    env = with_feed_token(uv_env, feed.token)
    # A dependency update: coverage moves from 7.17.5 to 7.16.2.
    assert "7.17.5" in (project / "uv.lock").read_text()
    assert run_uv(project, "add", "coverage==7.16.2", env=env).returncode == 0
    git(project, "commit", "-q", "-am", "Pin coverage")
    feed_server.reset()
    third = runner.run()
    assert third.succeeded, third.log
    events = [event for _, event in third.cache_events]
    assert events[0].startswith("restored: prefix") and events[1] == "saved"
    # Only what the lock change brought came from the feed...
    downloads = [r.path for r in feed_server.requests if r.kind == "download" and r.status == 303]
    assert downloads and all("/coverage/7.16.2/" in path for path in downloads)
    # ...and the saved cache holds the new version, not the old one beside it.
    saved = runner.cache.get(third.cache_events[1][0])
    cached_coverage = {p.name.split("-")[0] for p in saved.glob("wheels-v*/index/*/coverage/*")}
    assert cached_coverage == {"7.16.2"}


@pytest.mark.e2e
def test_a_step_without_the_token_mapping_cannot_authenticate(repository, agent):
    project = repository(publish=False, **PROJECT_FEED)
    pipeline_file = project / "azure-pipelines.yml"
    text = pipeline_file.read_text()
    mapping = (
        "            env:\n              UV_INDEX_AZURE_DEVOPS_PASSWORD: $(System.AccessToken)\n"
    )
    assert text.count(mapping) == 2
    pipeline_file.write_text(text.replace(mapping, "", 1))
    git(project, "commit", "-q", "-am", "Forget the token mapping")
    result = agent(project).run()
    assert not result.succeeded
    sync = result.job("Test", "Linux").step("Install dependencies")
    assert sync.status == "failed"
    assert "401" in sync.output
    # A failed job saves no cache.
    assert [event for _, event in result.cache_events] == ["miss", "not saved: job failed"]


# -- the runner itself: fast checks that it is strict where Azure is ---------------------


def test_tag_push_does_not_start_a_consume_only_pipeline(render, agent):
    project = render(publish=False)
    assert agent(project).run("refs/tags/v0.1.0").triggered is False
    assert agent(render(publish=True)).triggered("refs/tags/v0.1.0", "IndividualCI")
    assert not agent(project).triggered("refs/heads/feature", "IndividualCI")
    assert agent(project).triggered("refs/heads/main", "PullRequest")


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
    windows = result.job("Test", "Windows")
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


def test_unknown_condition_function_is_refused():
    with pytest.raises(UnsupportedConstruct):
        evaluate("dependencies.Test.result", {}, {})
    with pytest.raises(UnsupportedConstruct):
        evaluate("coalesce(variables.x, 'y')", {}, {})


def test_use_python_version_fails_for_a_python_this_machine_lacks(tool_cache, tmp_path):
    assert tool_cache.python("2.1", tmp_path / "tools") is None


@pytest.mark.parametrize(
    ("content", "accepted"),
    [(None, False), ("", False), ("not xml", False), ("<coverage/>", True), ("<html/>", False)],
)
def test_result_publishing_tasks_fail_on_missing_empty_or_foreign_files(
    tmp_path, content, accepted
):
    path = tmp_path / "coverage.xml"
    if content is not None:
        path.write_text(content)
    ok, _ = xml_result_file(path, "coverage")
    assert ok is accepted
