"""Azure Repos' git over HTTPS (azure_standins/azure_repos.py), through real git: who may
clone and push which repository, signed in as Azure Repos takes a token."""

import base64
import subprocess
from pathlib import Path

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.azure_repos import PUSH, READ, AzureRepos
from azure_standins.git_repo import commit_as_new_repository


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    served = AzureRepos().start()
    yield served
    served.stop()


@pytest.fixture
def template(repos, tmp_path) -> str:
    work = tmp_path / "copier-uv-azure"
    work.mkdir()
    (work / "copier.yml").write_text("_subdirectory: template\n")
    commit_as_new_repository(work, "v1")
    bare = tmp_path / "served.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return repos.add("contoso", "Platform", f"copier-uv-azure-{tmp_path.name}", bare)


def git(*args: str, header: str | None = None, cwd: Path | None = None):
    config = ["-c", f"http.extraHeader=AUTHORIZATION: {header}"] if header else []
    return subprocess.run(
        ["git", *config, *args], cwd=cwd, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0", "HOME": str(cwd or "/tmp")},
        timeout=COMMAND_TIMEOUT,
    )  # fmt: skip


def basic(user: str, password: str) -> str:
    return "basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def repository_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].replace("/_git/", "/")


def test_a_token_with_read_access_clones_in_every_form_azure_repos_takes(repos, template, tmp_path):
    token = repos.identity("a developer", **{repository_of(template).replace("/", "__"): READ})
    for header in (basic("anything", token), basic(token, ""), f"bearer {token}"):
        assert git("ls-remote", template, header=header).returncode == 0
    assert git("ls-remote", template).returncode != 0  # no credentials: 401


def test_a_repository_outside_the_tokens_reach_does_not_exist_for_it(repos, template, tmp_path):
    other = repos.identity("another project's build service", **{"contoso__Other__repo": READ})
    listed = git("ls-remote", template, header=basic("", other))
    assert listed.returncode != 0 and "not found" in listed.stderr


def test_only_a_token_with_push_access_pushes(repos, template, tmp_path):
    key = repository_of(template).replace("/", "__")
    reader = repos.identity("a reader", **{key: READ})
    pusher = repos.identity("the platform team", **{key: PUSH})
    clone = tmp_path / "clone"
    assert git("clone", "-q", template, str(clone), header=basic("", reader)).returncode == 0
    commit = ["-c", "user.name=T", "-c", "user.email=t@example.com", "tag", "v1.0.0"]
    assert git(*commit, cwd=clone).returncode == 0
    assert (
        git("push", "-q", "origin", "v1.0.0", header=basic("", reader), cwd=clone).returncode != 0
    )
    assert (
        git("push", "-q", "origin", "v1.0.0", header=basic("", pusher), cwd=clone).returncode == 0
    )
    assert "refs/tags/v1.0.0" in git("ls-remote", template, header=basic("", reader)).stdout
