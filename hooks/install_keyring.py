"""Install keyring as a uv tool, so that `uv lock` can sign in to the feed, and say truly
whether it can.

Usage: install_keyring.py FEED_HOST services|server

On Azure DevOps Services keyring comes with artifacts-keyring, which signs in through the
browser. artifacts-keyring never answers for an Azure DevOps Server, so there keyring comes
alone, and the user stores a personal access token in it once, under the server's host
name: uv asks keyring for that host when it finds nothing for the full URL.

Copier runs this once after `copier copy` (never on update). It must never fail the copy: a
failing task makes Copier delete the project it has just written. So every problem ends in
a message with the command to run by hand, and exit code 0.
"""

import shutil
import subprocess
import sys

INSTALL_TIMEOUT_SECONDS = 600


def install_command(services: bool) -> list[str]:
    plugin = ["--with", "artifacts-keyring"] if services else []
    return ["uv", "tool", "install", "keyring", *plugin]


def say(message: str) -> None:
    print(message, file=sys.stderr)


def already_installed(uv: str, services: bool) -> bool:
    """True when `uv tool list` shows keyring (with artifacts-keyring on Services)."""
    listing = subprocess.run(
        [uv, "tool", "list", "--show-with"], capture_output=True, text=True, check=False
    )
    return any(
        line.startswith("keyring ") and (not services or "artifacts-keyring" in line)
        for line in listing.stdout.splitlines()
    )


def tool_bin_dir(uv: str) -> str:
    """Where `uv tool install` puts commands."""
    found = subprocess.run([uv, "tool", "dir", "--bin"], capture_output=True, text=True)
    return found.stdout.strip() or "uv's tool folder"


def keyring_backends(keyring: str) -> str | None:
    """What `keyring --list-backends` prints, or None when the command does not run."""
    try:
        listed = subprocess.run(
            [keyring, "--list-backends"], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return listed.stdout if listed.returncode == 0 else None


def check_keyring(uv: str, services: bool, host: str) -> None:
    """Say whether the `keyring` uv will run (the first on PATH) can sign it in."""
    keyring = shutil.which("keyring")
    if keyring is None:
        say(
            f"NOTE: keyring is installed in {tool_bin_dir(uv)}, but that folder is not on "
            "PATH, so uv cannot run it and `uv lock` will fail with 401.\n"
            "  Fix: run `uv tool update-shell`, then open a new terminal."
        )
        return
    backends = keyring_backends(keyring)
    if backends is None:
        say(f"NOTE: {keyring} does not run (`keyring --list-backends` failed): reinstall it.")
        return
    if services and "artifacts_keyring" not in backends:
        say(
            f"NOTE: the keyring first on PATH, {keyring}, has no artifacts-keyring backend, "
            f"and it is the one uv runs.\n"
            f"  Fix: put {tool_bin_dir(uv)} first on PATH (`uv tool update-shell`, then a new "
            "terminal), or remove that other keyring."
        )
        return
    if services:
        print(
            "keyring with artifacts-keyring is on PATH: the first `uv lock` signs you in to "
            "Azure DevOps (browser or device code)."
        )
        return
    print(
        f"keyring is on PATH. artifacts-keyring cannot sign in to Azure DevOps Server, so\n"
        f"store a personal access token (scope Packaging: Read & write) for {host} once:\n"
        f"    keyring set {host} VssSessionToken"
    )


def install(uv: str, services: bool) -> str | None:
    """Install keyring; the reason it failed, or None."""
    manual = " ".join(install_command(services))
    print(f"Installing keyring for the feed: {manual}")
    try:
        result = subprocess.run(
            [uv, *install_command(services)[1:]], timeout=INSTALL_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if result.returncode != 0:
        return f"`{manual}` exited with code {result.returncode} (see its output above)"
    return None


def main(host: str, services: bool) -> None:
    uv = shutil.which("uv")
    if uv is None:
        failure = (
            "uv is not on PATH (install it: "
            "https://docs.astral.sh/uv/getting-started/installation/)"
        )
    elif already_installed(uv, services):
        print("keyring is already installed as a uv tool: nothing to install.")
        failure = None
    else:
        failure = install(uv, services)
    if failure:
        say(
            f"WARNING: keyring was not installed: {failure}\n"
            "  The project is complete. To sign in to the feed from this machine, run:\n"
            f"    {' '.join(install_command(services))}"
        )
        return
    check_keyring(uv, services, host)


if __name__ == "__main__":
    # copier.yml passes its own computed feed_host and azure_services: one source for both.
    if len(sys.argv) != 3 or sys.argv[2] not in ("services", "server"):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2] == "services")
