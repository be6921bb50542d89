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

What it reports is the `keyring` uv will really run, found the way uv finds it (see
`keyring_uv_runs`), which on Windows is not the first one on PATH.
"""

import os
import platform
import shutil
import subprocess
import sys

WINDOWS = os.name == "nt"
# artifacts-keyring 1.0.0 has Windows wheels for x64 only; the 2.0.0 releases add ARM64.
ARM64_PLUGIN = "artifacts-keyring>=2.0.0rc5"


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


def install_command(services: bool, plugin: str = "artifacts-keyring") -> list[str]:
    return ["uv", "tool", "install", "keyring", *(["--with", plugin] if services else [])]


def shown(command: list[str]) -> str:
    """A command as a user types it, in any shell: a word with `>` goes in double quotes."""
    return " ".join(f'"{word}"' if ">" in word else word for word in command)


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


def keyring_uv_runs(uv: str, windows: bool = WINDOWS, environ=os.environ) -> str | None:
    """The file uv runs for `keyring`, or None.

    uv starts `keyring` by name with Rust's std::process::Command (crates/uv-auth,
    keyring.rs). On Windows that looks for `keyring.exe` only (never .bat or .cmd) in uv.exe's
    own folder, then the system folder (System32) and the Windows folder, and only then on
    PATH (rust-lang/rust#87704; std::process::Command::new). Elsewhere it searches PATH."""
    path = environ.get("PATH", "")
    if not windows:
        return shutil.which("keyring", path=path)
    windows_folder = environ.get("SystemRoot", r"C:\Windows")
    folders = [
        os.path.dirname(uv),
        os.path.join(windows_folder, "System32"),
        windows_folder,
        *path.split(os.pathsep),
    ]
    for folder in filter(None, folders):
        candidate = os.path.join(folder, "keyring.exe")
        if os.path.isfile(candidate):
            return candidate
    return None


def new_terminal(windows: bool) -> str:
    if not windows:
        return "open a new terminal"
    # update-shell writes the user PATH in the registry; a terminal inside VS Code (or
    # another editor) inherits the editor's environment, read when the editor started.
    return "open a new terminal, or restart VS Code (or your editor) if you use its terminal"


def beside_uv_fix(keyring: str) -> str:
    """How to fix a keyring.exe in uv.exe's folder: it belongs to the Python uv was
    pip-installed into (twine brings one), and wins over PATH."""
    scripts = os.path.dirname(keyring)
    environment = os.path.normpath(os.path.join(scripts, ".."))
    candidates = (os.path.join(scripts, "python.exe"), os.path.join(environment, "python.exe"))
    python = next((path for path in candidates if os.path.isfile(path)), environment)
    return (
        "  uv looks beside uv.exe before PATH, so it runs this one whatever PATH says.\n"
        f'  Fix: add the plug-in to that Python: uv pip install --python "{python}" '
        "artifacts-keyring; or use uv from its own installer instead of this pip-installed "
        "one (https://docs.astral.sh/uv/getting-started/installation/)."
    )


def check_keyring(
    uv: str, services: bool, host: str, windows: bool = WINDOWS, environ=os.environ
) -> None:
    """Say whether the `keyring` uv will run can sign it in."""
    keyring = keyring_uv_runs(uv, windows, environ)
    if keyring is None:
        say(
            f"NOTE: keyring is installed in {tool_bin_dir(uv)}, but that folder is not on "
            "PATH, so uv cannot run it and `uv lock` will fail with 401.\n"
            f"  Fix: run `uv tool update-shell`, then {new_terminal(windows)}."
        )
        return
    backends = keyring_backends(keyring)
    if backends is None:
        say(f"NOTE: {keyring} does not run (`keyring --list-backends` failed): reinstall it.")
        return
    if services and "artifacts_keyring" not in backends:
        say(f"NOTE: uv will run {keyring}, which has no artifacts-keyring backend.")
        if windows and os.path.dirname(keyring) == os.path.dirname(uv):
            say(beside_uv_fix(keyring))
        else:
            say(
                f"  Fix: put {tool_bin_dir(uv)} first on PATH (`uv tool update-shell`, then "
                f"{new_terminal(windows)}), or remove that other keyring."
            )
        return
    if services:
        print(
            f"uv will run {keyring}, which has artifacts-keyring: the first `uv lock` signs "
            "you in to Azure DevOps (browser or device code)."
        )
        return
    print(
        f"uv will run {keyring}. artifacts-keyring cannot sign in to Azure DevOps Server, so\n"
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


def windows_arm64(windows: bool = WINDOWS, environ=os.environ) -> bool:
    """An ARM64 Windows machine, also where this Python is x64 under emulation (the
    processor's name still says ARM)."""
    names = f"{platform.machine()} {environ.get('PROCESSOR_IDENTIFIER', '')}".upper()
    return windows and "ARM" in names


def warn(failure: str, services: bool, arm64: bool = False) -> None:
    why, plugin = "", "artifacts-keyring"
    if services and arm64:
        why = (
            "On Windows ARM64, artifacts-keyring 1.0.0 has no wheel, so uv builds it from "
            "source, and that build downloads its credential provider from github.com and "
            "needs .NET 8; its 2.0.0 releases ship ARM64 wheels. "
        )
        plugin = ARM64_PLUGIN
    say(
        f"WARNING: keyring was not installed: {failure}. {why}The project is complete; to "
        f"sign in to the feed from this machine, run: {shown(install_command(services, plugin))}"
    )


def main(host: str, services: bool, windows: bool = WINDOWS, environ=os.environ) -> None:
    uv = shutil.which("uv", path=environ.get("PATH", ""))
    arm64 = windows_arm64(windows, environ)
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
        return warn(failure, services, arm64)
    check_keyring(uv, services, host, windows, environ)


if __name__ == "__main__":
    # copier.yml passes its own computed feed_host and azure_services: one source for both.
    if len(sys.argv) != 3 or sys.argv[2] not in ("services", "server"):
        sys.exit(__doc__)
    on_services = sys.argv[2] == "services"
    try:
        main(sys.argv[1], on_services)
    except Exception as error:  # whatever happens, the copy must survive
        warn(f"the hook failed unexpectedly ({type(error).__name__}: {error})", on_services)
