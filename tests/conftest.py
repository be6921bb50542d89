"""Fixtures shared by the template's tests."""

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.variants import BASE_ANSWERS

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


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """The template outside git, so Copier reads it in place instead of cloning it."""
    copy = tmp_path_factory.mktemp("template") / "copier-uv-azure"
    shutil.copytree(TEMPLATE_ROOT / "template", copy / "template")
    shutil.copytree(
        TEMPLATE_ROOT / "hooks", copy / "hooks", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(TEMPLATE_ROOT / "copier.yml", copy / "copier.yml")
    return copy


def copier_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the copier command line as a user would, with this environment's Python."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *args], capture_output=True, text=True, env=env
    )


def data_args(answers: dict) -> list[str]:
    """`--data key=value` arguments for answers (booleans as Copier's YAML reads them)."""
    pairs = [
        f"{key}={str(value).lower() if isinstance(value, bool) else value}"
        for key, value in answers.items()
    ]
    return [arg for pair in pairs for arg in ("--data", pair)]
