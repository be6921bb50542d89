"""Write tasks.json from a checkout of Microsoft's task reference.

    python -m azure_standins.task_reference.extract <checkout of azure-devops-yaml-schema>

Each task's page, `task-reference/<task>-v<N>.md`, says on which releases the task exists (its
front matter's `monikerRange`) and, in its Syntax section, lists each release's inputs in a YAML
block under a `:::moniker range="..."` line: one line per input, with its allowed values and
its default. This keeps those facts, for the tasks the template uses or considered, as data.
"""

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from azure_standins.task_reference import DATA, MONIKERS, RELEASES

PAGES = {
    "UsePythonVersion@0": "use-python-version-v0.md",
    "Cache@2": "cache-v2.md",
    "PublishTestResults@2": "publish-test-results-v2.md",
    "PublishCodeCoverageResults@1": "publish-code-coverage-results-v1.md",
    "PublishCodeCoverageResults@2": "publish-code-coverage-results-v2.md",
    "PublishPipelineArtifact@1": "publish-pipeline-artifact-v1.md",
    "DownloadPipelineArtifact@2": "download-pipeline-artifact-v2.md",
    "PublishBuildArtifacts@1": "publish-build-artifacts-v1.md",
    "DownloadBuildArtifacts@0": "download-build-artifacts-v0.md",
    "DownloadBuildArtifacts@1": "download-build-artifacts-v1.md",
    "TwineAuthenticate@1": "twine-authenticate-v1.md",
    "Docker@2": "docker-v2.md",
}
BLOCK = re.compile(r':::moniker range="([^"]+)"\s*```yaml\n(.*?)```', re.DOTALL)
# `    #name: 'default' # 'a' | 'b'. Alias: other. Required. Label. Default: x.`
INPUT = re.compile(r"^ {4}#?(\w+):[^#]*#\s*(.*)$")


def in_range(moniker: str, expression: str) -> bool:
    """Does a moniker range (`=a || =b`, `>=a <=b`, `<=a`, `>a`) include `moniker`?"""
    rank = MONIKERS.index(moniker)
    for alternative in expression.split("||"):
        conditions = re.findall(r"(<=|>=|<|>|=)\s*([\w.-]+)", alternative)
        compare = {
            "=": lambda a, b: a == b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
        }
        if conditions and all(compare[op](rank, MONIKERS.index(name)) for op, name in conditions):
            return True
    return False


def inputs_of(block: str) -> dict[str, dict]:
    found = {}
    for line in block.splitlines():
        match = INPUT.match(line)
        if not match:
            continue
        name, description = match.groups()
        first = description.split(". ")[0]
        allowed = re.findall(r"'([^']*)'", first) if "|" in first else None
        alias = re.search(r"Alias: (\w+)", description)
        default = re.search(r"Default: (.*?)\.?\s*$", description)
        found[name] = {
            "allowed": allowed,
            "alias": alias.group(1) if alias else None,
            "default": default.group(1) if default else None,
        }
    return found


def task_data(page: str) -> dict:
    text = Path(page).read_text(encoding="utf-8")
    exists_on = re.search(r'^monikerRange: "([^"]+)"', text, re.MULTILINE).group(1)
    syntax = text.split("## Syntax", 1)[1].split("## Inputs", 1)[0]
    blocks = BLOCK.findall(syntax)
    releases = {}
    for moniker in RELEASES:
        if not in_range(moniker, exists_on):
            continue
        for expression, block in blocks:
            if in_range(moniker, expression):
                releases[moniker] = inputs_of(block)
                break
    return releases


def main(checkout: str) -> None:
    repo = Path(checkout)
    commit, committed = subprocess.run(
        ["git", "-C", checkout, "log", "-1", "--format=%H %cs"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    data = {
        "source": "https://github.com/MicrosoftDocs/azure-devops-yaml-schema",
        "commit": commit,
        "committed": committed,
        "read": date.today().isoformat(),
        "tasks": {
            task: {
                "page": f"task-reference/{page}",
                "releases": task_data(repo / "task-reference" / page),
            }
            for task, page in PAGES.items()
        },
    }
    DATA.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
