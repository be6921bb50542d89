"""The git commands tests and benchmarks run in the repositories they make."""

import os
import subprocess
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT

# Who commits in the repositories tests and benchmarks make, where the machine names nobody
# (a fresh CI machine): git refuses to commit without a name.
IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@copier-uv-azure.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@copier-uv-azure.invalid",
}


def with_git_identity() -> None:
    """Give this process's git commands an identity, unless the environment has one."""
    for variable, value in IDENTITY.items():
        os.environ.setdefault(variable, value)


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


def work_on(project: Path, branch: str) -> None:
    """A pull request's branch, with one more module; main stays checked out."""
    git(project, "checkout", "-q", "-b", branch)
    (project / "src/contoso_widgets/extra.py").write_text("EXTRA = 1\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", f"Work on {branch}")
    git(project, "checkout", "-q", "main")
