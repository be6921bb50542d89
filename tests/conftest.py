"""Fixtures shared by the template's tests and the stand-ins' tests."""

import fcntl
import hashlib
import json
import os
import secrets
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from azure_standins.azure_hosts import AzureHosts
from azure_standins.azure_repos import AzureRepos
from azure_standins.feed_emulator import COLLABORATOR, CONTRIBUTOR, FeedEmulator
from azure_standins.git_repo import with_git_identity
from azure_standins.keyring_tools import install_keyring_tool
from azure_standins.pipeline import CacheStore, PipelineRunner, ToolCache
from azure_standins.pipeline.protected import Checks, Pool, ServiceConnection
from azure_standins.pipeline.results import Runs
from azure_standins.template_facts import (
    EXAMPLE_ANSWERS,
    EXAMPLE_FEEDS,
    EXAMPLE_SERVER_HOST,
)
from azure_standins.uv_environment import (
    Interpreter,
    clean_env,
    find_interpreter,
    machine_pythons,
    system_path,
    uv_only,
)
from azure_standins.wheelhouse import tools_wheelhouse, upstream_wheelhouse
from tests.machine import AGENT_PYTHONS
from tests.rendering import copy_project, copy_template
from tests.template_releases import release_repository

pytest_plugins = ["pytester"]

Render = Callable[..., Path]


@pytest.fixture(scope="session")
def render(copie_session, template_dir, tmp_path_factory, worker_id) -> Render:
    """Render the template with EXAMPLE_ANSWERS plus the given answers, through
    pytest-copie, once per test session: the xdist workers share the renders (a render takes
    longer than most tests using it).

    Rendered projects are shared: a test that changes files must copy the project first.
    """
    session_temp = tmp_path_factory.getbasetemp()
    root = (session_temp if worker_id == "master" else session_temp.parent) / "renders"
    root.mkdir(exist_ok=True)

    def _render(**answers) -> Path:
        data = {**EXAMPLE_ANSWERS, **answers}
        key = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
        project = root / key
        with open(root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not project.exists():
                result = copie_session.copy(extra_answers=data, template_dir=template_dir)
                if result.exception is not None:
                    raise result.exception
                result.project_dir.rename(project)
        return project

    return _render


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """The template outside git, so Copier reads it in place instead of cloning it."""
    copy = tmp_path_factory.mktemp("template") / "copier-uv-azure"
    copy_template(copy)
    return copy


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template's git repository with two releases, v1.0.0 and v2.0.0."""
    return release_repository(tmp_path_factory.mktemp("template-repo"))


# -- the feed emulator and real uv ------------------------------------------------------


@pytest.fixture(scope="session")
def interpreter() -> Interpreter:
    return find_interpreter()


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    return upstream_wheelhouse(*AGENT_PYTHONS)


@pytest.fixture(scope="session")
def azure_hosts(wheelhouse, tmp_path_factory) -> Iterator[AzureHosts]:
    """One emulator per test session (per xdist worker), holding EXAMPLE_FEEDS, served as
    https://pkgs.dev.azure.com and https://devops.contoso.com through a local proxy, and
    Azure Repos' git at https://dev.azure.com (empty until a test adds a repository)."""
    emulator = FeedEmulator()
    tokens: dict[str, str] = {}  # a PAT covers the whole organization (or collection)
    for organization, feed, project in EXAMPLE_FEEDS:
        token = tokens.setdefault(organization, secrets.token_urlsafe(24))
        emulator.add_feed(organization, feed, project, upstream=wheelhouse, token=token)
    hosts = AzureHosts(
        emulator,
        tmp_path_factory.mktemp("azure-hosts"),
        server_hosts=[EXAMPLE_SERVER_HOST],
        repos=AzureRepos(),
    )
    yield hosts
    hosts.stop()


@pytest.fixture(scope="session")
def emulator(azure_hosts) -> FeedEmulator:
    return azure_hosts.emulator


@pytest.fixture
def feed_server(emulator) -> FeedEmulator:
    """The session's emulator with its request log and published packages cleared."""
    emulator.reset()
    emulator.build_api.leases.clear()
    for feed in emulator.feeds:
        feed.packages.clear()
        feed.deleted_versions.clear()
    return emulator


@pytest.fixture
def project_for(render, interpreter, tmp_path) -> Render:
    """Render for this machine's Python (once per session) and hand the test a private copy:
    project_for(name="project", **answers)."""

    def _project(name: str = "project", **answers) -> Path:
        return copy_project(
            render(python_version=interpreter.version, python_floor=interpreter.version, **answers),
            tmp_path / name,
        )

    return _project


@pytest.fixture(scope="session")
def shared_uv_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def uv_env(shared_uv_cache, interpreter, azure_hosts, tmp_path) -> dict[str, str]:
    """Real uv's environment: nothing from this machine, and Azure's hosts reachable."""
    env = clean_env(shared_uv_cache, interpreter.path, tmp_path / "config")
    return {**env, **azure_hosts.client_env()}


@pytest.fixture
def fresh_machine(tmp_path, interpreter, shared_uv_cache) -> dict[str, str]:
    """A new user's shell: a fresh HOME, uv and uvx on PATH (nothing else of this
    environment), and uv offline with the tools wheelhouse, so that the README's own uvx
    commands run as written without reaching PyPI."""
    uv_bin = uv_only(tmp_path / "uv-bin")
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k.startswith(("GIT_", "LANG", "LC_"))}
    return {
        **keep,
        "HOME": str(home),
        "PATH": system_path(uv_bin),
        # The Python the tools wheelhouse was filled for, whatever the shell's PATH holds.
        "UV_PYTHON": interpreter.path,
        "UV_OFFLINE": "1",
        "UV_FIND_LINKS": str(tools_wheelhouse(interpreter.version)),
        "UV_CACHE_DIR": str(shared_uv_cache),
        "UV_PYTHON_DOWNLOADS": "never",
    }


