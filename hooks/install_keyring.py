"""Install keyring as a uv tool, so that `uv lock` can sign in to the feed, and say truly
whether it can.

Usage: install_keyring.py INDEX_URL services|server

On Azure DevOps Services keyring comes with artifacts-keyring, which signs in through the
browser. artifacts-keyring never answers for an Azure DevOps Server, so there keyring comes
alone, and the user stores a personal access token in it once, under the server's host
name: uv asks keyring for that host when it finds nothing for the full URL. Where pypi.org
is blocked, it says how to install keyring through the feed instead.

Copier runs this once after `copier copy` (never on update). It must never fail the copy: a
failing task makes Copier delete the project it has just written. So every problem (no uv,
a broken or hanging uv, no network, a read-only tool folder, anything unforeseen) ends in
a one-line warning with the command to run by hand, and exit code 0, within a bounded
time: every command gets a timeout, COPIER_UV_AZURE_HOOK_TIMEOUT seconds for the install
(default 300) and at most 30 for the quick ones.

What it reports is the `keyring` uv will really run, found the way uv finds it, which on
Windows is not the first one on PATH, and judged as the project's own sign-in check
(scripts/check_sign_in.py) judges it.
"""

import functools
import os
import platform
import shutil
import subprocess
import sys
import types
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
    """The project's own command (scripts/check_sign_in.py), with `plugin`: on a Python that
    artifacts-keyring has wheels for, never built from source."""
    if not services:
        return ["uv", "tool", "install", "keyring"]
    python = sign_in_check().KEYRING_PYTHON
    no_build = ["--no-build-package", "artifacts-keyring"]
    return ["uv", "tool", "install", "--python", python, "keyring", "--with", plugin, *no_build]


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


@functools.cache
def sign_in_check():
    """The generated project's sign-in check (template/scripts/check_sign_in.py): the hook
    finds the `keyring` uv runs, and judges it, and installs it, exactly as that check says.
    Loaded without writing a __pycache__ into the template, which Copier would copy."""
    path = Path(__file__).resolve().parents[1] / "template" / "scripts" / "check_sign_in.py"
    module = types.ModuleType("check_sign_in")
    module.__file__ = str(path)
    sys.modules["check_sign_in"] = module  # dataclasses look their module up by name
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module


def check_keyring(
    uv: str, services: bool, host: str, windows: bool = WINDOWS, environ=os.environ
) -> None:
    """Say whether the `keyring` uv will run can sign it in."""
    check = sign_in_check()
    try:
        keyring = check.find_keyring(uv, services, windows, environ, host)
        found = check.check_backends(keyring, uv, host, windows, environ)
    except check.Failed as failure:
        say(f"NOTE: {failure.problem}\n  Fix: {failure.fix}")
        say(f"  Other messages, with their causes and fixes: {check.TROUBLESHOOTING}")
        return
    if services:
        print(
            f"{found}: the first `uv lock` signs you in to Azure DevOps (browser or device code)."
        )
        return
    print(
        f"{found}. artifacts-keyring cannot sign in to Azure DevOps Server, so\n"
        f"store a personal access token (scope Packaging: Read) for {host} once:\n"
        f"    keyring set {host} VssSessionToken"
    )


def install(uv: str, services: bool) -> tuple[str | None, str]:
    """Install keyring: (the reason it failed or None, what uv printed)."""
    manual = " ".join(install_command(services))
    print(f"Installing keyring for the feed: {manual}")
    try:
        result = run([uv, *install_command(services)[1:]], quick=False, capture_output=True)
    except subprocess.TimeoutExpired:
        return f"`{manual}` did not finish within {timeout():.0f} s", ""
    except (OSError, subprocess.SubprocessError) as error:
        return f"`{manual}` could not run ({error})", ""
    print(result.stdout + result.stderr, end="", file=sys.stderr)
    if result.returncode != 0:
        failure = f"`{manual}` exited with code {result.returncode} (see its output above)"
        return failure, result.stderr
    return None, result.stderr


def windows_arm64(windows: bool = WINDOWS, environ=os.environ) -> bool:
    """An ARM64 Windows machine, also where this Python is x64 under emulation (the
    processor's name still says ARM)."""
    names = f"{platform.machine()} {environ.get('PROCESSOR_IDENTIFIER', '')}".upper()
    return windows and "ARM" in names


def warn(failure: str, services: bool, arm64: bool = False) -> None:
    why, plugin = "", "artifacts-keyring"
    if services and arm64:
        why = (
            "On Windows ARM64, artifacts-keyring 1.0.0 has no wheel, and its build from "
            "source, which the command refuses, downloads its credential provider from "
            "github.com and needs .NET 8; its 2.0.0 releases ship ARM64 wheels. "
        )
        plugin = ARM64_PLUGIN
    say(
        f"WARNING: keyring was not installed: {failure}. {why}The project is complete; to "
        f"sign in to the feed from this machine, run: {shown(install_command(services, plugin))}"
    )


def no_python() -> str:
    """Why the install failed when uv found no Python artifacts-keyring has wheels for."""
    python = sign_in_check().KEYRING_PYTHON
    return (
        f"uv found no Python {python}, the ones artifacts-keyring has wheels for, and may "
        "not download one here; install one (uv python install 3.13), then try again"
    )


def through_the_feed(index_url: str, services: bool) -> str:
    """How to install keyring where pypi.org is blocked: from the feed, whose PyPI upstream
    carries it, signed in with a PAT that uv keeps for the feed's host (`uv auth login`)."""
    host = urlsplit(index_url).hostname
    install = shown([*install_command(services), "--default-index", f'"{unquote(index_url)}"'])
    return (
        "  pypi.org is out of reach from here. Install keyring through the feed instead: give "
        "uv a PAT (scope Packaging: Read) for the feed's host once, then install from the feed:\n"
        f"    uv auth login {host} --username VssSessionToken\n"
        f"    {install}"
    )


def main(index_url: str, services: bool, windows: bool = WINDOWS, environ=os.environ) -> None:
    host = urlsplit(index_url).hostname
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
            failure, said = install(uv, services)
            if failure and "pypi.org" in said:
                warn(failure, services, arm64)
                return say(through_the_feed(index_url, services))
            if failure and "No interpreter found" in said:
                failure = no_python()
    if failure:
        return warn(failure, services, arm64)
    check_keyring(uv, services, host, windows, environ)


if __name__ == "__main__":
    # copier.yml passes its own computed index_url and azure_services: one source for both.
    if len(sys.argv) != 3 or sys.argv[2] not in ("services", "server"):
        sys.exit(__doc__)
    on_services = sys.argv[2] == "services"
    try:
        main(sys.argv[1], on_services)
    except Exception as error:  # whatever happens, the copy must survive
        warn(f"the hook failed unexpectedly ({type(error).__name__}: {error})", on_services)
