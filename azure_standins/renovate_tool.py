"""The real Renovate, run offline against a repository: its copier manager, its config code
and its config validator (renovate_copier.js drives them).

Renovate is installed once from the npm registry into the tests' cache. 39.x is the newest
series that runs on Node.js 20 (40 and later need 22); it needs 20.15.1 or later.
"""

import json
import subprocess
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT
from azure_standins.wheelhouse import cached_dir

RENOVATE_VERSION = "39.264.1"
DRIVER = Path(__file__).with_name("renovate_copier.js")


def _install(destination: Path) -> None:
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(destination),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            f"renovate@{RENOVATE_VERSION}",
        ],
        check=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )


def node_modules() -> Path:
    """Renovate's node_modules, installed on first use."""
    return cached_dir("renovate", RENOVATE_VERSION, _install) / "node_modules"


def node_env(env: dict[str, str], log_level: str = "fatal") -> dict[str, str]:
    return {**env, "NODE_PATH": str(node_modules()), "LOG_LEVEL": log_level}


def update_template(
    repository: Path, work: Path, env: dict[str, str], repository_config: bool = True
) -> dict:
    """What Renovate's copier manager does for `repository`, as JSON: the dependency it
    found, the template's versions, the newest, and the files of the update (or an
    artifactError). `env` must put a `copier` with the template's extensions on PATH."""
    flags = [] if repository_config else ["--no-repo-config"]
    completed = subprocess.run(
        ["node", str(DRIVER), str(repository), str(work), *flags],
        env=node_env(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr)
    return json.loads(completed.stdout)


def validate_config(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """renovate-config-validator on the Renovate config in `folder`."""
    validator = node_modules() / "renovate" / "dist" / "config-validator.js"
    return subprocess.run(
        ["node", str(validator)],
        cwd=folder,
        env=node_env(env, log_level="info"),
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT,
    )
