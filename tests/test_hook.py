"""The post-generation hook: installs keyring for Azure once, and never costs the user the copy."""

import os
from pathlib import Path

from azure_standins.template_facts import EXAMPLE_ANSWERS
from tests.fake_commands import calls, fake_uv
from tests.rendering import copier_cli, data_args

MANUAL_COMMAND = "uv tool install keyring --with artifacts-keyring"


def copy_with_hook(template_dir: Path, destination: Path, path: str, install_keyring=True):
    answers = {**EXAMPLE_ANSWERS, "install_keyring": install_keyring}
    env = {**os.environ, "PATH": path}
    return copier_cli(
        "copy",
        "--trust",
        "--defaults",
        *data_args(answers),
        str(template_dir),
        str(destination),
        env=env,
    )


def test_hook_is_skipped_when_install_keyring_is_false(template_dir, tmp_path):
    log = tmp_path / "uv.log"
    fake_uv(tmp_path / "bin", log)
    result = copy_with_hook(template_dir, tmp_path / "p", str(tmp_path / "bin"), False)
    assert result.returncode == 0, result.stderr
    assert calls(log) == []


def test_hook_installs_keyring_with_artifacts_keyring(template_dir, tmp_path):
    log = tmp_path / "uv.log"
    fake_uv(tmp_path / "bin", log)
    result = copy_with_hook(template_dir, tmp_path / "p", str(tmp_path / "bin"))
    assert result.returncode == 0, result.stderr
    assert calls(log) == [
        "tool list --show-with",
        "tool install keyring --with artifacts-keyring",
    ]


def test_hook_says_so_when_keyring_is_already_installed(template_dir, tmp_path):
    log = tmp_path / "uv.log"
    installed = "keyring v25.7.0 [with: artifacts-keyring]\n- keyring"
    fake_uv(tmp_path / "bin", log, tool_list=installed)
    result = copy_with_hook(template_dir, tmp_path / "p", str(tmp_path / "bin"))
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout
    assert calls(log) == ["tool list --show-with"]


def test_copy_succeeds_and_warns_without_uv_on_path(template_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = copy_with_hook(template_dir, tmp_path / "p", str(empty))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert "uv is not on PATH" in result.stderr
    assert MANUAL_COMMAND in result.stderr


def test_copy_succeeds_and_warns_when_the_install_fails(template_dir, tmp_path):
    log = tmp_path / "uv.log"
    fake_uv(tmp_path / "bin", log, install_exit=2)
    result = copy_with_hook(template_dir, tmp_path / "p", str(tmp_path / "bin"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert "exited with code 2" in result.stderr
    assert MANUAL_COMMAND in result.stderr
