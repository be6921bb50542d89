"""The REST calls the pages give (```http blocks: a request line, then its JSON body) are
what Microsoft's published REST specification has: the method and path on that host, its
api-version, its query parameters and its body's fields (azure_standins/rest_reference,
read from MicrosoftDocs/vsts-rest-api-specs)."""

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.pipeline.hosts import collection_of
from azure_standins.rest_reference import problems
from azure_standins.template_facts import EXAMPLE_SERVER_ANSWERS, TEMPLATE_ROOT
from tests.pages import PAGES, command
from tests.rendering import load_module
from tests.shells import code_blocks

REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (https://\S+)$")


def requests_in(text: str) -> list[tuple[str, str, object]]:
    """(method, URL, body or None) of each request in the text's http blocks."""
    found = []
    for block in code_blocks(text):
        if block.language != "http":
            continue
        for line in block.lines:
            request = REQUEST.match(line.strip())
            if request:
                found.append([request[1], request[2], []])
            elif line.strip():
                assert found, f"a body before any request: {line}"
                found[-1][2].append(line)
    return [(m, url, json.loads("\n".join(body)) if body else None) for m, url, body in found]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_rest_call_in_the_pages_is_in_microsofts_specification(path):
    found = {
        f"{method} {url}": problems(method, url, body)
        for method, url, body in requests_in(path.read_text(encoding="utf-8"))
    }
    assert {call: wrong for call, wrong in found.items() if wrong} == {}


def test_the_check_finds_a_wrong_api_version_field_or_path():
    url = (
        "https://feeds.dev.azure.com/contoso/Widget%20Platform/_apis/packaging/Feeds/widgets/"
        "permissions?api-version=7.1"
    )
    assert problems("PATCH", url, [{"identityDescriptor": "x", "role": "reader"}]) == []
    assert problems("PATCH", url.replace("api-version=7.1", "api-version=6.0"), None)
    assert problems("PATCH", url, [{"identityDescriptor": "x", "rolle": "reader"}])
    assert problems("PATCH", url.replace("/permissions", "/permission"), None)


@pytest.mark.parametrize(
    ("answers", "collection"),
    [({"azure_project": "Widget Platform"}, ""), (EXAMPLE_SERVER_ANSWERS, "tfs/DefaultCollection")],
    ids=["services", "server"],
)
def test_the_release_scripts_calls_are_in_the_specification_of_their_host(
    render, answers, collection, monkeypatch
):
    """The release asks Azure for a run's record and the feed's packages, and adds leases,
    in the api-version its host serves: 7.1 on Services, 7.0 on Azure DevOps Server 2022.
    (The specification has the package list under a project only: an organization-scoped
    feed's, without one, is left to Azure.)"""
    project = render(publish=True, **answers)
    scripts = project / ".azure-pipelines"
    monkeypatch.syspath_prepend(str(scripts))
    release = load_module(scripts / "release.py")
    keep = load_module(scripts / "keep_release_run.py")
    where = collection_of(project)
    base, name = where["System.CollectionUri"], where["System.TeamProject"]
    index_url = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["index"][0]
    calls = [
        ("GET", release.run_record_url(base, name, "12")),
        ("GET", release.packages_url(index_url["url"], "contoso-widgets")),
        ("POST", keep.leases_url(base, name)),
    ]
    for method, url in calls:
        assert problems(method, url, None, collection) == [], url


def dry_run(line: str, cwd: Path, env: dict) -> list[tuple[str, str, object]]:
    """The set-up command's plan, as its --dry-run prints it: (method, URL, body)."""
    ran = subprocess.run(
        shlex.split(line), cwd=cwd, env=env, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    calls: list[list] = []
    for output in ran.stdout.splitlines():
        request = REQUEST.match(output)
        if request:
            calls.append([request[1], request[2], None])
        else:
            calls[-1][2] = json.loads(output)
    return [tuple(call) for call in calls]


@pytest.mark.parametrize(
    ("answers", "organization", "collection"),
    [
        ({"azure_project": "Widget Platform"}, "https://dev.azure.com/contoso", ""),
        (
            EXAMPLE_SERVER_ANSWERS,
            "https://devops.contoso.com/tfs/DefaultCollection",
            "tfs/DefaultCollection",
        ),
    ],
    ids=["services", "server"],
)
def test_the_set_up_commands_dry_run_makes_only_calls_of_the_specification(
    render, fresh_machine, answers, organization, collection, tmp_path
):
    """Offline and signed in nowhere, it prints each call; each is one Microsoft's
    specification has for that host, and the build service never gets more than
    Collaborator."""
    # The platform checklist's command, as written, in a clone with the project beside it.
    line = command('--approver "Widget Releasers" --dry-run')
    clone, project = tmp_path / "copier-uv-azure", tmp_path / "contoso-widgets"
    shutil.copytree(TEMPLATE_ROOT / "scripts", clone / "scripts")
    shutil.copytree(render(publish=True, **answers), project)
    line = line.replace("https://dev.azure.com/contoso", organization)
    calls = dry_run(line, clone, fresh_machine)
    assert len(calls) > 15
    for method, url, body in calls:
        assert problems(method, url, body, collection) == [], (method, url, body)
    roles = [body for method, url, body in calls if method == "PATCH" and "/packaging/" in url]
    assert [[grant["role"] for grant in body] for body in roles] == [
        ["collaborator", "contributor"]  # the build service reads; the release identity publishes
    ]
    assert any(
        body and body.get("settings", {}).get("requesterCannotBeApprover")
        for _, _, body in calls
        if isinstance(body, dict)
    )
