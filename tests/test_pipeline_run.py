"""The generated azure-pipelines.yml, run step by step by the pipeline runner
(azure_standins.pipeline) against the feed emulator: what would happen on Azure, without Azure."""

import base64
from pathlib import Path

import pytest
import yaml

from azure_standins.feed_emulator import COLLABORATOR, CONTRIBUTOR
from azure_standins.git_repo import commit_as_new_repository, git, work_on
from azure_standins.images import BASE_PYTHON, layout_bytes
from azure_standins.pipeline.protected import Checks, ServiceConnection
from azure_standins.template_facts import EXAMPLE_SERVER_ANSWERS
from azure_standins.uv_environment import Interpreter, machine_pythons, run_uv, with_feed_token
from azure_standins.wheelhouse import pins
from tests.archives import distribution
from tests.machine import AGENT_PYTHONS, keep_the_pythons_the_agents_have
from tests.outcomes import passed_where_it_ran
from tests.pages import troubleshooting_message
from tests.rendering import copy_project

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}


def linux_steps(pythons: list[str]) -> list[str]:
    """The Linux job's steps, testing `pythons`, up to the build."""
    return [
        *(f"Use Python {python}" for python in pythons),
        "Restore uv $(UV_VERSION)",
        "Install uv $(UV_VERSION)",
        "Restore the uv cache",
        "Install dependencies",
        "Lint",
        "Check formatting",
        "Check types",
        *(
            step
            for python in pythons
            for step in (
                f"Install dependencies for Python {python}",
                f"Test with Python {python}",
                f"Publish the test results of Python {python}",
            )
        ),
        "Combine the coverage",
        "Write the coverage report",
        "Publish coverage",
        "Build sdist and wheel",
    ]


@pytest.fixture(scope="module")
def python() -> Interpreter:
    """The newest Python of the agent's tool cache: a project for it has one leg this
    machine runs (the test of every leg renders for the machine's own Python instead)."""
    version = AGENT_PYTHONS[-1]
    (path,) = machine_pythons([version])
    return Interpreter(path, version)


@pytest.fixture
def repository(render, emulator, python, uv_env, tmp_path):
    """A team's repository: the rendered project with its uv.lock, committed on main."""

    def _repository(name: str = "repo", for_python: Interpreter = python, **answers) -> Path:
        shared = render(
            python_version=for_python.version, python_floor=for_python.version, **answers
        )
        project = copy_project(shared, tmp_path / name)
        feed = emulator.feed(answers.get("azure_feed", "widgets"))
        env = with_feed_token({**uv_env, "UV_PYTHON": for_python.path}, feed.token)
        locked = run_uv(project, "lock", env=env)
        assert locked.returncode == 0, locked.stderr
        keep_the_pythons_the_agents_have(project)
        return commit_as_new_repository(project, "Start")

    return _repository


def step_names(job) -> list[str]:
    return [step.name for step in job.steps]


def linux_job(result):
    """The job that tests every Python, lints and builds."""
    return result.job("Linux")


def passed_on_this_machine(result) -> None:
    """Every job this machine can run passed; the run names Windows as not run."""
    passed_where_it_ran(result, ["Test/Windows/Windows"])


SIGN_IN = "Sign in as the release identity"
RELEASE_PIPELINE = ".azure-pipelines/release.yml"
WIDGETS_FILES = {"contoso_widgets-0.1.0-py3-none-any.whl", "contoso_widgets-0.1.0.tar.gz"}
# A Services project whose builds run on a pool of the team's (one job: complete here) and
# whose releases run on Microsoft-hosted machines; and a server project, whose releases run
# on a pool of their own.
RELEASE_LAYOUTS = {
    "services": ({"agent_pool": "Linux Agents", **PROJECT_FEED}, "widgets"),
    "server": (EXAMPLE_SERVER_ANSWERS, "Widgets.Internal"),
}


def no_token_in(result, feed) -> None:
    """Neither the developer's, the build service's nor the release identity's token."""
    assert feed.identities and feed.token not in result.log
    assert all(token not in result.log for token in feed.identities.values())


