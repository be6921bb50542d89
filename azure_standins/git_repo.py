"""The git commands tests and benchmarks run in the repositories they make."""

import subprocess
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    ).stdout


def commit_as_new_repository(project: Path, message: str) -> Path:
    """Make `project` a repository on main with everything in it committed, as a team would."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)
    return project
