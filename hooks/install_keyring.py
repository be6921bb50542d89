"""Install keyring as a uv tool, so that `uv lock` can sign in to the feed, and say truly
whether it can.

Usage: install_keyring.py FEED_HOST services|server

On Azure DevOps Services keyring comes with artifacts-keyring, which signs in through the
browser. artifacts-keyring never answers for an Azure DevOps Server, so there keyring comes
alone, and the user stores a personal access token in it once, under the server's host
name: uv asks keyring for that host when it finds nothing for the full URL.

Copier runs this once after `copier copy` (never on update). It must never fail the copy: a
failing task makes Copier delete the project it has just written. So every problem (no uv,
a broken or hanging uv, no network, a read-only tool folder, anything unforeseen) ends in
a one-line warning with the command to run by hand, and exit code 0, within a bounded
time: every command gets a timeout, COPIER_UV_AZURE_HOOK_TIMEOUT seconds for the install
(default 300) and at most 30 for the quick ones.
"""

import os
import shutil
import subprocess
import sys


def timeout(quick: bool = False) -> float:
    try:
        limit = float(os.environ.get("COPIER_UV_AZURE_HOOK_TIMEOUT", "300"))
    except ValueError:
        limit = 300.0
    return min(limit, 30.0) if quick else limit


def run(command: list[str], quick: bool = True, **options) -> subprocess.CompletedProcess:
    """Run a command with a timeout; its output is text, whatever bytes it writes."""
    return subprocess.run(
        command, timeout=timeout(quick), text=True, errors="replace", check=False, **options
    )


def install_command(services: bool) -> list[str]:
    plugin = ["--with", "artifacts-keyring"] if services else []
    return ["uv", "tool", "install", "keyring", *plugin]


def say(message: str) -> None:
    print(message, file=sys.stderr)


def already_installed(uv: str, services: bool) -> bool:
    """True when `uv tool list` shows keyring (with artifacts-keyring on Services)."""
    listing = run([uv, "tool", "list", "--show-with"], capture_output=True)
    return any(
        line.startswith("keyring ") and (not services or "artifacts-keyring" in line)
        for line in listing.stdout.splitlines()
    )


def tool_bin_dir(uv: str) -> str:
    """Where `uv tool install` puts commands."""
    try:
        found = run([uv, "tool", "dir", "--bin"], capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return "uv's tool folder"
    return found.stdout.strip() or "uv's tool folder"


def keyring_backends(keyring: str) -> str | None:
    """What `keyring --list-backends` prints, or None when the command does not run."""
    try:
        listed = run([keyring, "--list-backends"], capture_output=True)
    except (OSError, subprocess.SubprocessError):
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
        result = run([uv, *install_command(services)[1:]], quick=False)
    except subprocess.TimeoutExpired:
        return f"`{manual}` did not finish within {timeout():.0f} s"
    except (OSError, subprocess.SubprocessError) as error:
        return f"`{manual}` could not run ({error})"
    if result.returncode != 0:
        return f"`{manual}` exited with code {result.returncode} (see its output above)"
    return None


def warn(failure: str, services: bool) -> None:
    say(
        f"WARNING: keyring was not installed: {failure}. The project is complete; to sign in "
        f"to the feed from this machine, run: {' '.join(install_command(services))}"
    )


def main(host: str, services: bool) -> None:
    uv = shutil.which("uv")
    if uv is None:
        failure = (
            "uv is not on PATH (install it: "
            "https://docs.astral.sh/uv/getting-started/installation/)"
        )
    else:
        try:
            installed = already_installed(uv, services)
        except subprocess.TimeoutExpired:
            return warn(f"`uv tool list` did not answer within {timeout(True):.0f} s", services)
        except (OSError, subprocess.SubprocessError) as error:
            return warn(f"{uv} does not run ({error})", services)
        if installed:
            print("keyring is already installed as a uv tool: nothing to install.")
            failure = None
        else:
            failure = install(uv, services)
    if failure:
        return warn(failure, services)
    check_keyring(uv, services, host)


if __name__ == "__main__":
    # copier.yml passes its own computed feed_host and azure_services: one source for both.
    if len(sys.argv) != 3 or sys.argv[2] not in ("services", "server"):
        sys.exit(__doc__)
    on_services = sys.argv[2] == "services"
    try:
        main(sys.argv[1], on_services)
    except Exception as error:  # whatever happens, the copy must survive
        warn(f"the hook failed unexpectedly ({type(error).__name__}: {error})", on_services)
