"""The post-generation hook: installs keyring once, says truly whether uv can use it, and
never costs the user the copy. Run with a stand-in uv; tests/test_e2e.py runs the real one."""

import os
from pathlib import Path

import pytest

from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_SERVER_ANSWERS
from tests.fake_commands import calls, fake_uv
from tests.rendering import copier_cli, data_args

SERVICES_INSTALL = "tool install keyring --with artifacts-keyring"
SIGNED_IN = "the first `uv lock` signs you in"


def copy_with_hook(template_dir: Path, destination: Path, path: list[Path], **answers):
    answers = {**EXAMPLE_ANSWERS, "install_keyring": True, **answers}
    env = {**os.environ, "PATH": os.pathsep.join(str(folder) for folder in path)}
    return copier_cli(
        "copy",
        "--trust",
        "--defaults",
        *data_args(answers),
        str(template_dir),
        str(destination),
        env=env,
    )


@pytest.fixture
def machine(tmp_path):
    """Folders of a user's machine: where uv is, and uv's tool folder (not yet on PATH)."""
    return {"bin": tmp_path / "bin", "tools": tmp_path / "tool-bin", "log": tmp_path / "uv.log"}


def test_hook_is_skipped_when_install_keyring_is_false(template_dir, tmp_path, machine):
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"])
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"]], install_keyring=False)
    assert result.returncode == 0, result.stderr
    assert calls(machine["log"]) == []


def test_hook_installs_keyring_and_says_uv_can_sign_in_when_it_is_on_path(
    template_dir, tmp_path, machine
):
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"])
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"], machine["tools"]])
    assert result.returncode == 0, result.stderr
    assert calls(machine["log"])[:2] == ["tool list --show-with", SERVICES_INSTALL]
    assert SIGNED_IN in result.stdout


def test_hook_says_keyring_is_not_on_path_and_how_to_fix_it(template_dir, tmp_path, machine):
    """A fresh machine: uv's tool folder is not on PATH yet."""
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"])
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"]])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert f"keyring is installed in {machine['tools']}, but that folder is not on PATH" in (
        result.stderr
    )
    assert "run `uv tool update-shell`, then open a new terminal" in result.stderr
    assert SIGNED_IN not in result.stdout + result.stderr


def test_hook_names_a_keyring_on_path_without_artifacts_keyring(template_dir, tmp_path, machine):
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"], backends="keyring.Plain")
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"], machine["tools"]])
    assert result.returncode == 0, result.stderr
    assert "has no artifacts-keyring backend" in result.stderr
    assert SIGNED_IN not in result.stdout


def test_hook_says_so_when_keyring_is_already_installed(template_dir, tmp_path, machine):
    installed = "keyring v25.7.0 [with: artifacts-keyring]\n- keyring"
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"], installed=installed)
    machine["tools"].mkdir()
    (machine["tools"] / "keyring").write_text("#!/bin/sh\necho artifacts_keyring.Backend\n")
    (machine["tools"] / "keyring").chmod(0o755)
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"], machine["tools"]])
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout
    assert SERVICES_INSTALL not in calls(machine["log"])
    assert SIGNED_IN in result.stdout


def test_for_a_server_the_hook_installs_keyring_alone_and_gives_the_pat_route(
    template_dir, tmp_path, machine
):
    """artifacts-keyring never answers for Azure DevOps Server: installing it would be for
    nothing. The route that works is a PAT in keyring under the server's host name."""
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"], backends="keyring.Plain")
    result = copy_with_hook(
        template_dir, tmp_path / "p", [machine["bin"], machine["tools"]], **EXAMPLE_SERVER_ANSWERS
    )
    assert result.returncode == 0, result.stderr
    assert "tool install keyring" in calls(machine["log"])
    assert not any("artifacts-keyring" in call for call in calls(machine["log"]))
    assert "keyring set devops.contoso.com VssSessionToken" in result.stdout
    # The after-copy message gives the same route and the identity the README names.
    assert "keyring set devops.contoso.com VssSessionToken" in result.stderr
    assert '"R and D Build Service (DefaultCollection)"' in result.stderr
    readme = (tmp_path / "p/README.md").read_text()
    assert "keyring set devops.contoso.com VssSessionToken" in readme
    assert "R and D Build Service (DefaultCollection)" in readme


def test_copy_succeeds_and_warns_without_uv_on_path(template_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = copy_with_hook(template_dir, tmp_path / "p", [empty])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert "uv is not on PATH" in result.stderr
    assert "uv tool install keyring --with artifacts-keyring" in result.stderr


def test_copy_succeeds_and_warns_when_the_install_fails(template_dir, tmp_path, machine):
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"], install_exit=2)
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"], machine["tools"]])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert "exited with code 2" in result.stderr
    assert "uv tool install keyring --with artifacts-keyring" in result.stderr
    assert SIGNED_IN not in result.stdout