# -- a developer's sign-in tools -----------------------------------------------------------


def keyring_tool(tmp_path_factory, interpreter, plugin: str):
    """The bin folder of keyring with `plugin`, as `uv tool install` puts it."""
    root = tmp_path_factory.mktemp(plugin)
    env = clean_env(root / "cache", interpreter.path, root / "config")
    return install_keyring_tool(root, env, interpreter.version, plugin)


@pytest.fixture(scope="session")
def artifacts_keyring(tmp_path_factory, interpreter):
    return keyring_tool(tmp_path_factory, interpreter, "artifacts-keyring")


@pytest.fixture(scope="session")
def file_keyring(tmp_path_factory, interpreter):
    return keyring_tool(tmp_path_factory, interpreter, "keyrings.alt")


@pytest.fixture(scope="session")
def plain_keyring(tmp_path_factory, interpreter):
    """keyring alone, as on a headless Linux machine: no backend that stores anything."""
    return keyring_tool(tmp_path_factory, interpreter, "keyring")


# -- the pipeline runner ----------------------------------------------------------------


@pytest.fixture(scope="session")
def tool_cache() -> ToolCache:
    return ToolCache(machine_pythons(list(AGENT_PYTHONS)))


RELEASE_FILE = ".azure-pipelines/release.yml"


@pytest.fixture
def agent(feed_server, azure_hosts, tool_cache, uv_env, interpreter, tmp_path):
    """Builds runners that share one cache service and one record of runs, as the pipelines
    of one project do on Azure: the build pipeline named after the distribution, as the
    docs create it, and the release pipeline `<distribution>-release`."""
    cache = CacheStore(tmp_path / "pipeline-cache")
    runs = Runs()
    azure_hosts.build_api.runs = runs
    agent_env = {k: v for k, v in uv_env.items() if not k.startswith("UV_")}

    def _runner(project: Path, feed_name: str = "widgets", **options) -> PipelineRunner:
        feed = feed_server.feed(feed_name)
        # The pipeline's build service: it may read the feed, never publish.
        token = feed.identity("build service", COLLABORATOR)
        azure_hosts.build_api.accept(token)
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        release = f"{answers['distribution_name']}-release"
        if options.get("pipeline_file") == RELEASE_FILE:
            options.setdefault("name", release)
        options.setdefault("name", answers.get("build_pipeline", answers["distribution_name"]))
        options.setdefault("service_connections", release_connection(project, feed))
        options.setdefault("environments", release_environment(project))
        options.setdefault("pools", project_pools(answers, release))
        # main has its policies (a Build Validation one among them), as the docs ask.
        options.setdefault("build_validation", frozenset({"main"}))
        return PipelineRunner(
            project,
            tmp_path / "agent",
            cache=cache,
            tools=tool_cache,
            access_token=token,
            env=agent_env,
            runs=runs,
            **options,
        )

    return _runner


def project_pools(answers: dict, release_pipeline: str) -> dict[str, Pool] | None:
    """The pools a project names, as docs/release.md sets them up: the build pool open to
    the project's pipelines, the release pool permitted to the release pipeline alone, with
    Branch control for main (None: a project on Microsoft-hosted agents alone)."""
    if not answers.get("release_pool"):
        return None
    pools = {answers["agent_pool"]: Pool()} if answers.get("agent_pool") else {}
    pools[answers["release_pool"]] = Pool(
        allowed_branches=("refs/heads/main",), pipelines=frozenset({release_pipeline})
    )
    return pools


# Branch control as docs/release.md sets it on the release connection and environment: main,
# and only while main has branch policies.
MAIN_ONLY = Checks(allowed_branches=("refs/heads/main",), verify_branch_protection=True)


def release_connection(project: Path, feed) -> dict[str, ServiceConnection]:
    """The service connection a publishing project names, set up as docs/release.md says:
    its identity holds Feed Publisher, and Branch control allows only a protected main."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    name = answers.get("release_connection")
    if not name:
        return {}
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    (index,) = pyproject["tool"]["uv"]["index"][:1]
    connection = ServiceConnection(
        token=feed.identity("release", CONTRIBUTOR),
        url=index.get("publish-url", ""),
        allowed_branches=MAIN_ONLY.allowed_branches,
        verify_branch_protection=True,
    )
    return {name: connection}


def release_environment(project: Path) -> dict[str, Checks]:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return {f"{answers['distribution_name']}-release": MAIN_ONLY} if answers["publish"] else {}


@pytest.fixture(scope="session", autouse=True)
def git_identity() -> None:
    """Copier commits in temporary repositories during updates; CI may have no git identity."""
    with_git_identity()
