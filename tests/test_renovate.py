"""Fleet updates through today's Renovate (docs/renovate.md's version, on the Node.js it needs):
its copier manager finds the template in a project's answers file, sees the newer release,
and runs `copier update` under its own flags; its config code reads the project's
renovate.json.

The project is rendered from the template by URL at v1.0.0, a release without the
agent_pool question, and lives in a git repository of its own: by `file://` URL, and from
Azure Repos over HTTPS (azure_standins/azure_repos.py) by the pages' `git+https://` form,
signed in with tokens whose reach is what Azure gives them.
"""

import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from azure_standins import COMMAND_TIMEOUT
from azure_standins.azure_repos import PUSH, READ
from azure_standins.feed_emulator import COLLABORATOR
from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.renovate_tool import update, validate_config
from azure_standins.template_facts import EXAMPLE_ANSWERS, PINNED_UV
from azure_standins.uv_environment import run_uv, system_path, uv_only, with_feed_token
from azure_standins.wheelhouse import pins
from tests.pages import command, yaml_blocks
from tests.rendering import copier_cli, data_args
from tests.template_releases import FORMAT_STEP
from tests.test_repository import sh

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
    result = update(f"file://{project_repository}", tmp_path / "renovate", renovate_env)
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
    # Microsoft-hosted, as v1.0.0 had it
    assert "vmImage: ubuntu-latest" in pipeline and "vmImage: windows-latest" in pipeline
    assert not any("<<<<<<<" in (contents or "") for contents in files.values())


# -- on Azure Repos, by the pages' git+https URL -------------------------------------------------

TEMPLATE = "contoso/Platform/copier-uv-azure"
PROJECT = "contoso/Widgets/contoso-widgets"


def signed_in_git(env: dict, token: str) -> dict:
    """`env` for git as a person or a pipeline signed in to Azure Repos: the token in an
    AUTHORIZATION header for dev.azure.com, as the pipeline's checkout passes it."""
    header = base64.b64encode(f":{token}".encode()).decode()
    return {
        **env,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.https://dev.azure.com/.extraHeader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {header}",
    }


@pytest.fixture
def on_azure_repos(template_repo, azure_hosts, renovate_env, fresh_machine, tmp_path):
    """The platform team's template repository on Azure Repos with v1.0.0 released, and a
    team's project rendered from it by the pages' git+https URL, pushed to its own
    repository. Returns (the project's URL, the template's git directory, hosts' env)."""
    repos = azure_hosts.repos
    served = tmp_path / "copier-uv-azure.git"
    git(tmp_path, "clone", "-q", "--bare", str(template_repo), str(served))
    git(served, "tag", "-d", "v2.0.0")
    git(served, "update-ref", "refs/heads/main", "v1.0.0")
    repos.add("contoso", "Platform", "copier-uv-azure", served)
    # A developer renders from the pages' Azure Repos URL, as written, signed in to it.
    render = command("_git/copier-uv-azure contoso-widgets")
    url, destination = shlex.split(render)[-2:]
    assert url == f"git+https://dev.azure.com/{TEMPLATE.replace('/copier', '/_git/copier')}"
    developer = repos.identity("a developer", **{TEMPLATE.replace("/", "__"): READ})
    machine = signed_in_git({**fresh_machine, **azure_hosts.client_env()}, developer)
    rendered = sh(render, tmp_path, machine)
    assert rendered.returncode == 0, rendered.stderr
    project = tmp_path / destination
    env = {**renovate_env, **azure_hosts.client_env()}
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text())
    assert answers["_src_path"] == url and answers["_commit"] == "v1.0.0"
    commit_as_new_repository(project, "Start from the template")
    served_project = tmp_path / "contoso-widgets.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(served_project))
    project_url = repos.add("contoso", "Widgets", "contoso-widgets", served_project)
    return project_url, served, env


def test_the_adopting_render_writes_the_template_into_an_existing_package(
    template_repo, azure_hosts, fresh_machine, tmp_path
):
    """docs/adopt-an-existing-package.md's render, as written, in an existing package's
    repository: the template's files arrive, the team's own files stay, and git shows what
    it overwrote, which `git restore` takes back as the page says."""
    served = tmp_path / "copier-uv-azure.git"
    git(tmp_path, "clone", "-q", "--bare", str(template_repo), str(served))
    azure_hosts.repos.add("contoso", "Platform", "copier-uv-azure", served)
    package = tmp_path / "contoso-widgets"
    (package / "src/contoso_widgets").mkdir(parents=True)
    (package / "src/contoso_widgets/gears.py").write_text("TEETH = 12\n")
    (package / "README.md").write_text("# Our widgets\n")
    ours = '[project]\nname = "contoso-widgets"\nversion = "2.3.0"\ndependencies = ["attrs"]\n'
    (package / "pyproject.toml").write_text(ours)
    commit_as_new_repository(package, "Our package")
    adopt = command("--overwrite")
    developer = azure_hosts.repos.identity("a developer", **{TEMPLATE.replace("/", "__"): READ})
    machine = signed_in_git({**fresh_machine, **azure_hosts.client_env()}, developer)
    adopted = sh(adopt, package, machine)
    assert adopted.returncode == 0, adopted.stderr
    assert (package / "azure-pipelines.yml").is_file()
    assert (package / "src/contoso_widgets/gears.py").read_text() == "TEETH = 12\n"
    # The team's files stay; the template's overwrite, and git shows them.
    assert (package / "README.md").read_text() == "# Our widgets\n"
    assert git(package, "diff", "--name-only").split() == ["pyproject.toml"]
    git(package, "restore", "--source", "HEAD", "--", "pyproject.toml")
    assert (package / "pyproject.toml").read_text() == ours


