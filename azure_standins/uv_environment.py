"""The environment real uv runs in during tests and benchmarks: nothing from this machine's
user configuration, no credentials, no Python downloads."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

from azure_standins import COMMAND_TIMEOUT

UV = find_uv_bin()


@dataclass(frozen=True)
class Interpreter:
    """A Python on this machine: rendered projects use it, so nothing is downloaded."""

    path: str
    version: str  # "X.Y"


def find_interpreter() -> Interpreter:
    """The Python `uv python find` picks here, without downloads."""
    path = subprocess.run(
        [UV, "python", "find", "--no-project", "--system"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        timeout=COMMAND_TIMEOUT,
    ).stdout.strip()
    version = subprocess.run(
        [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=COMMAND_TIMEOUT,
    ).stdout.strip()
    return Interpreter(path, version)


def machine_pythons(versions: list[str]) -> list[str]:
    """The newest CPython X.Y.Z this machine has for each "X.Y" in `versions`: what an
    agent's owner puts in its tool cache. pyenv's installs are looked up by folder (its
    shims run only the active one), then anything `uv python find` sees.

    Raises LookupError naming what is missing, so a run never quietly drops a leg.
    """
    pyenv_versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found, missing = [], []
    for version in versions:
        installs = sorted(
            (p for p in pyenv_versions.glob(f"{version}.*") if (p / "bin/python3").exists()),
            key=lambda p: tuple(int(n) for n in p.name.split(".") if n.isdigit()),
        )
        if installs:
            found.append(str(installs[-1] / "bin/python3"))
            continue
        located = subprocess.run(
            [UV, "python", "find", version, "--system", "--no-project"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if located.returncode == 0 and located.stdout.strip():
            found.append(located.stdout.strip())
        else:
            missing.append(version)
    if missing:
        raise LookupError(
            f"this machine has no CPython {', '.join(missing)}: the tests' agent needs "
            f"{', '.join(versions)} (for example `pyenv install {missing[0]}`)"
        )
    return found


SYSTEM_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def system_path(*first: Path | str) -> str:
    """A PATH of `first`, then the system's own folders, and nothing of the shell that
    started the tests (its keyring, its Python shims, this environment's bin)."""
    return os.pathsep.join([*map(str, first), *(d for d in SYSTEM_DIRS if Path(d).is_dir())])


def uv_only(folder: Path) -> Path:
    """`folder`, made to hold uv and uvx and nothing else: a PATH entry for this
    environment's uv without its other commands (its keyring, its Python)."""
    folder.mkdir(parents=True)
    for name in ("uv", "uvx"):
        (folder / name).symlink_to(Path(UV).parent / name)
    return folder


def clean_env(cache_dir: Path, interpreter: str, config_home: Path) -> dict[str, str]:
    """No UV_* or keyring settings from outside, and a PATH of the system's folders only: no
    `keyring` or Python from the invoking shell (a test that wants one adds it)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "VIRTUAL_ENV", "PYTHON_KEYRING"))
    }
    env["PATH"] = system_path()
    config_home.mkdir(parents=True, exist_ok=True)
    env.update(
        UV_CACHE_DIR=str(cache_dir),
        UV_PYTHON=interpreter,
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        XDG_CONFIG_HOME=str(config_home),
        # uv's own credential store (`uv auth login`) lives under XDG_DATA_HOME.
        XDG_DATA_HOME=str(config_home.parent / "data"),
    )
    return env


def with_feed_token(env: dict, token: str, prefix: str = "UV_INDEX_AZURE_DEVOPS") -> dict:
    """Credentials as azure-pipelines.yml passes them: keyring off, the user name and the
    token in the index's UV_INDEX_<NAME>_* variables."""
    return {
        **env,
        "UV_KEYRING_PROVIDER": "disabled",
        f"{prefix}_USERNAME": "VssSessionToken",
        f"{prefix}_PASSWORD": token,
    }


def run_uv(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [UV, *args], cwd=project, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
