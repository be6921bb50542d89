"""scripts/set_up_team.py sets up a team's Azure DevOps from its project's answers, and a
second run changes nothing; --check reports each drift from that set-up. Run against the
REST stand-in (azure_standins/devops_api.py), which answers only the calls of Microsoft's
specification, in the api-version of its host."""

import http.client
import shlex
import shutil
import subprocess
import sys

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.devops_api import DevOpsApi
from azure_standins.template_facts import EXAMPLE_SERVER_ANSWERS, TEMPLATE_ROOT
from tests.fake_commands import executable
from tests.pages import commands
from tests.rendering import load_module

PAT = "platform-engineers-pat"
# The platform checklist's names.
RELEASE_IDENTITY = "Widgets Release"
APPROVERS = "Widget Releasers"
PIPELINE_FILES = ("azure-pipelines.yml", ".azure-pipelines/release.yml")


def organization(project: str, collection: str = "") -> DevOpsApi:
    """An organization (or a server's collection) with the team's project, the release
    identity, the approvers' group, and what a person makes by hand: the release connection
    and the release pool."""
    name = collection.rsplit("/", 1)[-1] if collection else "contoso"
    api = DevOpsApi(organization=name, collection=collection, credentials={PAT})
    api.add_project(project)
    api.add_identity(RELEASE_IDENTITY)
    api.add_identity(APPROVERS, group=True)
    api.add_endpoint(project, "contoso-widgets-publish")
    api.add_queue(project, "Release")
    api.add_queue(project, "Default")
    return api


@pytest.fixture
def server_project(render):
    return render(
        publish=True, agent_pool="Default", release_pool="Release", **EXAMPLE_SERVER_ANSWERS
    )


def set_up_team(clone, env, answers, url, *flags) -> subprocess.CompletedProcess:
    """The command as the platform checklist gives it, for this organization."""
    line = ["uv", "run", "scripts/set_up_team.py", "--answers", str(answers),
            "--organization", url, "--release-identity", RELEASE_IDENTITY,
            "--approver", APPROVERS, *flags]  # fmt: skip
    return subprocess.run(line, cwd=clone, env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT)  # fmt: skip


@pytest.fixture
def clone(tmp_path):
    """The template's scripts, as a clone of its repository has them."""
    clone = tmp_path / "copier-uv-azure"
    shutil.copytree(TEMPLATE_ROOT / "scripts", clone / "scripts")
    return clone


@pytest.fixture
def server(server_project, fresh_machine):
    """A server's collection, served; the platform engineer's shell, with a PAT; the team's
    answers file."""
    api = organization("R and D", collection="tfs/DefaultCollection")
    env = {**fresh_machine, "AZURE_DEVOPS_EXT_PAT": PAT}
    with api.serving() as url:
        yield api, env, server_project / ".copier-answers.yml", url


