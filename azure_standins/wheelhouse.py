"""The feed emulator's upstream source, and the tools a user's machine runs: wheels fetched
from PyPI once, then reused offline.

What they hold is pinned in files committed beside this one (pins/), so the suite gives the
same answer next year as today: `python -m azure_standins.wheelhouse --update-pins`
re-resolves them, a change reviewed like any other. Each wheelhouse directory is named after
a hash of its pins, so a change of pins builds a new one.

- pins/upstream.txt: what rendered projects lock (the dev group, the build backend, and a
  few common runtime packages for a realistic dependency set in the benchmark) and what a
  machine with no way to PyPI installs through the feed (uv, keyring), resolved
  universally (`uv pip compile --universal`): a universal `uv lock` needs every package any
  platform or Python could install (colorama for Windows, tomli for Python 3.10, ...).
- pins/tools.txt: what a user's machine runs beside the project: Copier as the README's
  uvx runs it, check-jsonschema, keyring with artifacts-keyring (or keyrings.alt, a
  file-based backend) as the hook installs it, and the uv the pipeline pins, which the
  pipeline runner's agent installs with pip.
"""

import fcntl
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from packaging.markers import Marker

from azure_standins.template_facts import MYPY_VERSION, PINNED_UV, UV_BUILD_REQUIREMENT

UPSTREAM_REQUIREMENTS = [
    "pytest>=8.3",
    "pytest-cov>=6",
    "ruff>=0.12",
    f"mypy=={MYPY_VERSION}",
    "tomli>=2; python_version < '3.11'",
    UV_BUILD_REQUIREMENT,
    "requests>=2.32",
    "click>=8.1",
    "rich>=13",
    "attrs>=24",
    # The feed's PyPI upstream carries what a locked-down network installs through it: the
    # uv the pipeline pins, and keyring with artifacts-keyring for a developer machine.
    f"uv=={PINNED_UV}",
    "keyring",
    "artifacts-keyring",
]
TOOL_REQUIREMENTS = [
    "check-jsonschema",
    "copier",
    "jinja2-time",
    "copier-template-extensions",
    "keyring",
    "artifacts-keyring",
    "keyrings.alt",
    f"uv=={PINNED_UV}",
]
PINS = Path(__file__).parent / "pins"
# Pins are resolved from 3.10 up, one release below the lowest the template offers, so that
# the upstream also holds the older release of some packages (coverage, say) that a
# dependency update can move a lock to.
PINS_PYTHON = "3.10"

CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "copier-uv-azure"
PIP_TIMEOUT_SECONDS = 600


def _key(*parts: object) -> str:
    text = "\n".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pip_download(args: list[str], destination: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(destination), *args],
        check=True,
        timeout=PIP_TIMEOUT_SECONDS,
    )


def compile_pins(requirements: list[str]) -> str:
    """Every package a universal install of `requirements` needs, pinned, with markers."""
    return subprocess.run(
        [sys.executable, "-m", "uv", "pip", "compile", "-", "--universal"]
        + ["--python-version", PINS_PYTHON, "--no-header", "--no-annotate", "--quiet"],
        input="\n".join(requirements),
        capture_output=True,
        text=True,
        check=True,
        timeout=PIP_TIMEOUT_SECONDS,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    ).stdout


def pins(name: str, python: str | None = None) -> list[str]:
    """The pins of pins/<name>.txt; with `python`, only those its markers give that Python
    on this machine."""
    found = []
    for line in (PINS / f"{name}.txt").read_text().splitlines():
        requirement, _, marker = (part.strip() for part in line.partition(";"))
        if "==" not in requirement:
            continue
        if python and marker:
            environment = {"python_version": python, "python_full_version": f"{python}.0"}
            if not Marker(marker).evaluate(environment):
                continue
        found.append(requirement)
    return found


