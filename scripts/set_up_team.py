# /// script
# requires-python = ">=3.11"
# dependencies = ["pyyaml>=6"]
# ///
"""Set up a team's Azure DevOps for a project rendered from copier-uv-azure.

Usage (in the template's repository):
    uv run scripts/set_up_team.py --answers <project>/.copier-answers.yml
        --organization <URL> --dry-run

`--organization` is the organization's URL (https://dev.azure.com/contoso) or, on Azure DevOps
Server, the collection's (https://devops.contoso.com/tfs/DefaultCollection).

This release plans the set-up: `--dry-run` makes no connection and needs no sign-in. It
prints each call the set-up makes, in order, as a line `METHOD URL` and, for a call that
sends one, its JSON body on the next line. A value that must be read from an earlier
call's answer is a placeholder, `<...>`. The calls are those of Microsoft's REST
specification (MicrosoftDocs/vsts-rest-api-specs), in the api-version each host serves: 7.1
on Azure DevOps Services, 7.0 on Azure DevOps Server 2022.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml

SERVICES_HOST = "dev.azure.com"
# Microsoft's ids: the Build Validation policy type ("Build") and the Approval check type, as
# Microsoft's examples of these calls send them (MicrosoftDocs/vsts-rest-api-specs,
# httpExamples); the task check type, the branch control task (evaluatebranchProtection) and
# the Exclusive lock check type, as Microsoft's Terraform provider for Azure DevOps sends them
# (azuredevops_check_branch_control, azuredevops_check_exclusive_lock).
BUILD_VALIDATION = "0609b952-1397-4640-95ec-e00a01b2c241"
APPROVAL = "8c6f20a7-a545-4486-9777-f762fafe0d4d"
TASK_CHECK = "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7"
BRANCH_CONTROL_TASK = "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b"
EXCLUSIVE_LOCK = "2ef31ad6-baa0-403a-8b45-2cbc9b4e5563"


class Refused(Exception):
    """Input the set-up cannot work from, with what to give instead."""


@dataclass(frozen=True)
class Team:
    """What the set-up needs of a project's answers, and where its organization is."""

    organization_url: str
    project: str
    feed: str
    repository: str
    build_pipeline: str
    publish: bool
    release_connection: str = ""
    release_pool: str = ""

    @property
    def services(self) -> bool:
        return urlsplit(self.organization_url).hostname == SERVICES_HOST

    @property
    def organization(self) -> str:
        return self.organization_url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def release_pipeline(self) -> str:
        return f"{self.repository}-release"

    @property
    def environment(self) -> str:
        return f"{self.repository}-release"

    @property
    def build_service(self) -> str:
        return f"{self.project} Build Service ({self.organization})"


def read_team(answers_file: Path, organization_url: str) -> Team:
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    missing = [key for key in ("distribution_name", "azure_feed") if not answers.get(key)]
    if missing:
        raise Refused(f"{answers_file} has no {', '.join(missing)}: give a project's answers file.")
    if not answers.get("azure_project"):
        raise Refused(
            f"{answers_file} names no azure_project (an organization-scoped feed): the team's "
            "project is not known. Render the project with --data azure_project=<its project>."
        )
    if not urlsplit(organization_url).scheme.startswith("http"):
        raise Refused(
            "--organization must be a URL, e.g. https://dev.azure.com/contoso "
            f"(got {organization_url})."
        )
    return Team(
        organization_url=organization_url.rstrip("/"),
        project=answers["azure_project"],
        feed=answers["azure_feed"],
        repository=answers["distribution_name"],
        build_pipeline=answers.get("build_pipeline") or answers["distribution_name"],
        publish=bool(answers.get("publish", True)),
        release_connection=answers.get("release_connection") or "",
        release_pool=answers.get("release_pool") or "",
    )


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: object = None

    def shown(self) -> str:
        line = f"{self.method} {self.url}"
        return line if self.body is None else f"{line}\n{json.dumps(self.body)}"


