"""What each Azure DevOps host offers a pipeline: Azure DevOps Services (dev.azure.com) or a
release of Azure DevOps Server in the company's own data centre. The runner stands in for one
release (by default the one the project's answers imply: Services, or the oldest server release
the template supports) and refuses, before any job runs, what that release lacks, naming the
release and Microsoft's page:

- a task, or a task's input or input value, that Microsoft's task reference does not list for
  that release (azure_standins/task_reference);

and, on every server release, what the task reference lists but only Services serves:

- Microsoft-hosted agents (`pool: vmImage`): only self-hosted pools;
- pipeline caching (Cache@2): Services only, "not supported on-premises";
- pipeline artifacts (PublishPipelineArtifact@1, DownloadPipelineArtifact@2 and the
  `publish:` and `download:` shortcuts): Services only, use build artifacts instead.
  (`download: none` downloads nothing: it stops a deployment job's automatic download.)
"""

import re
import uuid
from pathlib import Path

import yaml

from azure_standins.rules import applies
from azure_standins.task_reference import MONIKERS, RELEASES, task_problems
from azure_standins.task_reference import SERVICES as SERVICES_RELEASE

# The oldest server release the template supports: the first with every task input its
# pipeline relies on (docs/azure-devops-server.md says why).
SERVER_FLOOR = "azure-pipelines-2022.2"
# The releases the template supports: the server floor and every later one.
SUPPORTED_RELEASES = [m for m in RELEASES if MONIKERS.index(m) >= MONIKERS.index(SERVER_FLOOR)]

SERVICES, SERVER = "Azure DevOps Services", "Azure DevOps Server"
# The same test as copier.yml's azure_services: the feed host of Services.
SERVICES_HOST = re.compile(r"^https?://pkgs[.]dev[.]azure[.]com/?$", re.IGNORECASE)
LEARN = "https://learn.microsoft.com/en-us/azure/devops/pipelines"
SERVER_LACKS_TASKS = {
    "Cache@2": f"{LEARN}/release/caching (Services only; microsoft/azure-pipelines-tasks#13937)",
    "PublishPipelineArtifact@1": f"{LEARN}/tasks/reference/publish-pipeline-artifact-v1",
    "DownloadPipelineArtifact@2": f"{LEARN}/tasks/reference/download-pipeline-artifact-v2",
}
SERVER_LACKS_STEPS = {
    "publish": f"{LEARN}/yaml-schema/steps-publish",
    "download": f"{LEARN}/yaml-schema/steps-download",
}
HOSTED_AGENTS = f"{LEARN}/agents/hosted (Microsoft-hosted agents: Services only)"


class NotOnThisHost(Exception):
    """The pipeline uses a task, step or pool the host does not offer: Azure refuses the
    run, or every run fails at that step."""


def _answers(project: Path) -> dict | None:
    """The project's answers file, read (None when it has none)."""
    answers_file = project / ".copier-answers.yml"
    if not answers_file.is_file():
        return None
    return yaml.safe_load(answers_file.read_text()) or {}


def release_of(project: Path) -> str:
    """The release a project was rendered for, from its answers file (Services without one;
    a server project: the oldest server release the template supports)."""
    answers = _answers(project)
    if answers is None:
        return SERVICES_RELEASE
    on_services = SERVICES_HOST.match(str(answers.get("azure_host", "")))
    return SERVICES_RELEASE if on_services else SERVER_FLOOR


def collection_of(project: Path) -> dict[str, str]:
    """System.CollectionUri and System.TeamProject for the project's answers: dev.azure.com and
    the organization on Services, the server's URL and collection otherwise; the feed's
    project, or "Pipelines" for an organization-scoped feed (whose project is not asked)."""
    answers = _answers(project) or {}
    organization = answers.get("azure_organization", "contoso")
    host = str(answers.get("azure_host", "https://pkgs.dev.azure.com")).rstrip("/")
    base = "https://dev.azure.com" if SERVICES_HOST.match(host) else host
    project = answers.get("azure_project") or "Pipelines"
    project_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/{organization}/{project}")
    return {
        "System.CollectionUri": f"{base}/{organization}/",
        "System.TeamProject": project,
        "System.TeamProjectId": str(project_id),
        "Build.RequestedForId": "5a0b8b1e-0000-4000-8000-00000000c0de",
    }


def host_name(release: str) -> str:
    return SERVICES if release == SERVICES_RELEASE else SERVER


def check_step(release: str, step: dict) -> None:
    if "task" in step and applies("hosts.task-reference"):
        problems = task_problems(step["task"], step.get("inputs") or {}, release)
        if problems:
            raise NotOnThisHost("; ".join(problems))
    if release == SERVICES_RELEASE or not applies("hosts.server-features"):
        return
    if step.get("task") in SERVER_LACKS_TASKS:
        task = step["task"]
        raise NotOnThisHost(f"{task} is not on {RELEASES[release]}: {SERVER_LACKS_TASKS[task]}")
    for key, page in SERVER_LACKS_STEPS.items():
        if key in step and step != {"download": "none"}:
            raise NotOnThisHost(f"the `{key}:` step is not on {RELEASES[release]}: {page}")


def check_pool(release: str, pool: dict) -> None:
    if release != SERVICES_RELEASE and "vmImage" in pool and applies("hosts.server-features"):
        raise NotOnThisHost(
            f"pool vmImage {pool['vmImage']!r} is not on {RELEASES[release]}: {HOSTED_AGENTS}"
        )
