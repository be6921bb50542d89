"""Which pipeline tasks, and which of their inputs, each Azure DevOps release has: Microsoft's
task reference (MicrosoftDocs/azure-devops-yaml-schema, `task-reference/*.md`), kept as data
in tasks.json with the commit and the date it was read (extract.py writes it).

Azure refuses a run that names a task its release lacks ("A task is missing"). An input the
task's release lacks is ignored: its behaviour (failTaskOnMissingResultsFile, say) silently
never happens, so the runner refuses that too, naming the release.
"""

import json
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("tasks.json")
# Microsoft's monikers, oldest first (older ones only bound ranges), and the releases the
# stand-ins can be: every release of Azure DevOps Server 2022, today's server, and Services.
MONIKERS = [
    "azure-pipelines-2019",
    "azure-pipelines-2020",
    "azure-pipelines-2020.1",
    "azure-pipelines-2022",
    "azure-pipelines-2022.1",
    "azure-pipelines-2022.2",
    "azure-pipelines-server",
    "azure-pipelines",
]
RELEASES = {
    "azure-pipelines-2022": "Azure DevOps Server 2022.0",
    "azure-pipelines-2022.1": "Azure DevOps Server 2022.1",
    "azure-pipelines-2022.2": "Azure DevOps Server 2022.2",
    "azure-pipelines-server": "Azure DevOps Server (the release after 2022)",
    "azure-pipelines": "Azure DevOps Services",
}
SERVICES = "azure-pipelines"
SERVER_RELEASES = [moniker for moniker in RELEASES if moniker != SERVICES]


@cache
def reference() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def citation(task: str) -> str:
    data = reference()
    page = data["tasks"][task]["page"]
    return f"{data['source']}/blob/{data['commit'][:12]}/{page}, read {data['read']}"


def task_problems(task: str, inputs: dict[str, str], release: str) -> list[str]:
    """What of a task step `release` lacks: the task itself, an input, or an input's value."""
    tasks = reference()["tasks"]
    if task not in tasks:
        return []  # a task the runner does not know: runner.refuse-unknown refuses it
    known = tasks[task]["releases"].get(release)
    name = RELEASES[release]
    if known is None:
        return [f"{task} does not exist on {name} ({citation(task)})"]
    aliases = {spec["alias"]: real for real, spec in known.items() if spec["alias"]}
    problems = []
    for given, value in inputs.items():
        spec = known.get(aliases.get(given, given))
        if spec is None:
            problems.append(f"{task} has no input {given!r} on {name} ({citation(task)})")
        elif spec["allowed"] and "$(" not in str(value) and str(value) not in spec["allowed"]:
            allowed = ", ".join(spec["allowed"])
            problems.append(
                f"{task} input {given}: {value!r} is not one of {allowed} on {name} "
                f"({citation(task)})"
            )
    return problems