@dataclass
class Hosts:
    """The base URLs and api-versions of one organization or collection."""

    team: Team

    def api(self, service: str, path: str, version: str = "", **query: str) -> str:
        """`path` under the service's base (core, feeds or identities), with its api-version."""
        team = self.team
        if team.services:
            host = {
                "core": "dev.azure.com",
                "feeds": "feeds.dev.azure.com",
                "identities": "vssps.dev.azure.com",
            }[service]
            base = f"https://{host}/{quote(team.organization)}"
        else:
            base = team.organization_url
        number = "7.1" if team.services else "7.0"
        api_version = f"{number}{version}"
        pairs = [
            *(f"{key}={quote(value)}" for key, value in query.items()),
            f"api-version={api_version}",
        ]
        return f"{base}/{path}?{'&'.join(pairs)}"

    def project(self, service: str, path: str, version: str = "", **query: str) -> str:
        return self.api(service, f"{quote(self.team.project)}/{path}", version, **query)


PREVIEW = "-preview.1"


def plan(team: Team) -> list[Call]:
    """Every call of the set-up, in order."""
    hosts = Hosts(team)
    feed = quote(team.feed)
    calls = [
        Call("GET", hosts.api("core", f"_apis/projects/{quote(team.project)}")),
        # The feed, with PyPI as its upstream source.
        Call("GET", hosts.project("feeds", f"_apis/packaging/feeds/{feed}")),
        Call(
            "POST",
            hosts.project("feeds", "_apis/packaging/feeds"),
            {
                "name": team.feed,
                "upstreamEnabled": True,
                "upstreamSources": [
                    {
                        "name": "PyPI",
                        "protocol": "pypi",
                        "location": "https://pypi.org/",
                        "upstreamSourceType": "public",
                    }
                ],
            },
        ),
        # The roles: the build service reads (Collaborator), never more. Feed permissions take
        # identity descriptors, which the Identities API gives, not Graph's subject ones.
        Call(
            "GET",
            hosts.api(
                "identities",
                "_apis/identities",
                searchFilter="General",
                filterValue=team.build_service,
            ),
        ),
        Call("GET", hosts.project("feeds", f"_apis/packaging/Feeds/{feed}/permissions")),
        Call(
            "PATCH",
            hosts.project("feeds", f"_apis/packaging/Feeds/{feed}/permissions"),
            [
                {
                    "identityDescriptor": f"<identity descriptor of {team.build_service}>",
                    "role": "collaborator",
                }
            ],
        ),
        # The repository, and the pipelines that build it.
        Call("GET", hosts.project("core", f"_apis/git/repositories/{quote(team.repository)}")),
        Call(
            "POST",
            hosts.project("core", "_apis/git/repositories"),
            {"name": team.repository, "project": {"id": "<project id>"}},
        ),
        Call("GET", hosts.project("core", "_apis/pipelines")),
        pipeline(hosts, team.build_pipeline, "azure-pipelines.yml"),
        # Pull requests are built by a Build Validation policy on main.
        Call(
            "POST",
            hosts.project("core", "_apis/policy/configurations"),
            {
                "isEnabled": True,
                "isBlocking": True,
                "type": {"id": BUILD_VALIDATION},
                "settings": {
                    "buildDefinitionId": f"<pipeline id of {team.build_pipeline}>",
                    "displayName": "Build",
                    "manualQueueOnly": False,
                    "queueOnSourceUpdateOnly": False,
                    "validDuration": 720,
                    "scope": [
                        {
                            "repositoryId": "<repository id>",
                            "refName": "refs/heads/main",
                            "matchKind": "Exact",
                        }
                    ],
                },
            },
        ),
        # Queue-time variables limited to those marked settable (docs/security.md).
        Call("GET", hosts.project("core", "_apis/build/generalsettings")),
        Call(
            "PATCH",
            hosts.project("core", "_apis/build/generalsettings"),
            {"enforceSettableVar": True},
        ),
    ]
    if team.publish:
        calls += release_calls(hosts, team)
    return calls


def pipeline(hosts: Hosts, name: str, yaml_path: str) -> Call:
    return Call(
        "POST",
        hosts.project("core", "_apis/pipelines"),
        {
            "name": name,
            "folder": "\\",
            "configuration": {
                "type": "yaml",
                "path": yaml_path,
                "repository": {"id": "<repository id>", "type": "azureReposGit"},
            },
        },
    )