def releases(agent, project: Path, feed_name: str = "widgets", **options):
    """The release pipeline of `project`, created from .azure-pipelines/release.yml."""
    return agent(project, feed_name, pipeline_file=RELEASE_PIPELINE, **options)


def sums_of(build) -> dict[str, str]:
    """{file: sha256} as main's build kept them for the release."""
    text = (build.artifacts / "dist" / "SHA256SUMS").read_text()
    return {name: digest for digest, name in (line.split("  ") for line in text.splitlines())}


@pytest.mark.e2e
def test_consume_only_branch_build_passes_every_step_and_uploads_nothing(
    repository, agent, feed_server, interpreter
):
    """Rendered for the machine's own Python: every newer Python of the agent runs a leg."""
    python = interpreter
    project = repository(publish=False, for_python=python, **PROJECT_FEED)
    result = agent(project).run("refs/heads/main")
    passed_on_this_machine(result)
    # Every Python of the agent's tool cache from the project's up, in one job.
    pythons = [v for v in AGENT_PYTHONS if v >= python.version]
    assert len(pythons) > 1
    (ran,) = [job for job in result.jobs if job.status != "not run"]
    assert step_names(ran) == [
        *linux_steps(pythons),
        "Trim the uv cache to uv.lock",
        "Prune the uv cache",
    ]
    assert {step.status for step in ran.steps} == {"succeeded"}, result.log
    for python_ in pythons:
        tested = ran.step(f"Test with Python {python_}").output
        assert f"platform linux -- Python {python_}." in tested
    assert feed_server.counts()["upload"] == 0


def only_the_feed_was_reached(azure_hosts, feed_server) -> None:
    """The agents reached nothing but the feed's hosts (the proxy passes only those), and
    took uv from the feed, as every other package."""
    assert azure_hosts.proxy.refused == []
    assert any(r.kind == "download" and "/download/uv/" in r.path for r in feed_server.requests)


@pytest.mark.e2e
@pytest.mark.parametrize(("answers", "feed_name"), RELEASE_LAYOUTS.values(), ids=RELEASE_LAYOUTS)
def test_a_release_promotes_exactly_mains_tested_build_and_a_rerun_finishes_it(
    repository, agent, feed_server, azure_hosts, answers, feed_name
):
    """A pull request, its merge, main's build, and the release of exactly main's files:
    refused before any job while the release identity's connection is missing, stopped at
    the upload while the identity lacks Feed Publisher, then finished by "Rerun failed
    jobs". A second push of the same version asks no approver and releases nothing."""
    project = repository(**answers)
    feed = feed_server.feed(feed_name)
    build = agent(project, feed_name)
    work_on(project, "feature/extra")
    pull_request = build.run("refs/heads/feature/extra", "PullRequest", "main")
    passed_where_it_ran(pull_request, [])
    assert not releases(agent, project, feed_name).completed(pull_request).triggered
    git(project, "merge", "-q", "--no-ff", "-m", "Merge feature/extra", "feature/extra")
    azure_hosts.proxy.refused.clear()
    main = build.run("refs/heads/main")
    passed_where_it_ran(main, [])
    assert set(sums_of(main)) == WIDGETS_FILES

    # The release identity's connection does not exist yet: refused before any job.
    early = releases(agent, project, feed_name, service_connections={}).completed(main)
    assert early.status == "failed" and early.jobs == [], early.log
    assert "references service connection contoso-widgets-publish which could not be" in (early.log)

    # The identity exists but may only read: the upload fails, and nothing is uploaded.
    release_token = feed.identity("release", CONTRIBUTOR)
    feed.roles[release_token] = COLLABORATOR
    runner = releases(agent, project, feed_name)
    first = runner.completed(main)
    assert first.status == "failed"
    assert first.job("Decide").status == "succeeded", first.log
    assert "403" in first.job("Release").step(f"Upload to {feed_name}").output
    assert feed.published_files() == set()

    # Granted Feed Publisher, "Rerun failed jobs" finishes the same run.
    feed.roles[release_token] = CONTRIBUTOR
    finished = runner.rerun_failed_jobs(first)
    assert finished.succeeded, finished.log
    assert finished.run_id == first.run_id and finished.job("Decide") is first.job("Decide")
    assert finished.name == "contoso-widgets 0.1.0"
    only_the_feed_was_reached(azure_hosts, feed_server)
    # Exactly main's files: the feed's hashes are those main's build recorded.
    uploaded = {f.filename: f.sha256 for f in feed.files("contoso-widgets")}
    assert uploaded == sums_of(main)
    # Both runs are kept; the released commit is tagged.
    kept = {(lease["definitionId"], lease["runId"]) for lease in azure_hosts.build_api.leases}
    assert {main.run_id, finished.run_id} <= {run for _, run in kept}
    assert git(project, "rev-parse", "v0.1.0^{commit}").strip() == main.commit
    no_token_in(finished, feed)

    # The same version again: nothing to release, and the approvers are never asked.
    (project / "README.md").write_text("Widgets, documented.\n")
    git(project, "commit", "-q", "-am", "Document")
    again = build.run("refs/heads/main")
    rejecting = {"contoso-widgets-release": Checks(approved=False)}
    quiet = releases(agent, project, feed_name, environments=rejecting).completed(again)
    assert quiet.succeeded, quiet.log
    assert quiet.job("Release").status == "skipped"
    decided = quiet.job("Decide").step("Decide whether main's version is new").output
    assert "nothing to release" in decided
    assert quiet.name == ""  # named after a version only when it releases one
    assert {f.filename: f.sha256 for f in feed.files("contoso-widgets")} == uploaded


