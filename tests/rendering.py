"""Rendering the template as users do: Copier's command line, `--data` arguments, and a
copy of the template outside git."""

import shutil
import subprocess
import sys
import types
from pathlib import Path

from azure_standins import COMMAND_TIMEOUT
from azure_standins.template_facts import TEMPLATE_ROOT


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


def copier_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the copier command line as a user would, with this environment's Python."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *args],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=cwd,
        timeout=COMMAND_TIMEOUT,
    )


def data_args(answers: dict) -> list[str]:
    """`--data key=value` arguments for answers (booleans as Copier's YAML reads them)."""
    pairs = [
        f"{key}={str(value).lower() if isinstance(value, bool) else value}"
        for key, value in answers.items()
    ]
    return [arg for pair in pairs for arg in ("--data", pair)]


def copy_project(project: Path, destination: Path) -> Path:
    """A private copy of a shared rendered project, for a test that changes it."""
    shutil.copytree(project, destination, ignore=shutil.ignore_patterns(".venv", "dist"))
    return destination


def project_pages(project: Path) -> str:
    """What a rendered project tells its readers: its README and the pages under docs/."""
    pages = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    return "\n\n".join(page.read_text(encoding="utf-8") for page in pages)


def load_module(path: Path) -> types.ModuleType:
    """A Python file of the repository (a hook, a template script), imported without writing
    a __pycache__ beside it: Copier would copy one out of template/."""
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    sys.modules[path.stem] = module  # dataclasses look their module up by name
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
    return module