def release_calls(hosts: Hosts, team: Team) -> list[Call]:
    """The release pipeline, its environment and checks, and who may use its resources."""
    environment = "<environment id>"
    checks = hosts.project("core", "_apis/pipelines/checks/configurations", PREVIEW)
    main_only = {
        "type": {"id": TASK_CHECK, "name": "Task Check"},
        "settings": {
            "definitionRef": {
                "id": BRANCH_CONTROL_TASK,
                "name": "evaluatebranchProtection",
                "version": "0.0.1",
            },
            "displayName": "Branch control",
            "inputs": {"allowedBranches": "refs/heads/main", "ensureProtectionOfBranch": "true"},
            "retryInterval": 5,
        },
        "timeout": 1440,
    }
    calls = [
        pipeline(hosts, team.release_pipeline, ".azure-pipelines/release.yml"),
        Call(
            "GET",
            hosts.project("core", "_apis/distributedtask/environments", name=team.environment),
        ),
        Call(
            "POST",
            hosts.project("core", "_apis/distributedtask/environments"),
            {
                "name": team.environment,
                "description": f"Releases of {team.repository} to {team.feed}",
            },
        ),
        Call(
            "GET",
            hosts.project(
                "core",
                "_apis/pipelines/checks/configurations",
                PREVIEW,
                resourceType="environment",
                resourceId=environment,
            ),
        ),
        Call(
            "POST",
            checks,
            {
                "type": {"id": APPROVAL, "name": "Approval"},
                "settings": {
                    "approvers": [{"id": "<approver id>"}],
                    "executionOrder": "anyOrder",
                    "minRequiredApprovers": 1,
                    "requesterCannotBeApprover": True,
                    "blockedApprovers": [],
                },
                "resource": {"type": "environment", "id": environment},
                "timeout": 43200,
            },
        ),
        Call("POST", checks, {**main_only, "resource": {"type": "environment", "id": environment}}),
        Call(
            "POST",
            checks,
            {
                "type": {"id": EXCLUSIVE_LOCK, "name": "ExclusiveLock"},
                "settings": {},
                "resource": {"type": "environment", "id": environment},
                "timeout": 43200,
            },
        ),
        # The connection and the pool: Branch control for main, and the release pipeline alone.
        Call(
            "GET",
            hosts.project(
                "core", "_apis/serviceendpoint/endpoints", endpointNames=team.release_connection
            ),
        ),
        Call(
            "POST",
            checks,
            {**main_only, "resource": {"type": "endpoint", "id": "<service connection id>"}},
        ),
    ]
    permitted = {
        "allPipelines": {"authorized": False},
        "pipelines": [{"id": f"<pipeline id of {team.release_pipeline}>", "authorized": True}],
    }
    resources = [("environment", environment), ("endpoint", "<service connection id>")]
    if team.release_pool:
        queue = f"<queue id of {team.release_pool}>"
        calls.append(
            Call(
                "GET",
                hosts.project("core", "_apis/distributedtask/queues", queueName=team.release_pool),
            )
        )
        calls.append(
            Call("POST", checks, {**main_only, "resource": {"type": "queue", "id": queue}})
        )
        resources.append(("queue", queue))
    for kind, resource in resources:
        calls.append(
            Call(
                "PATCH",
                hosts.project(
                    "core", f"_apis/pipelines/pipelinepermissions/{kind}/{quote(resource)}", PREVIEW
                ),
                permitted,
            )
        )
    return calls


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--answers", type=Path, required=True, help="the project's .copier-answers.yml"
    )
    parser.add_argument(
        "--organization", required=True, help="the organization's or collection's URL"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the calls; connect to nothing"
    )
    options = parser.parse_args(argv)
    if not options.dry_run:
        print(
            "Only --dry-run is available in this release: it prints the calls to make.",
            file=sys.stderr,
        )
        return 2
    try:
        team = read_team(options.answers, options.organization)
    except (Refused, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for call in plan(team):
        print(call.shown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