@pytest.mark.e2e
def test_a_release_queued_by_hand_never_reaches_the_credential_whatever_it_carries(
    repository, agent, feed_server, tmp_path
):
    """Anyone who may queue the release pipeline can pick a branch or tag of their own, with
    an upload script that hands the credential over, and add variables: BASH_ENV runs its
    code in every bash step, PIP_EXTRA_INDEX_URL swaps the uv that is installed. Such a run
    has no release stage at all, and its first stage refuses it."""
    project = repository(agent_pool="Linux Agents", **PROJECT_FEED)
    build = agent(project)
    assert build.run("refs/heads/main").succeeded
    git(project, "checkout", "-q", "-b", "unreviewed")
    upload = project / ".azure-pipelines/upload_release.py"
    steal = 'pathlib.Path("stolen").write_text(open(os.environ["PYPIRC_PATH"]).read())'
    upload.write_text(f"import os, pathlib\n{steal}\n")
    git(project, "commit", "-q", "-am", "Hand the credential over")
    git(project, "tag", "v0.1.0")
    runner = releases(agent, project)
    assert not runner.triggered("refs/tags/v0.1.0", "IndividualCI")
    assert not runner.triggered("refs/heads/unreviewed", "IndividualCI")
    seen = tmp_path / "seen"
    seen.mkdir()
    queued = {
        "BASH_ENV": f'$(env > "$(mktemp -p {seen})")',
        "PIP_EXTRA_INDEX_URL": "https://uploads.example.invalid/simple/",
        "NEW_VERSION": "true",
    }
    for ref in ("refs/heads/main", "refs/tags/v0.1.0", "refs/heads/unreviewed"):
        by_hand = runner.run(ref, "Manual", variables=queued)
        assert [job.job for job in by_hand.jobs] == ["Decide"], by_hand.log
        refusal = by_hand.job("Decide").step("Decide whether main's version is new")
        assert refusal.status == "failed"
        assert "not by main's build: a release starts only when main's build succeeds" in (
            refusal.output
        )
    environments = [dump.read_text() for dump in seen.iterdir()]
    assert environments  # BASH_ENV ran in every bash step...
    assert not any("PYPIRC_PATH" in env for env in environments)  # ...never beside it
    assert not list(runner.work.rglob("stolen"))
    assert feed_server.feed("widgets").published_files() == set()


