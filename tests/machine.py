"""What the machine the tests run on is, as a pipeline agent: the Pythons in its tool cache.

The machine image carries CPython 3.10 to 3.13 under pyenv; the agent's tool cache holds
exactly these, so the jobs that run here, and those that cannot, are the same on every such
machine. A machine that lacks one fails the tests that need the agent, naming it.
"""

import re
from pathlib import Path

import yaml

AGENT_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
USE_PYTHON = "UsePythonVersion@0"


def keep_the_pythons_the_agents_have(project: Path, pythons=AGENT_PYTHONS) -> None:
    """The agents' tool cache, here, holds this machine's Pythons, not the newest ones the
    template also tests: the project's azure-pipelines.yml tests only `pythons`, as a team
    whose agents lack a Python would edit it (a hosted job needing one this machine lacks is
    not run here, and a self-hosted one fails)."""
    pipeline_file = project / "azure-pipelines.yml"
    pipeline = yaml.safe_load(pipeline_file.read_text())
    for job in pipeline["stages"][0]["jobs"]:
        matrix = job.get("strategy", {}).get("matrix", {})
        for leg in [leg for leg, values in matrix.items() if values["UV_PYTHON"] not in pythons]:
            del matrix[leg]
        job["steps"] = [step for step in job["steps"] if _python_of(step) in (None, *pythons)]
        kept = " ".join(
            s["inputs"]["versionSpec"] for s in job["steps"] if s.get("task") == USE_PYTHON
        )
        for step in job["steps"]:
            if step.get("displayName") == "Restore the uv cache" and not matrix:
                for name, value in step["inputs"].items():
                    step["inputs"][name] = re.sub(r'"python [\d. ]+"', f'"python {kept}"', value)
    pipeline_file.write_text(yaml.safe_dump(pipeline, sort_keys=False))


def _python_of(step: dict) -> str | None:
    """The Python a step uses: None for one that names none, or takes its leg's."""
    python = step.get("parameters", {}).get("python") or step.get("inputs", {}).get("versionSpec")
    return None if python is None or python.startswith("$(") else python
