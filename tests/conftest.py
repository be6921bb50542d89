"""Fixtures shared by the template's tests."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.feed_emulator import FeedEmulator
from tests.uv_environment import clean_env, find_interpreter
from tests.variants import BASE_ANSWERS, EMULATED_FEEDS
from tests.wheelhouse import upstream_wheelhouse

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]

Render = Callable[..., Path]


@pytest.fixture(scope="session")
def render(copie_session) -> Render:
    """Render the template with BASE_ANSWERS plus the given answers, once per session.

    Rendered projects are shared: a test that changes files must copy the project first.
    """
    rendered: dict[tuple, Path] = {}

    def _render(**answers) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in rendered:
            result = copie_session.copy(
                extra_answers={**BASE_ANSWERS, **answers}, template_dir=TEMPLATE_ROOT
            )
            if result.exception is not None:
                raise result.exception
            rendered[key] = result.project_dir
        return rendered[key]

    return _render


def copy_template(destination: Path) -> None:
    """What Copier reads of this repository: copier.yml, template/ and hooks/."""
    shutil.copytree(TEMPLATE_ROOT / "template", destination / "template", dirs_exist_ok=True)
    shutil.copytree(
        TEMPLATE_ROOT / "hooks",
        destination / "hooks",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(TEMPLATE_ROOT / "copier.yml", destination / "copier.yml")


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """The template outside git, so Copier reads it in place instead of cloning it."""
    copy = tmp_path_factory.mktemp("template") / "copier-uv-azure"
    copy_template(copy)
    return copy


def copier_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the copier command line as a user would, with this environment's Python."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *args], capture_output=True, text=True, env=env
    )


def fake_uv(bin_dir: Path, log: Path, *, tool_list: str = "", install_exit: int = 0) -> None:
    """A stand-in `uv` that records its arguments and answers `tool list` and `tool install`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "uv"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        "    log.write(' '.join(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1:3] == ['tool', 'list']:\n"
        f"    print({tool_list!r})\n"
        "    sys.exit(0)\n"
        f"sys.exit({install_exit})\n"
    )
    script.chmod(0o755)


def uv_calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def data_args(answers: dict) -> list[str]:
    """`--data key=value` arguments for answers (booleans as Copier's YAML reads them)."""
    pairs = [
        f"{key}={str(value).lower() if isinstance(value, bool) else value}"
        for key, value in answers.items()
    ]
    return [arg for pair in pairs for arg in ("--data", pair)]


# -- the feed emulator and real uv ------------------------------------------------------


@pytest.fixture(scope="session")
def wheelhouse(interpreter) -> Path:
    return upstream_wheelhouse(interpreter[1])


@pytest.fixture(scope="session")
def emulator(wheelhouse) -> Iterator[FeedEmulator]:
    """One emulator per test session (per xdist worker), holding EMULATED_FEEDS."""
    server = FeedEmulator()
    for organization, feed, project in EMULATED_FEEDS:
        server.add_feed(organization, feed, project, upstream=wheelhouse)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def feed_server(emulator) -> FeedEmulator:
    """The session's emulator with its request log and published packages cleared."""
    emulator.reset()
    for feed in emulator.feeds:
        feed.packages.clear()
        feed.deleted_versions.clear()
    return emulator


@pytest.fixture(scope="session")
def interpreter() -> tuple[str, str]:
    return find_interpreter()


@pytest.fixture(scope="session")
def shared_uv_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def uv_env(shared_uv_cache, interpreter, tmp_path) -> dict[str, str]:
    return clean_env(shared_uv_cache, interpreter[0], tmp_path / "config")


def copy_project(project: Path, destination: Path) -> Path:
    """A private copy of a shared rendered project, for a test that changes it."""
    shutil.copytree(project, destination, ignore=shutil.ignore_patterns(".venv", "dist"))
    return destination


@pytest.fixture(scope="session", autouse=True)
def git_identity() -> None:
    """Copier commits in temporary repositories during updates; CI may have no git identity."""
    for variable, value in {
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@copier-uv-azure.invalid",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@copier-uv-azure.invalid",
    }.items():
        os.environ.setdefault(variable, value)
