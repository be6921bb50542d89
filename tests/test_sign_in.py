"""A developer's sign-in, through Microsoft's own components, against the emulator served as
Azure's real hosts: no UV_INDEX_* credentials anywhere here.

- Azure DevOps Services: keyring with artifacts-keyring, installed as the hook installs it;
  its bundled credential provider answers from VSS_NUGET_URI_PREFIXES and
  VSS_NUGET_ACCESSTOKEN, which is how it behaves after an interactive sign-in.
- Azure DevOps Server: artifacts-keyring never answers for a server, so the route is one
  keyring entry under the server's host name holding a PAT, in a real file-based backend.
"""

import shlex
import subprocess
import time
from pathlib import Path

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.keyring_tools import file_keyring_env, signed_in_env
from azure_standins.template_facts import EXAMPLE_SERVER_ANSWERS, EXAMPLE_SERVER_HOST
from azure_standins.uv_environment import run_uv
from tests.fake_commands import SERVICES_KEYRING_INSTALL
from tests.outcomes import ok
from tests.shells import SHELLS, Run, SetVariable, terminal_statements

pytestmark = pytest.mark.e2e

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
ORGANIZATION_URL = "https://pkgs.dev.azure.com/contoso/"
BUILT = {"contoso_widgets-0.1.0-py3-none-any.whl", "contoso_widgets-0.1.0.tar.gz"}


def no_authorization_reached_the_blob_store(emulator) -> bool:
    blobs = [request for request in emulator.requests if request.kind == "blob"]
    return bool(blobs) and all(request.status == 200 for request in blobs)


def test_artifacts_keyring_signs_uv_in_for_every_step_of_a_project_and_its_consumer(
    project_for, feed_server, uv_env, artifacts_keyring, tmp_path
):
    feed = feed_server.feed("widgets")
    env = signed_in_env(uv_env, artifacts_keyring, ORGANIZATION_URL, feed.token)
    env["UV_CACHE_DIR"] = str(tmp_path / "cache")  # every file comes from the feed
    project = project_for(**PROJECT_FEED)
    ok(run_uv(project, "lock", env=env))
    # A process that never fetched the index: uv asks keyring for the file URLs themselves.
    cold = {**env, "UV_CACHE_DIR": str(tmp_path / "cold-cache")}
    ok(run_uv(project, "sync", "--locked", env=cold))
    assert "1 passed" in ok(run_uv(project, "run", "pytest", env=env)).stdout
    ok(run_uv(project, "build", "--no-sources", env=env))
    ok(run_uv(project, "publish", "--index", "azure-devops", env=env))
    assert feed.published_files() == BUILT

    consumer = project_for(
        "consumer", project_name="Contoso Gadgets", publish=False, **PROJECT_FEED
    )
    ok(run_uv(consumer, "add", "contoso-widgets==0.1.0", env=env))
    for lock in (project / "uv.lock", consumer / "uv.lock"):
        text = lock.read_text()
        assert feed.token not in text and "VssSessionToken" not in text
    assert no_authorization_reached_the_blob_store(feed_server)


def test_a_wrong_token_fails_with_a_401_within_seconds(
    project_for, feed_server, uv_env, artifacts_keyring
):
    env = signed_in_env(uv_env, artifacts_keyring, ORGANIZATION_URL, "not-the-token")
    started = time.monotonic()
    result = run_uv(project_for(**PROJECT_FEED), "lock", env=env)
    assert result.returncode != 0
    assert "401" in result.stderr
    assert time.monotonic() - started < 30


def test_a_server_signs_in_with_one_keyring_entry_under_its_host_name(
    project_for, feed_server, uv_env, file_keyring, tmp_path
):
    """What the README and the after-copy message tell a server's users to do."""
    feed = feed_server.feed(EXAMPLE_SERVER_ANSWERS["azure_feed"])
    env = file_keyring_env(uv_env, file_keyring, tmp_path / "keyring-data")
    stored = subprocess.run(
        ["keyring", "set", EXAMPLE_SERVER_HOST, "VssSessionToken"],
        input=feed.token + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert stored.returncode == 0, stored.stderr
    project = project_for("server", **EXAMPLE_SERVER_ANSWERS)
    ok(run_uv(project, "lock", env=env))
    ok(run_uv(project, "sync", "--locked", env={**env, "UV_CACHE_DIR": str(tmp_path / "cold")}))
    ok(run_uv(project, "build", "--no-sources", env=env))
    ok(run_uv(project, "publish", "--index", "azure-devops", env=env))
    assert feed.published_files() == BUILT
    assert feed.token not in (project / "uv.lock").read_text()
    assert no_authorization_reached_the_blob_store(feed_server)


def test_the_readme_pat_variables_sign_uv_in_in_every_shell_and_the_password_alone_does_not(
    project_for, feed_server, uv_env, tmp_path
):
    """The generated README's PAT route, as each shell's block sets it. Its old PowerShell
    line set only the password: uv then sends no credentials and gets a 401."""
    feed = feed_server.feed("widgets")
    project = project_for(**PROJECT_FEED)
    rows = terminal_statements((project / "docs/sign-in.md").read_text())
    for shell, _ in enumerate(SHELLS):
        variables = {
            row[shell].name: row[shell].value.replace("<your PAT>", feed.token)
            for row in rows
            if isinstance(row[shell], SetVariable)
        }
        env = {**uv_env, **variables, "UV_CACHE_DIR": str(tmp_path / f"cache-{shell}")}
        ok(run_uv(project, "lock", env=env))
        (project / "uv.lock").unlink()
    password_only = {k: v for k, v in variables.items() if k.endswith("_PASSWORD")}
    env = {**uv_env, **password_only, "UV_CACHE_DIR": str(tmp_path / "cache-password-only")}
    refused = run_uv(project, "lock", env=env)
    assert refused.returncode != 0 and "401" in refused.stderr


@pytest.mark.parametrize(
    ("answers", "block", "backend"),
    [({}, SERVICES_KEYRING_INSTALL, "artifacts_keyring"),
     (EXAMPLE_SERVER_ANSWERS, "uv tool install keyring", "keyring.backends")],
    ids=["services", "server"],
)  # fmt: skip
def test_the_sign_in_pages_keyring_installs_run_as_written(
    render, fresh_machine, answers, block, backend
):
    """A project's docs/sign-in.md's install, as written on a fresh machine (from the tools
    wheelhouse, offline): the keyring uv then runs, in uv's tool folder, has the backend it
    needs."""
    rows = terminal_statements((render(**answers) / "docs/sign-in.md").read_text())
    assert Run(tuple(shlex.split(block))) in {row[0] for row in rows}
    home = Path(fresh_machine["HOME"])
    ran = subprocess.run(
        ["sh", "-c", block], cwd=home, env=fresh_machine, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    listed = subprocess.run(
        [str(home / ".local/bin/keyring"), "--list-backends"], env=fresh_machine,
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert backend in listed.stdout, listed.stdout + listed.stderr