def _fill_upstream(destination: Path, pythons: tuple[str, ...]) -> None:
    """For each Python, the platform wheels of every pin: those its markers give it, then
    the others (another Python's version of a package, which a lock may still move to).
    A pin with no wheel for any of them (a Windows-only package, say) gets one file, so
    that a universal lock can read its metadata: a Windows wheel, else its sdist."""
    every = pins("upstream")
    downloaded: set[str] = set()
    for python in pythons:
        target = ["--no-deps", "--only-binary=:all:", "--python-version", python]
        applied = pins("upstream", python)
        _pip_download([*target, *applied], destination)
        downloaded.update(applied)
        for pin in every:
            if pin in applied:
                continue
            try:
                _pip_download([*target, pin], destination)
                downloaded.add(pin)
            except subprocess.CalledProcessError:
                continue
    for pin in sorted(set(every) - downloaded):
        try:
            _pip_download(
                ["--no-deps", "--only-binary=:all:", "--platform", "win_amd64", pin], destination
            )
        except subprocess.CalledProcessError:
            _pip_download(["--no-deps", "--no-binary=:all:", pin], destination)


def _fill_tools(destination: Path, python: str) -> None:
    _pip_download(
        ["--no-deps", "--only-binary=:all:", "--python-version", python, *pins("tools", python)],
        destination,
    )


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


def upstream_wheelhouse(*pythons: str) -> Path:
    """Wheels for a feed's upstream: platform wheels for each Python "X.Y" in `pythons`."""
    pythons = tuple(sorted(set(pythons)))
    key = _key(*pins("upstream"), *pythons, platform.machine(), platform.system())
    return cached_dir("upstream", key, partial(_fill_upstream, pythons=pythons))


def tools_wheelhouse(python: str) -> Path:
    key = _key(*pins("tools", python), python, platform.machine(), platform.system())
    return cached_dir("tools", key, partial(_fill_tools, python=python))


def _fill_wheel_tags(destination: Path, project: str, version: str, platform_tag: str) -> None:
    """The CPython tags of the wheels `project` `version` has on PyPI for `platform_tag`, as
    its simple page lists them: one line each."""
    url = f"https://pypi.org/simple/{project}/"
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=PIP_TIMEOUT_SECONDS) as response:
        page = response.read().decode()
    prefix = f"{project.replace('-', '_')}-{version}-"
    tags = {
        name.removeprefix(prefix).split("-")[0]
        for name in re.findall(r">([^<]+\.whl)<", page)
        if name.startswith(prefix) and platform_tag in name
    }
    (destination / "tags.txt").write_text("".join(f"{tag}\n" for tag in sorted(tags)))


def wheel_pythons(project: str, platform_tag: str) -> list[str]:
    """The CPython versions ("3.13") the pinned release of `project` has wheels for on
    `platform_tag` (a manylinux x86_64 tag, say), read from PyPI once per pin."""
    (version,) = [pin.split("==")[1] for pin in pins("tools") if pin.startswith(f"{project}==")]
    key = _key(project, version, platform_tag)
    fill = partial(_fill_wheel_tags, project=project, version=version, platform_tag=platform_tag)
    tags = (cached_dir("wheel-tags", key, fill) / "tags.txt").read_text().split()
    versions = [f"{tag[2]}.{tag[3:]}" for tag in tags if re.fullmatch(r"cp3\d+", tag)]
    return sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


# A uv older than the pinned one, as a developer machine that has not updated runs.
OLDER_UV = "0.13.8"


def _fill_older_uv(destination: Path) -> None:
    _pip_download(["--no-deps", "--only-binary=:all:", f"uv=={OLDER_UV}"], destination)
    (wheel,) = destination.glob("uv-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [name for name in archive.namelist() if name.endswith("/scripts/uv")]
        (destination / "uv").write_bytes(archive.read(member))
    (destination / "uv").chmod(0o755)
    wheel.unlink()


def older_uv() -> Path:
    """The `uv` command of release OLDER_UV, for this machine."""
    key = _key(OLDER_UV, platform.machine(), platform.system())
    return cached_dir("older-uv", key, _fill_older_uv) / "uv"


def update_pins() -> None:
    PINS.mkdir(exist_ok=True)
    (PINS / "upstream.txt").write_text(compile_pins(UPSTREAM_REQUIREMENTS))
    (PINS / "tools.txt").write_text(compile_pins(TOOL_REQUIREMENTS))


if __name__ == "__main__":
    if sys.argv[1:] == ["--update-pins"]:
        update_pins()
    else:
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        print(upstream_wheelhouse(version))
        print(tools_wheelhouse(version))