def test_renovate_finds_a_release_pushed_to_azure_repos_and_updates_the_project(
    on_azure_repos, template_repo, azure_hosts, tmp_path
):
    project_url, served, env = on_azure_repos
    repos = azure_hosts.repos
    # The platform team releases v2.0.0: it pushes the tag to the template's repository.
    maintainer = repos.identity("platform team", **{TEMPLATE.replace("/", "__"): PUSH})
    template_url = f"https://dev.azure.com/{TEMPLATE.replace('/copier', '/_git/copier')}"
    pushed = subprocess.run(
        ["git", "push", "-q", template_url, "v2.0.0", "main"],
        cwd=template_repo, env=signed_in_git(env, maintainer), capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr

    # Under Microsoft's defaults, the Renovate pipeline's job token reaches only the
    # repositories of its own project that the job references: not the team's project.
    limited = repos.identity("Platform Build Service", **{"contoso__Platform__renovate": READ})
    with pytest.raises(RuntimeError, match="not found"):
        update(project_url, tmp_path / "renovate-limited", env, token=limited)

    # Renovate, as the identity docs/renovate.md sets up: it reads the template, pushes to projects.
    renovate = repos.identity(
        "Renovate", **{TEMPLATE.replace("/", "__"): READ, PROJECT.replace("/", "__"): PUSH}
    )
    result = update(project_url, tmp_path / "renovate", env, token=renovate)
    assert result["newVersion"] == "v2.0.0", result
    assert not any("artifactError" in item for item in result["files"]), result["files"]
    files = changed_files(result)
    assert yaml.safe_load(files[ANSWERS_FILE])["_commit"] == "v2.0.0"
    assert FORMAT_STEP.strip().splitlines()[0].strip() in files["azure-pipelines.yml"]
    assert all(renovate not in (contents or "") for contents in files.values())


def test_renovate_defaults_cannot_update_the_template(project_repository, renovate_env, tmp_path):
    """Without the project's renovate.json, ignoreScripts is true: no --trust, and Copier
    refuses the template. docs/renovate.md tells organizations to allow scripts for this."""
    result = update(
        f"file://{project_repository}",
        tmp_path / "renovate",
        renovate_env,
        repository_config=False,
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


# -- dependency updates from the feed ------------------------------------------------------------


def readme_host_rules(token: str) -> list[dict]:
    """The host rules docs/renovate.md's Renovate pipeline gives, with Renovate's token."""
    steps = yaml.safe_load(yaml_blocks("docs/renovate.md")[0])["steps"]
    (run,) = [step for step in steps if "renovate@" in step.get("script", "")]
    assert run["env"]["RENOVATE_TOKEN"] == "$(RENOVATE_TOKEN)"
    rules = run["env"]["RENOVATE_HOST_RULES"].replace("$(RENOVATE_TOKEN)", token)
    return json.loads(rules)


def test_renovate_updates_a_dependency_from_the_feed_with_uv_lock_and_no_token(
    project_for, feed_server, azure_hosts, uv_env, renovate_env, tmp_path
):
    """Renovate's pep621 manager, signed in to the feed by docs/renovate.md's host rules: it looks
    the team's dependency up on the feed, bumps it, refreshes uv.lock with uv, and leaves
    the template's own pins alone."""
    feed = feed_server.feed("widgets")
    project = project_for(azure_project="Widget Platform", azure_feed="widgets")
    old, new = sorted(
        {pin.split("==")[1] for pin in pins("upstream") if pin.startswith("coverage==")},
        key=lambda version: tuple(map(int, version.split("."))),
    )
    added = run_uv(project, "add", f"coverage=={old}", env=with_feed_token(uv_env, feed.token))
    assert added.returncode == 0, added.stderr
    commit_as_new_repository(project, "Start")

    uv_bin = uv_only(tmp_path / "uv-bin")
    hosts = azure_hosts.client_env()
    env = {
        **renovate_env,
        **hosts,
        "PATH": f"{uv_bin}{os.pathsep}{renovate_env['PATH']}",
        "NODE_EXTRA_CA_CERTS": hosts["SSL_CERT_FILE"],
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON": uv_env["UV_PYTHON"],
    }
    token = feed.identity("Project Collection Build Service", COLLABORATOR)
    result = update(
        f"file://{project}", tmp_path / "renovate", env, manager="pep621",
        host_rules=readme_host_rules(token),
    )  # fmt: skip
    assert result["upgrades"] == [
        {
            "depName": "coverage",
            "currentValue": f"=={old}",
            "newValue": f"=={new}",
            "newVersion": new,
            "groupName": "Python dependencies",
        }
    ]
    off = {d["depName"] for d in result["dependencies"] if d["enabled"] is False}
    assert off == {"python", "uv_build", "mypy"}  # the template's pins
    assert f'"coverage=={new}"' in result["packageFile"]
    files = changed_files(result)
    assert f'name = "coverage"\nversion = "{new}"' in files["uv.lock"]
    assert all(token not in text for text in [result["packageFile"], *files.values()])