@pytest.fixture
def pypi_project_of_our_name(feed_server, wheelhouse, tmp_path):
    """The widgets feed's upstream, with a PyPI project of the name contoso-widgets, 0.1.0."""
    feed = feed_server.feed("widgets")
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    for wheel in wheelhouse.iterdir():
        (upstream / wheel.name).symlink_to(wheel)
    theirs = "contoso_widgets-0.1.0-py3-none-any.whl"
    (upstream / theirs).write_bytes(distribution(theirs, "Someone else's widgets"))
    kept = feed.upstream
    feed.upstream = upstream
    feed.__dict__.pop("_upstream", None)  # read again from the new folder
    yield
    feed.upstream = kept
    feed.__dict__.pop("_upstream", None)


@pytest.mark.e2e
def test_a_version_the_feed_has_only_from_pypi_is_refused_with_the_upstream_rule(
    repository, agent, pypi_project_of_our_name
):
    """Before the first upload, the feed's PyPI upstream serves a PyPI project of the same
    name: the release refuses, explaining why, rather than "finding" the version released."""
    project = repository(agent_pool="Linux Agents", **PROJECT_FEED)
    main = agent(project).run("refs/heads/main")
    passed_where_it_ran(main, [])
    release = releases(agent, project).completed(main)
    decided = release.job("Decide").step("Decide whether main's version is new")
    assert decided.status == "failed", release.log
    assert "The feed serves contoso-widgets 0.1.0 from its PyPI upstream" in decided.output
    assert release.job("Release").status == "skipped"


@pytest.mark.e2e
def test_a_pull_request_naming_the_release_pool_is_refused_before_any_job(repository, agent):
    """The release pool is permitted to the release pipeline alone: a pull request's edited
    azure-pipelines.yml cannot put its code on the release agents."""
    project = repository(**EXAMPLE_SERVER_ANSWERS)
    git(project, "checkout", "-q", "-b", "feature/pool")
    pipeline_file = project / "azure-pipelines.yml"
    pipeline = yaml.safe_load(pipeline_file.read_text())
    pipeline["stages"][0]["jobs"][0]["pool"] = {"name": "Releases"}
    pipeline_file.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    git(project, "commit", "-q", "-am", "Run on the release agents")
    result = agent(project, "Widgets.Internal").run("refs/heads/feature/pool", "PullRequest")
    assert result.status == "failed" and result.jobs == []
    assert "Could not find a pool with name Releases" in result.log


def cache_events(result) -> list[tuple[str, str]]:
    """The uv cache's Cache@2 events (not uv's own)."""
    return [(key, event) for key, event in result.cache_events if key.startswith("uv-cache|")]


def uv_events(result) -> list[str]:
    """The Cache@2 events of uv itself."""
    return [event for key, event in result.cache_events if key.startswith("uv|")]


def package_of(request) -> str:
    """ "name/version" of a download request (.../pypi/download/<name>/<version>/<file>)."""
    return "/".join(request.path.split("/download/")[1].split("/")[:2])


def coverage_versions(python: str) -> tuple[str, str]:
    """(what a lock for `python` picks, another pinned version): a realistic update."""
    versions = {pin.split("==")[1] for pin in pins("upstream") if pin.startswith("coverage==")}
    (picked,) = {pin.split("==")[1] for pin in pins("upstream", python)} & versions
    (other,) = versions - {picked}
    return picked, other


