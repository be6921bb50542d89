"""What Copier prints after a copy: steps whose commands a user pastes into whatever terminal
they have, so each must work as written in every shell (after an update: test_update.py)."""

import shlex

import pytest

from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_SERVER_ANSWERS
from tests.fake_commands import SERVICES_KEYRING_INSTALL
from tests.rendering import copier_cli, data_args
from tests.shells import message_commands


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {},
            [tuple(shlex.split(SERVICES_KEYRING_INSTALL)), ("uv", "lock")],
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
        ("pushd", str(destination)),
        ("git", "init", "-b", "main"),
        *expected[1:],
        ("uv", "run", "pytest"),
        ("git", "add", "-A"),
        ("git", "commit", "-m", "Start contoso-widgets from copier-uv-azure"),
        ("git", "remote", "add", "origin", "<clone URL>"),
        ("git", "push", "-u", "origin", "main"),
    ]
    # In the order that works the first time: the pipeline's identity gets its feed role
    # before the pipeline exists, and the pipeline before the policy that names it.
    message = copied.stderr
    identity = message.index("give its identity")
    assert message.index("git push") < identity < message.index("New pipeline")
    assert message.index("New pipeline") < message.index("Build Validation")
