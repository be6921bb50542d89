"""Install keyring with artifacts-keyring as a uv tool, so `uv lock` can sign in to Azure.

Copier runs this once after `copier copy` (never on update). It must never fail the
copy: a failing task makes Copier delete the project it has just written. So every
problem ends in a warning with the command to run by hand, and exit code 0.
"""

import shutil
import subprocess
import sys

MANUAL_COMMAND = "uv tool install keyring --with artifacts-keyring"
INSTALL_TIMEOUT_SECONDS = 600


def warn(reason: str) -> None:
    print(
        f"WARNING: keyring was not installed: {reason}\n"
        f"  The project is complete. To sign in to the feed from this machine, run:\n"
        f"    {MANUAL_COMMAND}",
        file=sys.stderr,
    )


def already_installed(uv: str) -> bool:
    """True when `uv tool list` shows keyring installed with artifacts-keyring."""
    listing = subprocess.run(
        [uv, "tool", "list", "--show-with"], capture_output=True, text=True, check=False
    )
    return any(
        line.startswith("keyring ") and "artifacts-keyring" in line
        for line in listing.stdout.splitlines()
    )


def main() -> None:
    uv = shutil.which("uv")
    if uv is None:
        warn(
            "uv is not on PATH (install it: https://docs.astral.sh/uv/getting-started/installation/)"
        )
        return
    if already_installed(uv):
        print("keyring with artifacts-keyring is already installed as a uv tool: nothing to do.")
        return
    print(f"Installing keyring for Azure Artifacts: {MANUAL_COMMAND}")
    try:
        result = subprocess.run(
            [uv, "tool", "install", "keyring", "--with", "artifacts-keyring"],
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        warn(str(error))
        return
    if result.returncode != 0:
        warn(f"`{MANUAL_COMMAND}` exited with code {result.returncode} (see its output above)")
        return
    print("keyring with artifacts-keyring is installed: uv can now sign in to the feed.")


if __name__ == "__main__":
    main()