@pytest.mark.e2e
def test_a_warm_run_downloads_nothing_and_a_lock_change_only_what_changed(
    repository, agent, feed_server, uv_env, python
):
    """uv itself comes back from a cache keyed on its version, the packages from one keyed
    on the lock (falling back to restore keys when it changes)."""
    version = python.version
    project = repository(publish=False, **PROJECT_FEED)
    runner = agent(project)
    feed_server.reset()  # what locking the project asked
    first = runner.run()
    passed_on_this_machine(first)
    assert uv_events(first) == ["miss", "saved"]
    assert [event for _, event in cache_events(first)] == ["miss", "saved"]
    # Cold, each file takes two requests, both with credentials: its download link (a 303)
    # and the blob it points to; never a 401 first.
    cold = feed_server.counts()
    assert cold["download"] > 0 and cold["download"] == cold["blob"]
    assert "unauthorized" not in cold, feed_server.requests
    # The index at the organization's root only gives the token: nothing is looked up there
    # (the one index page is pip's, for uv).
    assert set(cold) == {"simple", "download", "blob"} and cold["simple"] == 1, cold

    feed_server.reset()
    second = runner.run()
    passed_on_this_machine(second)
    assert uv_events(second) == ["restored: exact", "not saved: exact hit"]
    assert [event for _, event in cache_events(second)] == [
        "restored: exact",
        "not saved: exact hit",
    ]
    # A Microsoft-hosted agent is a new machine, yet nothing comes from the feed: not uv,
    # which was restored, and no package, which uv sync takes from the restored cache.
    assert feed_server.counts() == {}, feed_server.requests
    assert "nothing to download" in linux_job(second).step("Install uv $(UV_VERSION)").output

    feed = feed_server.feed("widgets")
    env = with_feed_token({**uv_env, "UV_PYTHON": python.path}, feed.token)
    # A dependency update: coverage moves to another version the feed holds.
    locked, update = coverage_versions(version)
    assert f'name = "coverage"\nversion = "{locked}"' in (project / "uv.lock").read_text()
    assert run_uv(project, "add", f"coverage=={update}", env=env).returncode == 0
    git(project, "commit", "-q", "-am", "Pin coverage")
    feed_server.reset()
    third = runner.run()
    passed_on_this_machine(third)
    (restored, saved_event) = cache_events(third)
    assert restored[1].startswith("restored: prefix") and saved_event[1] == "saved"
    # Only what the lock change brought came from the feed...
    downloads = {package_of(r) for r in feed_server.requests if r.kind == "download"}
    assert downloads == {f"coverage/{update}"}
    # ...and the saved cache holds the new version, not the old one beside it.
    main_scope = f"{runner.runs.definition_id(runner.name)}:refs/heads/main"
    saved = runner.cache.get(saved_event[0], (main_scope,))
    cached_coverage = {p.name.split("-")[0] for p in saved.glob("wheels-v*/index/*/coverage/*")}
    assert cached_coverage == {update}


@pytest.mark.e2e
def test_a_step_without_the_token_mapping_cannot_authenticate(repository, agent, python):
    project = repository(publish=False, **PROJECT_FEED)
    pipeline_file = project / "azure-pipelines.yml"
    pipeline = yaml.safe_load(pipeline_file.read_text())
    (linux, _windows) = pipeline["stages"][0]["jobs"]
    (sync,) = [s for s in linux["steps"] if s.get("displayName") == "Install dependencies"]
    assert set(sync.pop("env")) == {
        "UV_INDEX_AZURE_DEVOPS_PASSWORD",
        "UV_INDEX_AZURE_DEVOPS_DOWNLOADS_PASSWORD",
    }
    pipeline_file.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    git(project, "commit", "-q", "-am", "Forget the token mapping")
    result = agent(project).run()
    assert not result.succeeded
    sync = linux_job(result).step("Install dependencies")
    assert sync.status == "failed"
    assert "401" in sync.output
    # A failed job saves no cache.
    assert [event for _, event in cache_events(result)] == ["miss", "not saved: job failed"]


# What a pull request's tests could leave in the agents' Python: code that runs at every start
# of it, and tells whether the release credential was there.
SITECUSTOMIZE = """import os, pathlib
folder = pathlib.Path(os.environ.get("LEFT_BEHIND", "/nonexistent"))
if folder.is_dir():
    (folder / "ran").write_text("credential" if "PYPIRC_PATH" in os.environ else "ran")
"""


# ... and a `uv` package there, which `python -m uv` would run, and which says so.
FAKE_UV = """import os, pathlib
folder = pathlib.Path(os.environ.get("LEFT_BEHIND", "/nonexistent"))
if folder.is_dir():
    (folder / "uv-ran").write_text("planted uv")
raise SystemExit(1)
"""


