"""The repository's own promises: the README's two commands, what .ci/run does, one uv pin."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import TEMPLATE_ROOT

README = (TEMPLATE_ROOT / "README.md").read_text()
PINNED_UV = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["uv_version"]["default"]
RENDER_PREFIX = "uvx --with jinja2-time --with copier-template-extensions copier "


def readme_commands() -> list[str]:
    """Lines of the README's sh blocks."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_test_command_is_what_ci_runs():
    assert "uv run pytest" in readme_commands()
    ci = (TEMPLATE_ROOT / ".ci/run").read_text()
    assert re.search(r'^"\$uv" run pytest$', ci, re.MULTILINE)


def test_uv_is_pinned_to_one_version_everywhere():
    dev = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    assert f"uv=={PINNED_UV}" in dev
    assert f'"uv=={PINNED_UV}"' in (TEMPLATE_ROOT / ".ci/run").read_text()


def test_readme_render_command_renders_a_project(template_dir, tmp_path):
    """The README's non-interactive command, as written, with this environment's copier in
    place of uvx, and no uv on PATH (the hook then only warns)."""
    (command,) = [
        c for c in readme_commands() if c.startswith(RENDER_PREFIX + "copy") and "--data" in c
    ]
    workdir = tmp_path / "clone"
    shutil.copytree(template_dir, workdir)
    args = shlex.split(command.removeprefix(RENDER_PREFIX))
    result = subprocess.run(
        [sys.executable, "-m", "copier", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(tmp_path / "no-tools")},
    )
    assert result.returncode == 0, result.stderr
    project = tmp_path / args[-1].removeprefix("../")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["index"][0]["url"] == (
        "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/widgets/pypi/simple/"
    )
    assert "uv tool install keyring --with artifacts-keyring" in result.stderr


def fake_command(path: Path, log: Path, stdout: str = "") -> None:
    path.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"print({stdout!r})\n"
    )
    path.chmod(0o755)


@pytest.mark.parametrize("uv_on_path", [False, True], ids=["uv-missing", "uv-present"])
def test_ci_run_installs_uv_when_missing_then_runs_the_tests(tmp_path, uv_on_path):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(TEMPLATE_ROOT / ".ci/run", repo / ".ci/run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    fake_uv = (bin_dir if uv_on_path else tmp_path) / "uv"
    fake_command(fake_uv, log)
    # python3 answers `-m pip install` (recorded) and prints where the installed uv is.
    fake_command(bin_dir / "python3", log, stdout=str(fake_uv))
    system_bin = [d for d in ("/usr/bin", "/bin") if Path(d).is_dir()]
    assert not any((Path(d) / "uv").exists() for d in system_bin)
    result = subprocess.run(
        ["bash", str(repo / ".ci/run")],
        capture_output=True,
        text=True,
        env={"PATH": os.pathsep.join([str(bin_dir), *system_bin]), "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    if uv_on_path:
        assert "-m pip install --quiet uv==" + PINNED_UV not in calls
    else:
        assert calls[0] == f"-m pip install --quiet uv=={PINNED_UV}"
    assert calls[-1] == "run pytest"
