"""What Copier prints after a copy: steps whose commands a user pastes into whatever terminal
they have, so each must work as written in every shell (after an update: test_update.py)."""

import re
import shlex
import subprocess

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_SERVER_ANSWERS, TEMPLATE_ROOT
from tests.fake_commands import SERVICES_KEYRING_INSTALL
from tests.pages import troubleshooting_message
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
    # In the order that works the first time: the set-up command makes the repository, the
    # push gives it the pipeline's YAML, and its second run makes the pipeline from it.
    message = " ".join(copied.stderr.split())
    assert message.index("set-up command makes it") < message.index("git push")
    assert message.index("git push") < message.index("run again, makes the pipeline")


def test_the_troubleshooting_rows_for_copier_quote_what_copier_prints(
    template_dir, tmp_path, fresh_machine
):
    """Copier's rows, produced by running Copier as a user would get them wrong."""
    data = data_args({**EXAMPLE_ANSWERS, "install_keyring": False})
    untrusted = copier_cli("copy", "--defaults", *data, str(template_dir), str(tmp_path / "a"))
    assert untrusted.returncode != 0
    assert troubleshooting_message("Copier", "Template uses") in untrusted.stderr
    # Copier alone, without the template's extensions (uvx offline, from the tools wheelhouse)
    bare = subprocess.run(
        ["uvx", "copier", "copy", "--trust", "--defaults", *data, str(template_dir),
         str(tmp_path / "b")],
        env=fresh_machine, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert bare.returncode != 0
    said = " ".join(bare.stderr.split())
    assert troubleshooting_message("Copier", "Copier could not load") in said


def test_every_troubleshooting_row_names_who_prints_its_message_and_where_that_is_shown():
    """uv's and Copier's words are produced by tests running them (here and in
    test_check_sign_in.py); Azure's and the credential provider's are quoted from a named
    public source, in the row."""
    table = (TEMPLATE_ROOT / "template/docs/troubleshooting.md").read_text()
    rows = [row.split(" | ") for row in table.splitlines() if row.startswith("| `")]
    assert len(rows) >= 12
    for message, printed_by, *_ in rows:
        assert printed_by, message
        if printed_by not in ("uv", "Copier", "your shell"):
            assert re.search(r"\((Microsoft Learn|microsoft/[\w-]+)", printed_by), message