def planting_steps() -> str:
    code = base64.b64encode(SITECUSTOMIZE.encode()).decode()
    uv_code = base64.b64encode(FAKE_UV.encode()).decode()
    return yaml.safe_dump(
        {
            "steps": [
                {
                    "script": 'python -c "import base64, pathlib, site; package = pathlib.Path('
                    "site.getsitepackages()[0], 'uv'); package.mkdir(exist_ok=True); "
                    "(package / '__init__.py').write_text(''); (package / '__main__.py')"
                    f".write_bytes(base64.b64decode('{uv_code}'))\"",
                    "displayName": "Leave a uv in the agents' Python",
                },
                {
                    "script": 'python -c "import base64, pathlib, site; pathlib.Path(site.'
                    "getsitepackages()[0], 'sitecustomize.py').write_bytes("
                    f"base64.b64decode('{code}'))\"",
                    "displayName": "Leave a sitecustomize.py in the agents' Python",
                },
                {
                    "script": 'python -c "import os, pathlib; pathlib.Path('
                    "os.environ['UV_CACHE_DIR'], 'planted').mkdir(parents=True, exist_ok=True)\"",
                    "displayName": "Leave an entry in the kept uv cache",
                },
            ]
        }
    )


@pytest.mark.e2e
@pytest.mark.parametrize("layout", ["release pool", "old: one pool"])
def test_what_a_pull_request_leaves_on_its_agents_never_reaches_the_release(
    repository, agent, feed_server, azure_hosts, python, tmp_path, layout
):
    """Azure DevOps Server: a pull request's tests run on the build pool's agents, which keep
    their tool cache and uv cache: they can leave code behind. The release runs on agents of
    its own, in a throwaway folder, reaching nothing but the server; on the build pool, as
    before, what was left runs beside the credential."""
    project = repository(**EXAMPLE_SERVER_ANSWERS)
    git(project, "checkout", "-q", "-b", "feature/sneaky")
    (project / ".azure-pipelines/team-steps.yml").write_text(planting_steps())
    git(project, "commit", "-q", "-am", "Leave something behind")
    git(project, "checkout", "-q", "main")
    if layout.startswith("old"):
        release_file = project / RELEASE_PIPELINE
        release_file.write_text(
            release_file.read_text().replace('name: "Releases"', 'name: "Default"')
        )
        git(project, "commit", "-q", "-am", "Release on the build pool")
    left_behind = tmp_path / "left-behind"
    left_behind.mkdir()
    env_note = {"LEFT_BEHIND": str(left_behind)}
    feed_server.reset()
    pull_request = agent(project, "Widgets.Internal").run(
        "refs/heads/feature/sneaky", "PullRequest", "main"
    )
    passed_where_it_ran(pull_request, [])
    # The collection's root (UV_INDEX) covers a server's download links: no 401 first.
    assert feed_server.counts()["blob"] > 0 and "unauthorized" not in feed_server.counts()
    assert pull_request.cache_events == []  # no Cache@2 on a server
    (leg,) = [job for job in pull_request.jobs if job.status != "not run"]
    assert leg.step("Leave a uv in the agents' Python").status == "succeeded"
    assert leg.step("Leave a sitecustomize.py in the agents' Python").status == "succeeded"
    assert leg.step("Leave an entry in the kept uv cache").status == "succeeded"
    main = agent(project, "Widgets.Internal").run("refs/heads/main")
    passed_where_it_ran(main, [])
    runner = releases(agent, project, "Widgets.Internal")
    assert runner.host == "Azure DevOps Server"
    runner.base_env = {**runner.base_env, **env_note}
    azure_hosts.proxy.refused.clear()
    released = runner.completed(main)
    assert released.succeeded, released.log
    only_the_feed_was_reached(azure_hosts, feed_server)
    feed = feed_server.feed("Widgets.Internal")
    assert feed.published_files() == WIDGETS_FILES
    no_token_in(released, feed)
    ran = left_behind / "ran"
    # uv comes from the job's own folder, first on PYTHONPATH: the planted one never runs.
    assert not (left_behind / "uv-ran").exists()
    # The release's uv cache is its job's own, in its temporary folder: no entry left in a
    # build pool's cache (the build's own trim drops it too) is there.
    assert not list(released.folder.rglob("planted"))
    if layout.startswith("old"):
        assert ran.read_text() == "credential"
    else:
        assert not ran.exists()
        # The release keeps no uv cache on its agents: each job starts with an empty one.
        assert not (runner.work / "agents" / "Releases" / "_work" / "uv-cache").exists()


