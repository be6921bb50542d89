"""The generated azure-pipelines.yml, run step by step by the pipeline runner
(azure_standins.pipeline) against the feed emulator: what would happen on Azure, without Azure."""

from pathlib import Path

import pytest

from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.template_facts import PYTHON_VERSIONS
from azure_standins.uv_environment import run_uv, with_feed_token
from tests.rendering import copy_project

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
TEST_STEPS = [
    "Use Python $(UV_PYTHON)",
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


@pytest.fixture
def repository(render, emulator, interpreter, uv_env, tmp_path):
    """A team's repository: the rendered project with its uv.lock, committed on main."""

    def _repository(name: str = "repo", **answers) -> Path:
        shared = render(python_version=interpreter.version, **answers)
        project = copy_project(shared, tmp_path / name)
        feed = emulator.feed(answers.get("azure_feed", "widgets"))
        env = with_feed_token(uv_env, feed.token)
        locked = run_uv(project, "lock", env=env)
        assert locked.returncode == 0, locked.stderr
        return commit_as_new_repository(project, "Start")

    return _repository


def step_names(job) -> list[str]:
    return [step.name for step in job.steps]


def linux_leg(result, interpreter):
    """The leg this machine runs: Linux with the Python the project was rendered for."""
    return result.job("Test", f"Linux_Python_{interpreter.version.replace('.', '_')}")


CHECK_RELEASE = "Check the tag is on main and names the package version"


def refused_before_any_upload(result, feed_server, reason: str) -> None:
    assert not result.succeeded
    publish = result.job("Publish")
    assert publish.step(CHECK_RELEASE).status == "failed"
    assert reason in publish.step(CHECK_RELEASE).output
    assert publish.step("Upload to widgets").status == "skipped"
    assert feed_server.counts()["upload"] == 0


@pytest.mark.e2e
def test_consume_only_branch_build_passes_every_step_and_uploads_nothing(
    repository, agent, feed_server, interpreter
):
    project = repository(publish=False, **PROJECT_FEED)
    result = agent(project).run("refs/heads/main")
    assert result.succeeded, result.log
    linux = linux_leg(result, interpreter)
    assert step_names(linux) == [
        *TEST_STEPS,
        "Trim the uv cache to uv.lock",
        "Prune the uv cache",
    ]
    assert {step.status for step in linux.steps} == {"succeeded"}
    # Windows, and Linux with the newer Pythons, need hosted images this machine is not.
    newer = PYTHON_VERSIONS[PYTHON_VERSIONS.index(interpreter.version) + 1 :]
    lowest = interpreter.version.replace(".", "_")
    assert {job.leg: job.status for job in result.jobs} == {
        linux.leg: "succeeded",
        **{f"Linux_Python_{version.replace('.', '_')}": "not run" for version in newer},
        f"Windows_Python_{lowest}": "not run",
    }
    assert feed_server.counts()["upload"] == 0


@pytest.mark.e2e
def test_tag_build_publishes_through_the_deployment_job_and_a_rerun_uploads_nothing(
    repository, agent, feed_server, render, interpreter, uv_env, tmp_path
):
    project = repository(**PROJECT_FEED)
    git(project, "tag", "v0.1.0")
    runner = agent(project)
    result = runner.run("refs/tags/v0.1.0")
    assert result.succeeded, result.log
    assert result.job("Publish").status == "succeeded"
    assert step_names(result.job("Publish")) == [
        "Checkout self",
        f"Use Python {interpreter.version}",
        "Install uv $(UV_VERSION)",
        "Fetch the tested build",
        CHECK_RELEASE,
        "Upload to widgets",
    ]
    feed = feed_server.feed("widgets")
    assert feed.published_files() == {
        "contoso_widgets-0.1.0-py3-none-any.whl",
        "contoso_widgets-0.1.0.tar.gz",
    }
    assert feed.token not in result.log

    consumer = copy_project(
        render(
            python_version=interpreter.version,
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
    git(project, "tag", "v0.2.0")
    refused_before_any_upload(agent(project).run("refs/tags/v0.2.0"), feed_server, "does not match")


@pytest.mark.e2e
def test_tag_on_a_commit_that_is_not_on_main_is_refused_before_any_upload(
    repository, agent, feed_server
):
    project = repository(**PROJECT_FEED)
    git(project, "checkout", "-q", "-b", "experiment")
    git(project, "commit", "-q", "--allow-empty", "-m", "Not reviewed")
    git(project, "tag", "v0.1.0")
    git(project, "checkout", "-q", "main")
    refused_before_any_upload(agent(project).run("refs/tags/v0.1.0"), feed_server, "not on main")


@pytest.mark.e2e
def test_branch_build_of_a_publish_project_skips_publishing(
    repository, agent, feed_server, interpreter
):
    project = repository(**PROJECT_FEED)
    result = agent(project).run("refs/heads/main")
    assert result.succeeded, result.log
    kept = linux_leg(result, interpreter).step("Keep the build for publishing")
    assert kept.status == "succeeded"
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
def test_a_step_without_the_token_mapping_cannot_authenticate(repository, agent, interpreter):
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
    sync = linux_leg(result, interpreter).step("Install dependencies")
    assert sync.status == "failed"
    assert "401" in sync.output
    # A failed job saves no cache.
    assert [event for _, event in result.cache_events] == ["miss", "not saved: job failed"]