def test_a_servers_team_is_set_up_in_two_runs_and_a_third_changes_nothing(server, clone):
    api, env, answers, url = server
    first = set_up_team(clone, env, answers, url)
    assert first.returncode == 0, first.stderr
    # The feed reads PyPI; the build service reads the feed; the release identity alone
    # publishes. The pipelines wait for the project's push.
    (feed,) = api.feeds.values()
    assert feed["name"] == "Widgets.Internal" and feed["upstreamSources"][0]["protocol"] == "pypi"
    roles = {api_name(api, g["identityDescriptor"]): g["role"] for g in feed["permissions"]}
    assert roles == {"R and D Build Service (DefaultCollection)": "collaborator",
                     RELEASE_IDENTITY: "contributor"}  # fmt: skip
    assert api.pipelines == []
    assert "by hand: Push the rendered project" in first.stdout

    api.push("contoso-widgets", *PIPELINE_FILES)
    second = set_up_team(clone, env, answers, url)
    assert second.returncode == 0, second.stderr
    assert sorted(p["name"] for p in api.pipelines) == [
        "contoso-widgets",
        "contoso-widgets-release",
    ]
    build, release = sorted(api.pipelines, key=lambda p: p["name"])
    (policy,) = api.policies
    assert policy["isBlocking"] and policy["settings"]["buildDefinitionId"] == build["id"]
    assert all(settings["enforceSettableVar"] for settings in api.settings.values())
    kinds = sorted((c["resource"]["type"], c["type"]["name"]) for c in api.checks)
    assert kinds == [("endpoint", "Task Check"), ("environment", "Approval"),
                     ("environment", "ExclusiveLock"), ("environment", "Task Check"),
                     ("queue", "Task Check")]  # fmt: skip
    approval = next(c for c in api.checks if c["type"]["name"] == "Approval")
    assert approval["settings"]["requesterCannotBeApprover"] is True
    assert approval["settings"]["approvers"] == [{"id": api.identity(APPROVERS)["id"]}]
    # The release's three resources are the release pipeline's alone; the build's pool lets
    # the build in too.
    default = next(q["id"] for q in api.queues if q["name"] == "Default")
    assert len(api.permissions) == 4
    for (_, kind, resource), permitted in api.permissions.items():
        pipeline = build if (kind, resource) == ("queue", str(default)) else release
        assert permitted["allPipelines"] == {"authorized": False}
        assert permitted["pipelines"] == [{"id": pipeline["id"], "authorized": True}]
    # main's first build is queued: its success starts the first release.
    assert [run["pipeline"] for run in api.runs] == [build["id"]]
    assert "by hand" not in second.stdout

    writes = len(api.writes())
    third = set_up_team(clone, env, answers, url)
    assert third.returncode == 0, third.stderr
    assert len(api.writes()) == writes, api.writes()[writes:]
    check = set_up_team(clone, env, answers, url, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "set up as intended" in check.stdout


def api_name(api: DevOpsApi, descriptor: str) -> str:
    (found,) = [i for i in api.identities if i["descriptor"] == descriptor]
    return found["providerDisplayName"]


def test_check_reports_each_drift_changes_nothing_and_a_run_sets_it_right(server, clone):
    api, env, answers, url = server
    set_up_team(clone, env, answers, url)
    api.push("contoso-widgets", *PIPELINE_FILES)
    assert set_up_team(clone, env, answers, url).returncode == 0
    # What a week of hand edits does.
    (feed,) = api.feeds.values()
    build_service = api.identity("R and D Build Service (DefaultCollection)")["descriptor"]
    for grant in feed["permissions"]:
        if grant["identityDescriptor"] == build_service:
            grant["role"] = "contributor"
    for settings in api.settings.values():
        settings["enforceSettableVar"] = False
    api.checks = [c for c in api.checks if c["type"]["name"] != "ExclusiveLock"]
    next(c for c in api.checks if c["type"]["name"] == "Approval")["settings"][
        "requesterCannotBeApprover"] = False  # fmt: skip
    release_pool = next(q["id"] for q in api.queues if q["name"] == "Release")
    pool = next(key for key in api.permissions if key[1:] == ("queue", str(release_pool)))
    api.permissions[pool]["allPipelines"] = {"authorized": True}
    writes = len(api.writes())

    check = set_up_team(clone, env, answers, url, "--check")
    assert check.returncode == 1
    drift = [line for line in check.stdout.splitlines() if line.startswith("drift: ")]
    assert len(drift) == 5, check.stdout
    for expected in ("R and D Build Service (DefaultCollection) is contributor",
                     "no Exclusive lock check on the environment",
                     "Approval check on the environment",
                     "queue Release is open to all pipelines",
                     "Limit variables that can be set at queue time is off"):  # fmt: skip
        assert any(expected in line for line in drift), (expected, drift)
    assert len(api.writes()) == writes

    assert set_up_team(clone, env, answers, url).returncode == 0
    again = set_up_team(clone, env, answers, url, "--check")
    assert again.returncode == 0, again.stdout


def test_a_wrong_pat_is_refused_with_what_to_do_and_no_traceback(
    server_project, clone, fresh_machine
):
    api = organization("R and D", collection="tfs/DefaultCollection")
    env = {**fresh_machine, "AZURE_DEVOPS_EXT_PAT": "expired"}
    with api.serving() as url:
        ran = set_up_team(clone, env, server_project / ".copier-answers.yml", url)
    assert ran.returncode == 2
    assert "401" in ran.stderr and "Project Administrators" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert api.writes() == []


def test_on_services_the_checklists_commands_sign_in_as_az_does_and_reach_each_host(
    render, tmp_path, monkeypatch, capsys
):
    """The platform checklist's commands, as written, in a clone with the project beside it.
    Services' three hosts (dev.azure.com, feeds.dev.azure.com, vssps.dev.azure.com) reach the
    stand-in under their own names (the Host header): a call sent to the wrong one would be a
    404, as on Azure. The token is the one `az` gives."""
    clone, project = tmp_path / "copier-uv-azure", tmp_path / "contoso-widgets"
    clone.mkdir()
    shutil.copytree(render(publish=True, azure_project="Widget Platform"), project)
    api = organization("Widget Platform")
    token = "entra-token-of-the-signed-in-engineer"
    api.credentials = {token}
    az = tmp_path / "bin/az"
    executable(az, f"#!{sys.executable}\nprint({token!r})\n")
    monkeypatch.setenv("PATH", f"{az.parent}:/usr/bin:/bin")
    monkeypatch.delenv("AZURE_DEVOPS_EXT_PAT", raising=False)
    monkeypatch.chdir(clone)
    monkeypatch.syspath_prepend(str(TEMPLATE_ROOT / "scripts"))
    main = load_module(TEMPLATE_ROOT / "scripts/set_up_team.py").main
    set_up, check = (
        shlex.split(line)[3:]
        for ending in ("", " --check")
        for line in commands()
        if line.startswith("uv run scripts/set_up_team.py")
        and line.endswith(f'--approver "{APPROVERS}"{ending}')
    )
    with api.serving() as url:
        port = int(url.split(":")[2].split("/")[0])

        def connect(parts):
            return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        assert main(set_up, connect) == 0
        api.push("contoso-widgets", *PIPELINE_FILES)
        assert main(set_up, connect) == 0
        assert main(check, connect) == 0
    assert "set up as intended" in capsys.readouterr().out
    assert {call[1].split("/")[0] for call in api.calls} == {
        "dev.azure.com", "feeds.dev.azure.com", "vssps.dev.azure.com"
    }  # fmt: skip
    assert len(api.checks) == 4  # no release pool: the release runs on Microsoft-hosted agents


def test_an_applications_registry_connection_gets_branch_control_and_the_build_alone(
    render, clone, fresh_machine
):
    """The Docker registry connection a person creates: Branch control for main, permitted
    to the build pipeline alone; until it exists, a by-hand line says how to create it."""
    project = render(
        project_kind="application", publish=False, agent_pool="Default",
        **EXAMPLE_SERVER_ANSWERS,
    )  # fmt: skip
    api = organization("R and D", collection="tfs/DefaultCollection")
    env = {**fresh_machine, "AZURE_DEVOPS_EXT_PAT": PAT}
    answers = project / ".copier-answers.yml"
    with api.serving() as url:
        set_up_team(clone, env, answers, url)
        api.push("contoso-widgets", *PIPELINE_FILES)
        missing = set_up_team(clone, env, answers, url)
        assert missing.returncode == 0, missing.stderr
        assert "by hand: Create the service connection 'contoso-widgets-registry'" in (
            missing.stdout
        )
        registry = api.add_endpoint("R and D", "contoso-widgets-registry")
        made = set_up_team(clone, env, answers, url)
        assert made.returncode == 0, made.stderr
        (build,) = api.pipelines
        (check,) = [c for c in api.checks if c["resource"]["id"] == registry["id"]]
        assert check["settings"]["inputs"]["allowedBranches"] == "refs/heads/main"
        permitted = api.permissions[(api.projects["r and d"]["id"], "endpoint", registry["id"])]
        assert permitted["allPipelines"] == {"authorized": False}
        assert permitted["pipelines"] == [{"id": build["id"], "authorized": True}]
        check_run = set_up_team(clone, env, answers, url, "--check")
        assert check_run.returncode == 0, check_run.stdout