@pytest.mark.e2e
def test_a_self_hosted_arm64_pool_downloads_nothing_from_the_feed_on_its_second_run(
    repository, agent, feed_server, python
):
    """ARM64 agents: Pythons from the tool cache's arm64 folder, and no coverage task (its
    x64 binary cannot run there), while the coverage report itself is still checked."""
    answers = {"agent_pool": "Linux Agents", "agent_architecture": "arm64"}
    project = repository(publish=False, **answers, **PROJECT_FEED)
    runner = agent(project, architecture="ARM64")
    first = runner.run()
    passed_where_it_ran(first, [])
    (leg,) = first.jobs
    assert leg.step("Write the coverage report").status == "succeeded"
    assert "Publish coverage" not in step_names(leg)
    assert feed_server.counts()["download"] > 0
    feed_server.reset()
    second = runner.run()
    passed_where_it_ran(second, [])
    assert second.cache_events == []  # the agents' own disk, not Cache@2
    assert feed_server.counts() == {}, feed_server.requests
    # The cache the agents keep holds packages, never the feed's token.
    feed = feed_server.feed("widgets")
    kept = runner.work / "agents" / "Linux Agents" / "_work" / "uv-cache"
    assert any(kept.rglob("*.whl")) or any(kept.rglob("METADATA"))
    assert not any(feed.token.encode() in p.read_bytes() for p in kept.rglob("*") if p.is_file())


# -- who may publish ----------------------------------------------------------------------------

UPLOAD_IN_A_TEST_JOB = """steps:
  - script: uv build --no-sources
    env:
      UV_INDEX_AZURE_DEVOPS_PASSWORD: $(System.AccessToken)
  - script: uv publish --index azure-devops --trusted-publishing never
    displayName: Publish from a pull request
    env:
      UV_PUBLISH_TOKEN: $(System.AccessToken)
      UV_INDEX_AZURE_DEVOPS_PASSWORD: $(System.AccessToken)
"""


def pull_request_branch(project: Path, team_steps: str) -> None:
    """A branch whose team steps (run in every test leg) try to publish, built as a pull
    request into main: a Build Validation policy builds it, with the job's token."""
    git(project, "checkout", "-q", "-b", "feature/sneaky")
    (project / ".azure-pipelines/team-steps.yml").write_text(team_steps)
    git(project, "commit", "-q", "-am", "Publish from the test job")


@pytest.mark.e2e
def test_a_pull_request_that_publishes_with_the_job_token_gets_403_and_uploads_nothing(
    repository, agent, feed_server, python
):
    """Before the release identity exists, too: the build pipeline never names it."""
    project = repository(**PROJECT_FEED)
    pull_request_branch(project, UPLOAD_IN_A_TEST_JOB)
    runner = agent(project, build_validation=frozenset({"main"}), service_connections={})
    result = runner.run("refs/heads/feature/sneaky", "PullRequest", "main")
    assert linux_job(result).step(f"Test with Python {python.version}").status == "succeeded"
    sneaky = linux_job(result).step("Publish from a pull request")
    assert sneaky.status == "failed"
    assert troubleshooting_message("uv", "403") in sneaky.output
    assert feed_server.feed("widgets").published_files() == set()
    no_token_in(result, feed_server.feed("widgets"))


@pytest.mark.e2e
def test_a_pull_request_cannot_reach_the_release_identity(repository, agent, feed_server, python):
    """The same branch using the release's service connection: its Branch control
    (refs/tags/v*) stops the job before any step runs."""
    project = repository(**PROJECT_FEED)
    steal = (
        "steps:\n  - task: TwineAuthenticate@1\n    inputs:\n"
        "      azureDevOpsServiceConnection: contoso-widgets-publish\n"
        "      feedUrl: https://pkgs.dev.azure.com/contoso/Widget%20Platform/_packaging/widgets/pypi/upload/\n"
        "  - script: python .azure-pipelines/upload_release.py azure-devops\n"
        "    env:\n      UV_INDEX_AZURE_DEVOPS_PASSWORD: $(System.AccessToken)\n"
    )
    pull_request_branch(project, steal)
    runner = agent(project, build_validation=frozenset({"main"}))
    result = runner.run("refs/heads/feature/sneaky", "PullRequest", "main")
    leg = linux_job(result)
    assert leg.status == "failed" and leg.steps == []
    assert "Branch control on service connection 'contoso-widgets-publish' failed" in leg.note
    assert feed_server.feed("widgets").published_files() == set()


