"""What Copier prints after a copy and after an update: steps whose commands a user pastes
into whatever terminal they have, so each must work as written in every shell."""

import os
import re

import pytest

from azure_standins.git_repo import commit_as_new_repository
from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_SERVER_ANSWERS
from azure_standins.uv_environment import system_path
from tests.rendering import copier_cli, data_args
from tests.shells import CMD, Run, read_everywhere


def message_commands(output: str) -> list[tuple[str, ...]]:
    """The commands in a message (lines of their own, seven spaces in), as every
    shell passes them to the program."""
    lines = re.findall(r"^ {7}(\S.*)$", output, re.MULTILINE)
    commands = []
    for line in lines:
        statement = read_everywhere(line)[CMD]
        assert isinstance(statement, Run), line
        commands.append(statement.argv)
    return commands


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {},
            [("uv", "tool", "install", "keyring", "--with", "artifacts-keyring"), ("uv", "lock")],
        ),
        (
            {**EXAMPLE_SERVER_ANSWERS, "publish": False},
            [
                ("uv", "tool", "install", "keyring"),
                ("keyring", "set", "devops.contoso.com", "VssSessionToken"),
                ("uv", "lock"),
            ],
        ),
    ],
    ids=["services", "server"],
)
def test_after_copy_commands_work_as_written_in_every_shell(
    template_dir, tmp_path, answers, expected
):
    destination = tmp_path / "my projects" / "contoso-widgets"
    answers = {**EXAMPLE_ANSWERS, **answers, "install_keyring": False}
    copied = copier_cli(
        "copy", "--trust", "--defaults", *data_args(answers), str(template_dir), str(destination)
    )
    assert copied.returncode == 0, copied.stderr
    commands = message_commands(copied.stderr)
    assert commands == [
        expected[0],
        ("cd", str(destination)),
        ("git", "init", "-b", "main"),
        *expected[1:],
        ("uv", "run", "pytest"),
        ("git", "add", "."),
        ("git", "commit", "-m", "Start contoso-widgets from copier-uv-azure"),
    ]


def test_after_update_commands_work_as_written_in_every_shell(template_repo, tmp_path):
    env = {**os.environ, "PATH": system_path()}
    project = tmp_path / "p"
    copied = copier_cli(
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        "v1.0.0",
        *data_args(EXAMPLE_ANSWERS),
        str(template_repo),
        str(project),
        env=env,
    )
    assert copied.returncode == 0, copied.stderr
    commit_as_new_repository(project, "Start")
    updated = copier_cli(
        "update", "--trust", "--defaults", "--vcs-ref", "v2.0.0", env=env, cwd=project
    )
    assert updated.returncode == 0, updated.stderr
    assert message_commands(updated.stderr) == [
        ("git", "diff", "--check"),
        ("uv", "lock"),
        ("uv", "run", "pytest"),
        ("git", "diff"),
    ]
