"""What each Azure DevOps host offers a pipeline: Azure DevOps Services (dev.azure.com) or an
Azure DevOps Server in the company's own data centre. The runner stands in for the host the
project was rendered for (its answers file says which) and refuses, before any job runs, what
that host lacks, naming the page that says so.

Azure DevOps Server, from 2022.0 (the oldest release the template supports) lacks:

- Microsoft-hosted agents (`pool: vmImage`): only self-hosted pools;
- pipeline caching (Cache@2): Services only, "not supported on-premises";
- pipeline artifacts (PublishPipelineArtifact@1, DownloadPipelineArtifact@2 and the
  `publish:` and `download:` shortcuts): Services only, use build artifacts instead.
  (`download: none` downloads nothing: it stops a deployment job's automatic download.)
- PublishCodeCoverageResults@2, which needs Azure DevOps Server 2022.1.
"""

import re
from pathlib import Path

import yaml

from azure_standins.rules import applies

SERVICES, SERVER = "Azure DevOps Services", "Azure DevOps Server"
# The same test as copier.yml's azure_services: the feed host of Services.
SERVICES_HOST = re.compile(r"^https?://pkgs[.]dev[.]azure[.]com/?$", re.IGNORECASE)
LEARN = "https://learn.microsoft.com/en-us/azure/devops/pipelines"
SERVER_LACKS_TASKS = {
    "Cache@2": f"{LEARN}/release/caching (Services only; microsoft/azure-pipelines-tasks#13937)",
    "PublishPipelineArtifact@1": f"{LEARN}/tasks/reference/publish-pipeline-artifact-v1",
    "DownloadPipelineArtifact@2": f"{LEARN}/tasks/reference/download-pipeline-artifact-v2",
    "PublishCodeCoverageResults@2": f"{LEARN}/tasks/reference/publish-code-coverage-results-v2"
    " (Azure DevOps Server 2022.1 and later)",
}
SERVER_LACKS_STEPS = {
    "publish": f"{LEARN}/yaml-schema/steps-publish",
    "download": f"{LEARN}/yaml-schema/steps-download",
}
HOSTED_AGENTS = f"{LEARN}/agents/hosted (Microsoft-hosted agents: Services only)"


class NotOnThisHost(Exception):
    """The pipeline uses a task, step or pool the host does not offer: Azure refuses the
    run, or every run fails at that step."""


def host_of(project: Path) -> str:
    """The host a project was rendered for, from its answers file (Services without one)."""
    answers_file = project / ".copier-answers.yml"
    if not answers_file.is_file():
        return SERVICES
    answers = yaml.safe_load(answers_file.read_text()) or {}
    return SERVICES if SERVICES_HOST.match(str(answers.get("azure_host", ""))) else SERVER


def check_step(host: str, step: dict) -> None:
    if host != SERVER or not applies("hosts.server-features"):
        return
    if step.get("task") in SERVER_LACKS_TASKS:
        task = step["task"]
        raise NotOnThisHost(f"{task} is not on {SERVER}: {SERVER_LACKS_TASKS[task]}")
    for key, page in SERVER_LACKS_STEPS.items():
        if key in step and step != {"download": "none"}:
            raise NotOnThisHost(f"the `{key}:` step is not on {SERVER}: {page}")


def check_pool(host: str, pool: dict) -> None:
    if host == SERVER and "vmImage" in pool and applies("hosts.server-features"):
        raise NotOnThisHost(f"pool vmImage {pool['vmImage']!r} is not on {SERVER}: {HOSTED_AGENTS}")