@pytest.mark.e2e
def test_a_type_error_fails_the_run(repository, agent, python):
    project = repository(publish=False, **PROJECT_FEED)
    module = project / "src/contoso_widgets/widgets.py"
    module.write_text('def widget_count() -> int:\n    return "three"\n')
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "A type error")
    result = agent(project).run()
    assert result.status == "failed"
    check = linux_job(result).step("Check types")
    assert check.status == "failed"
    assert 'Incompatible return value type (got "str", expected "int")' in check.output
    # Each Python's tests still run and report; nothing is built.
    assert linux_job(result).step(f"Test with Python {python.version}").status == "succeeded"
    assert linux_job(result).step("Build sdist and wheel").status == "skipped"


@pytest.mark.e2e
def test_an_agent_in_a_private_network_cannot_install_uv_from_pypi(
    repository, agent, azure_hosts, python
):
    """Why uv comes from the feed: the pip install of uv's docs, which reaches for pypi.org,
    fails on an agent whose network passes only the feed's hosts."""
    project = repository(**PROJECT_FEED)
    pipeline = yaml.safe_load((project / "azure-pipelines.yml").read_text())
    (install,) = [
        step
        for step in pipeline["stages"][0]["jobs"][0]["steps"]
        if step.get("displayName") == "Install uv $(UV_VERSION)"
    ]
    install["env"] = {"PIP_RETRIES": "0"}  # pypi.org, once: its refusal is the point
    (project / "azure-pipelines.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    git(project, "commit", "-q", "-am", "Install uv from PyPI")
    azure_hosts.proxy.refused.clear()
    result = agent(project).run()
    assert linux_job(result).step("Install uv $(UV_VERSION)").status == "failed"
    assert "CONNECT pypi.org:443" in azure_hosts.proxy.refused


# An application's pipeline on a server's pool: the job Image builds the image with buildah
# standing in for the agent's Docker, the job's token as the build secret; main's run pushes
# it, tagged with the version and the commit, through the registry's service connection; a
# pull request's builds it and pushes nothing. No layer of a pushed image holds the token.
REGISTRY = "registry.contoso.com"
CONNECTION = "contoso-widgets-registry"


@pytest.mark.e2e
def test_main_pushes_the_image_it_built_and_a_pull_request_only_builds_it(
    repository, agent, feed_server, azure_hosts
):
    (path,) = machine_pythons([BASE_PYTHON])
    project = repository(
        for_python=Interpreter(path, BASE_PYTHON),
        project_kind="application",
        publish=False,
        **EXAMPLE_SERVER_ANSWERS,
    )
    registry = ServiceConnection(
        token="registry-password", url=REGISTRY, allowed_branches=("refs/heads/main",)
    )
    runner = agent(
        project,
        "Widgets.Internal",
        service_connections={CONNECTION: registry},
        image_ca=azure_hosts.ca_file,
    )
    pushed = runner.registries / REGISTRY / "contoso-widgets"

    work_on(project, "feature/x")
    pull_request = runner.run("refs/heads/feature/x", "PullRequest", "main")
    passed_where_it_ran(pull_request, [])
    image = pull_request.job("Image")
    assert [step.name for step in image.steps][-2:] == ["Read the version", "Build the image"]
    assert not pushed.exists()

    main = runner.run("refs/heads/main")
    passed_where_it_ran(main, [])
    assert main.job("Image").step("Push the image").status == "succeeded"
    commit = main.commit
    assert sorted(tag.name for tag in pushed.iterdir()) == sorted(["0.1.0", commit])
    token = runner.secrets["System.AccessToken"].encode()
    for tag in pushed.iterdir():
        everything = layout_bytes(tag)
        assert len(everything) >= 4
        assert [name for name, data in everything.items() if token in data] == []
