"""Two releases of the template in a git repository, for updates: v1.0.0, an older release,
and v2.0.0, the template as it is now."""

import shutil
from pathlib import Path

from azure_standins.git_repo import git
from tests.rendering import copy_template

OLD_UV = 'uv_version:\n  type: str\n  default: "0.13.0"'
FORMAT_STEP = """          - script: uv run --no-sync ruff format --check
            displayName: Check formatting

"""
TYPES_STEP = """
          # Strict for src/ and tests/ (py.typed promises types to the teams that install it).
          - script: uv run --no-sync mypy
            displayName: Check types
"""
MYPY_CONFIG = ("# Strict for the package other teams install", "[tool.pytest.ini_options]")
MYPY_DEPENDENCY = '    "mypy=={{ mypy_version }}",\n'
# The questions v1.0.0 did not ask yet: from the first one's comment up to the next question.
NEW_QUESTION = ("# Who may upload: the identity behind this service connection", "install_keyring:")
# v1.0.0 still offered Python 3.10, which has since reached its end of life.
EOL_CHOICE = ('    "3.10 (end of life)":\n', "\n\n# A library must install")
# v1.0.0 made libraries only, whose floor was python_version: the questions that split
# them, from their comments to the next question, become what v1.0.0 computed.
SINCE_KINDS = [
    ("# What the project ships", "python_version:", "project_kind:\n  type: str\n"
     '  default: library\n  when: false\n\n'),
    ("# A library must install", "\n\n# =====", "\n\npython_floor:\n  type: str\n"
     '  default: "{{ python_version }}"\n  when: false'),
]  # fmt: skip


def make_old_release(template: Path) -> None:
    """What v1.0.0 looked like: uv 0.13.0 pinned, no `ruff format --check` step, no
    publish_service_connection or agent_pool question (questions added since, which updates
    must answer by default), Python 3.10 still offered, and libraries only, whose
    requires-python was python_version."""
    copier_yml = template / "copier.yml"
    text = copier_yml.read_text()
    new = 'uv_version:\n  type: str\n  default: "0.13.9"'
    assert new in text
    text = text.replace(new, OLD_UV)
    start, end = (text.index(marker) for marker in NEW_QUESTION)
    text = text[:start] + text[end:]
    start = text.index(EOL_CHOICE[0])
    end = text.index(EOL_CHOICE[1], start)
    text = text[:start] + '    "3.10": "3.10"' + text[end:]
    text = text.replace('default: ["3.11",', 'default: ["3.10", "3.11",')
    for first, after, computed in SINCE_KINDS:
        start = text.index(first)
        end = text.index(after, start)
        text = text[:start] + computed + text[end:]
    copier_yml.write_text(text)
    pipeline = template / "template/azure-pipelines.yml.jinja"
    assert FORMAT_STEP in pipeline.read_text() and TYPES_STEP in pipeline.read_text()
    pipeline.write_text(pipeline.read_text().replace(TYPES_STEP, "").replace(FORMAT_STEP, ""))
    pyproject = template / "template/pyproject.toml.jinja"
    text = pyproject.read_text()
    start, end = (text.index(marker) for marker in MYPY_CONFIG)
    assert MYPY_DEPENDENCY in text
    pyproject.write_text((text[:start] + text[end:]).replace(MYPY_DEPENDENCY, ""))


def release_repository(repo: Path) -> Path:
    """`repo` made a git repository holding both releases, tagged."""
    git(repo, "init", "-q", "-b", "main")
    copy_template(repo)
    make_old_release(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1.0.0")
    shutil.rmtree(repo / "template")  # so that files v2 no longer has are gone
    copy_template(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v2")
    git(repo, "tag", "v2.0.0")
    return repo
