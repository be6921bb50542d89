"""The feed emulator's upstream source: wheels fetched from PyPI once, then reused offline.

A universal `uv lock` needs every package any platform or Python could install (colorama for
Windows, tomli for Python 3.10, ...), so the list is resolved with
`uv pip compile --universal` and each pinned file is downloaded with pip. The directory is
named after a hash of what it holds, so changing REQUIREMENTS builds a new one.

Separately, TOOLS holds, for this platform only, what the README's own uvx commands run
(Copier with the template's extensions, check-jsonschema), keyring with artifacts-keyring (or
keyrings.alt, a file-based backend) for real installs of the post-generation hook's tool,
and the uv release the pipeline pins, which the pipeline runner's agent installs with pip.
"""

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from azure_standins.template_facts import PINNED_UV, PYTHON_VERSIONS, UV_BUILD_REQUIREMENT

# What rendered projects lock: the dev group, the build backend, and a few common runtime
# packages for a realistic dependency set in the benchmark.
REQUIREMENTS = [
    "pytest>=8.3",
    "pytest-cov>=6",
    "ruff>=0.12",
    "tomli>=2; python_version < '3.11'",
    UV_BUILD_REQUIREMENT,
    "requests>=2.32",
    "click>=8.1",
    "rich>=13",
    "attrs>=24",
]
# What a user's machine runs beside the project: Copier as the README's uvx runs it, keyring
# as the hook installs it, and the uv the pipeline pins.
TOOLS = [
    "check-jsonschema",
    "copier",
    "jinja2-time",
    "copier-template-extensions",
    "keyring",
    "artifacts-keyring",
    "keyrings.alt",
    f"uv=={PINNED_UV}",
]
LOWEST_PYTHON = PYTHON_VERSIONS[0]

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "copier-uv-azure"


def _key(*parts: object) -> str:
    text = "\n".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pip_download(args: list[str], destination: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(destination), *args],
        check=True,
    )


def _pinned_requirements() -> list[str]:
    """Every package a universal lock of REQUIREMENTS needs, pinned, markers dropped."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "-",
            "--universal",
            "--python-version",
            LOWEST_PYTHON,
            "--no-header",
            "--no-annotate",
            "--quiet",
        ],
        input="\n".join(REQUIREMENTS),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    return [line.split(";")[0].strip() for line in result.stdout.splitlines() if "==" in line]


def _fill_upstream(destination: Path, python: str) -> None:
    target = ["--python-version", python]
    for pin in _pinned_requirements():
        try:
            _pip_download(["--no-deps", "--only-binary=:all:", *target, pin], destination)
        except subprocess.CalledProcessError:
            # No wheel for this platform (a Windows-only package, say): any wheel of it lets
            # a universal lock read its metadata; failing that, its sdist.
            try:
                _pip_download(
                    ["--no-deps", "--only-binary=:all:", "--platform", "win_amd64", pin],
                    destination,
                )
            except subprocess.CalledProcessError:
                _pip_download(["--no-deps", "--no-binary=:all:", pin], destination)


def _fill_tools(destination: Path, python: str) -> None:
    _pip_download(["--only-binary=:all:", "--python-version", python, *TOOLS], destination)


def cached_dir(name: str, key: str, fill: Callable[[Path], None]) -> Path:
    """A directory under CACHE_ROOT filled once by `fill`, safe when several test workers
    ask at once."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    target = CACHE_ROOT / f"{name}-{key}"
    with open(CACHE_ROOT / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.is_dir():
            filling = Path(tempfile.mkdtemp(dir=CACHE_ROOT, prefix=f"{name}-partial-"))
            try:
                fill(filling)
                filling.rename(target)
            finally:
                shutil.rmtree(filling, ignore_errors=True)
    return target


def upstream_wheelhouse(python: str) -> Path:
    """Wheels for a feed's upstream, platform wheels for Python `python` ("X.Y")."""
    key = _key(*REQUIREMENTS, LOWEST_PYTHON, python, platform.machine(), platform.system())
    return cached_dir("upstream", key, partial(_fill_upstream, python=python))


def tools_wheelhouse(python: str) -> Path:
    key = _key(*TOOLS, python, platform.machine(), platform.system())
    return cached_dir("tools", key, partial(_fill_tools, python=python))


if __name__ == "__main__":
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    print(upstream_wheelhouse(version))
    print(tools_wheelhouse(version))
