"""What the set-up needs of a project's answers, and the URLs of its organization's APIs."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml

SERVICES_HOST = "dev.azure.com"


class Refused(Exception):
    """Input the set-up cannot work from, with what to give instead."""


@dataclass(frozen=True)
class Team:
    """One team's project on Azure DevOps, as its answers and the command line give it."""

    organization_url: str
    project: str
    feed_project: str
    feed: str
    repository: str
    build_pipeline: str
    publish: bool
    release_connection: str = ""
    container_registry_connection: str = ""
    agent_pool: str = ""
    release_pool: str = ""
    release_identity: str = ""
    approvers: tuple[str, ...] = ()

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
        """The identity the team's pipelines run as: their project's build service (jobs are
        scoped to their project, the default for new projects)."""
        return f"{self.project} Build Service ({self.organization})"


def read_team(
    answers_file: Path,
    organization_url: str,
    *,
    project: str = "",
    release_identity: str = "",
    approvers: tuple[str, ...] = (),
) -> Team:
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    missing = [key for key in ("distribution_name", "azure_feed") if not answers.get(key)]
    if missing:
        raise Refused(f"{answers_file} has no {', '.join(missing)}: give a project's answers file.")
    feed_project = answers.get("azure_project") or ""
    if not (project or feed_project):
        raise Refused(
            f"{answers_file} names no azure_project (an organization-scoped feed): give the "
            "team's project, where its repository and pipelines live, with --project."
        )
    if not urlsplit(organization_url).scheme.startswith("http"):
        raise Refused(
            "--organization must be a URL, e.g. https://dev.azure.com/contoso "
            f"(got {organization_url})."
        )
    return Team(
        organization_url=organization_url.rstrip("/"),
        project=project or feed_project,
        feed_project=feed_project,
        feed=answers["azure_feed"],
        repository=answers["distribution_name"],
        build_pipeline=answers.get("build_pipeline") or answers["distribution_name"],
        publish=bool(answers.get("publish", True)),
        release_connection=answers.get("release_connection") or "",
        container_registry_connection=(
            answers.get("container_registry_connection") or ""
            if answers.get("project_kind") == "application"
            else ""
        ),
        agent_pool=answers.get("agent_pool") or "",
        release_pool=answers.get("release_pool") or "",
        release_identity=release_identity,
        approvers=approvers,
    )


PREVIEW = "-preview.1"


@dataclass(frozen=True)
class Hosts:
    """The base URLs and api-versions of one organization or collection: 7.1 on Azure DevOps
    Services, 7.0 on Azure DevOps Server 2022 (MicrosoftDocs/vsts-rest-api-specs)."""

    team: Team

    def api(self, service: str, route: str, version: str = "", **query: str) -> str:
        """`route` under the service's base (core, feeds or identities), with its api-version."""
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
        pairs = [
            *(f"{quote(key)}={segment(value)}" for key, value in query.items()),
            f"api-version={number}{version}",
        ]
        return f"{base}/{route}?{'&'.join(pairs)}"

    def project(self, service: str, route: str, version: str = "", **query: str) -> str:
        """`route` under the team's project."""
        return self.api(service, f"{segment(self.team.project)}/{route}", version, **query)

    def feeds(self, route: str = "") -> str:
        """`route` under the feeds of the feed's project (none: organization-scoped)."""
        team = self.team
        scope = f"{segment(team.feed_project)}/" if team.feed_project else ""
        return self.api("feeds", f"{scope}_apis/packaging/Feeds{route}")

    def feed(self, route: str = "") -> str:
        """`route` under the team's feed."""
        return self.feeds(f"/{segment(self.team.feed)}{route}")


def segment(value: object) -> str:
    """A value for a URL, percent-encoded; a placeholder (`<...>`, an id not read yet) is
    left as it is, for a person to read."""
    text = str(value)
    return text if text.startswith("<") else quote(text, safe="")
