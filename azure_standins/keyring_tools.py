"""The sign-in tools a developer's machine has, installed for real, offline.

keyring, with artifacts-keyring (Microsoft's plug-in, whose wheel carries the Azure Artifacts
Credential Provider) or with keyrings.alt (a file-based backend, standing in for the OS
keyring an Azure DevOps Server user stores a PAT in), installed as a uv tool exactly as the
post-copy hook installs it, from the tools wheelhouse instead of PyPI.
"""

import os
import subprocess
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT
from azure_standins.uv_environment import UV
from azure_standins.wheelhouse import tools_wheelhouse


def install_keyring_tool(root: Path, env: dict[str, str], python: str, plugin: str) -> Path:
    """`uv tool install keyring --with PLUGIN` into `root`; returns the folder of the
    `keyring` command."""
    bin_dir = root / "bin"
    subprocess.run(
        [UV, "tool", "install", "keyring", "--with", plugin],
        env={
            **env,
            "UV_TOOL_DIR": str(root / "tools"),
            "UV_TOOL_BIN_DIR": str(bin_dir),
            "UV_OFFLINE": "1",  # `uv tool` has no UV_NO_INDEX: only the wheelhouse
            "UV_FIND_LINKS": str(tools_wheelhouse(python)),
        },
        capture_output=True,
        check=True,
        timeout=COMMAND_TIMEOUT,
    )
    return bin_dir


def signed_in_env(
    env: dict[str, str], bin_dir: Path, organization_url: str, token: str
) -> dict[str, str]:
    """`env` after an interactive sign-in through artifacts-keyring: the credential provider
    answers every URL under the organization with `token` (its documented variables for a
    session token it did not have to ask for), and never prompts."""
    return {
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
        "VSS_NUGET_URI_PREFIXES": organization_url,
        "VSS_NUGET_ACCESSTOKEN": token,
        "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE": "true",
    }


def file_keyring_env(env: dict[str, str], bin_dir: Path, data_dir: Path) -> dict[str, str]:
    """`env` with a `keyring` command whose passwords live in a file under `data_dir`."""
    return {
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(data_dir),
    }
