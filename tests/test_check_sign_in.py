"""The generated project's sign-in check, run as its README says, against the emulator served
as Azure's hosts, with one fault at a time: it names the fix for the first step that fails,
and never prints a secret. The keyrings are real (artifacts-keyring with its credential
provider, keyrings.alt), as is uv, old and new."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.keyring_tools import file_keyring_env, signed_in_env
from azure_standins.template_facts import (
    EXAMPLE_SERVER_ANSWERS,
    EXAMPLE_SERVER_HOST,
    PINNED_UV,
    TEMPLATE_ROOT,
)
from azure_standins.uv_environment import UV, uv_only
from azure_standins.wheelhouse import OLDER_UV, older_uv
from tests.fake_commands import ARTIFACTS_BACKEND, SERVICES_KEYRING_INSTALL, executable
from tests.rendering import load_module
from tests.shells import Run, terminal_statements
from tests.terminal import type_at_prompt

pytestmark = pytest.mark.e2e

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
ORGANIZATION_URL = "https://pkgs.dev.azure.com/contoso/"
INDEX_URL = "https://pkgs.dev.azure.com/contoso/Widget%20Platform/_packaging/widgets/pypi/simple/"
CHECK = ("uv", "run", "--no-config", "scripts/check_sign_in.py")


def check_sign_in(project: Path, env: dict, uv: str | None = None) -> subprocess.CompletedProcess:
    """The README's command, with `uv` (default: the machine's) first on PATH."""
    rows = terminal_statements((project / "docs/sign-in.md").read_text())
    assert Run(CHECK) in {row[0] for row in rows}
    if uv is not None:
        env = {**env, "PATH": f"{Path(uv).parent}{os.pathsep}{env['PATH']}"}
    return subprocess.run(
        [uv or UV, *CHECK[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def failed_with(result, step: str, fix: str, *secrets: str) -> None:
    """The check stopped at `step` and named `fix`; no secret anywhere in what it printed."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"[FAIL] {step}:" in output, output
    (fix_line,) = [line for line in result.stdout.splitlines() if line.startswith("Fix: ")]
    assert fix in fix_line, output
    # ... and pointed to the project's table of messages and fixes.
    assert "Other messages, with their causes and fixes: docs/troubleshooting.md" in output
    assert all(secret not in output for secret in secrets)


def passed(result, *secrets: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "uv can sign in to the feed from this machine." in result.stdout
    assert all(secret not in output for secret in secrets)


@pytest.fixture
def project(project_for):
    return project_for(**PROJECT_FEED)


@pytest.fixture
def uv_env(uv_env, tmp_path):
    """A machine with uv on PATH (and nothing else of this environment's), and nothing
    installed as a uv tool yet."""
    uv_bin = uv_only(tmp_path / "uv-bin")
    path = f"{uv_bin}{os.pathsep}{uv_env['PATH']}"
    return {**uv_env, "PATH": path, "UV_TOOL_BIN_DIR": str(tmp_path / "no-tools")}


@pytest.fixture
def token(feed_server):
    return feed_server.feed("widgets").token


def test_a_uv_below_the_floor_is_named_with_the_update(project, uv_env):
    """Also what uv itself says, as the floor in pyproject.toml makes it."""
    old = str(older_uv())
    result = check_sign_in(project, uv_env, uv=old)
    failed_with(result, "uv", "uv self update")
    assert f"uv {OLDER_UV} is older than this project's floor (>={PINNED_UV})" in result.stdout
    locked = subprocess.run(
        [old, "lock"],
        cwd=project,
        env=uv_env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert locked.returncode == 2
    said = " ".join(locked.stderr.split())  # uv wraps its message to the terminal
    assert (
        f"Required uv version `>={PINNED_UV}` does not match the running version `{OLDER_UV}`. "
        "Update `uv` by running `uv self update`." in said
    )


def test_no_keyring_names_the_install(project, uv_env):
    result = check_sign_in(project, uv_env)
    failed_with(result, "keyring", SERVICES_KEYRING_INSTALL)


def test_a_keyring_installed_off_path_names_update_shell(project, uv_env, artifacts_keyring):
    env = {**uv_env, "UV_TOOL_BIN_DIR": str(artifacts_keyring)}
    failed_with(check_sign_in(project, env), "keyring", "uv tool update-shell")


def test_a_keyring_without_artifacts_keyring_names_the_one_to_put_first(
    project, uv_env, file_keyring, tmp_path
):
    env = file_keyring_env(uv_env, file_keyring, tmp_path / "keyring-data")
    failed_with(check_sign_in(project, env), "keyring's backends", "first on PATH")


def test_signed_in_through_artifacts_keyring_every_step_passes(
    project, uv_env, artifacts_keyring, token
):
    env = signed_in_env(uv_env, artifacts_keyring, ORGANIZATION_URL, token)
    result = check_sign_in(project, env)
    passed(result, token)
    assert "artifacts-keyring signs in to the index and to its download links" in result.stdout


def test_a_token_for_the_index_url_only_is_caught_at_the_download(
    project, uv_env, artifacts_keyring, token
):
    """artifacts-keyring's external endpoints match exact URLs: the index answers, the
    download links (outside the index, under GUIDs) do not, and a cold sync gets 401."""
    env = signed_in_env(uv_env, artifacts_keyring, ORGANIZATION_URL, token)
    del env["VSS_NUGET_URI_PREFIXES"], env["VSS_NUGET_ACCESSTOKEN"]
    endpoint = f'{{"endpoint":"{INDEX_URL}","username":"VssSessionToken","password":"{token}"}}'
    env["VSS_NUGET_EXTERNAL_FEED_ENDPOINTS"] = f'{{"endpointCredentials":[{endpoint}]}}'
    result = check_sign_in(project, env)
    failed_with(result, "a token for the index and a download", "unset VSS_NUGET_EXTERNAL", token)
    assert "answers for the index URL but not for its download links" in result.stdout


def test_an_expired_token_names_a_new_pat(project, uv_env, artifacts_keyring):
    env = signed_in_env(uv_env, artifacts_keyring, ORGANIZATION_URL, "expired-token")
    result = check_sign_in(project, env)
    failed_with(result, "a token for the index and a download", "create a new one", "expired-token")


def test_a_server_without_the_pat_in_keyring_names_keyring_set(
    project_for, uv_env, file_keyring, feed_server, tmp_path
):
    project = project_for("server", **EXAMPLE_SERVER_ANSWERS)
    env = file_keyring_env(uv_env, file_keyring, tmp_path / "keyring-data")
    result = check_sign_in(project, env)
    fix = f"keyring set {EXAMPLE_SERVER_HOST} VssSessionToken"
    failed_with(result, "the PAT under the server's host name", fix)

    token = feed_server.feed(EXAMPLE_SERVER_ANSWERS["azure_feed"]).token
    stored = subprocess.run(
        ["keyring", "set", EXAMPLE_SERVER_HOST, "VssSessionToken"],
        input=token + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert stored.returncode == 0, stored.stderr
    passed(check_sign_in(project, env), token)


def test_a_server_machine_with_no_password_store_names_uv_auth_login(
    project_for, uv_env, plain_keyring
):
    project = project_for("server", **EXAMPLE_SERVER_ANSWERS)
    env = {**uv_env, "PATH": f"{plain_keyring}{os.pathsep}{uv_env['PATH']}"}
    result = check_sign_in(project, env)
    failed_with(
        result,
        "keyring's backends",
        f"uv auth login {EXAMPLE_SERVER_HOST} --username VssSessionToken",
    )
    assert "has no password store on this machine" in result.stdout


def test_the_password_variable_alone_names_both(project, uv_env, token):
    env = {**uv_env, "UV_INDEX_AZURE_DEVOPS_PASSWORD": token}
    result = check_sign_in(project, env)
    failed_with(result, "the UV_INDEX variables", "UV_INDEX_AZURE_DEVOPS_USERNAME", token)
    env["UV_INDEX_AZURE_DEVOPS_USERNAME"] = "VssSessionToken"
    passed(check_sign_in(project, env), token)


def test_uv_auth_login_is_a_route_of_its_own(project, uv_env, token):
    """The README's keyring-free PAT route, typed as written: uv asks for the PAT and keeps
    it for the feed's host."""
    login = read_readme_line(project, "uv auth login")
    assert login == ("uv", "auth", "login", "pkgs.dev.azure.com", "--username", "VssSessionToken")
    code, shown = type_at_prompt([UV, *login[1:]], token, project, uv_env)
    assert code == 0 and token not in shown, shown
    result = check_sign_in(project, uv_env)
    passed(result, token)
    assert "[skip] keyring: uv signs in with uv auth login" in result.stdout
    assert "uv's credential store signs in to the index and to its download links" in result.stdout


def test_a_stale_netrc_password_is_what_uv_sends_and_is_named(project, uv_env, token, tmp_path):
    """uv's order: a netrc entry for the host comes before its own store, so a stale one wins
    over a good `uv auth login`; the check follows that order, as `uv lock` shows."""
    stored = subprocess.run(
        [UV, "auth", "login", "pkgs.dev.azure.com", "--username", "VssSessionToken",
         "--password", token],
        cwd=project, env=uv_env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    passed(check_sign_in(project, uv_env), token)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine pkgs.dev.azure.com login VssSessionToken password expired-pat\n")
    env = {**uv_env, "NETRC": str(netrc)}
    locked = subprocess.run(
        [UV, "lock"], cwd=project, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    assert locked.returncode != 0 and "401" in locked.stderr, locked.stderr
    result = check_sign_in(project, env)
    failed_with(result, "netrc", "machine pkgs.dev.azure.com", token, "expired-pat")
    netrc.write_text(f"machine pkgs.dev.azure.com login VssSessionToken password {token}\n")
    passed(check_sign_in(project, env), token)


def test_a_feed_that_does_not_exist_is_told_apart_from_a_missing_upstream(project, uv_env, token):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("/_packaging/widgets/", "/_packaging/widget/")
    )
    env = {
        **uv_env,
        "UV_INDEX_AZURE_DEVOPS_USERNAME": "VssSessionToken",
        "UV_INDEX_AZURE_DEVOPS_PASSWORD": token,
    }
    result = check_sign_in(project, env)
    failed_with(result, "the UV_INDEX variables", "Connect to feed", token)
    assert "there is no such feed" in result.stdout and "Upstream sources" not in result.stdout


def read_readme_line(project: Path, start: str) -> tuple[str, ...]:
    """The arguments of the generated sign-in page's command that starts with `start`."""
    rows = terminal_statements((project / "docs/sign-in.md").read_text())
    commands = [row[0].argv for row in rows if isinstance(row[0], Run)]
    (argv,) = [argv for argv in commands if " ".join(argv).startswith(start)]
    return argv


# -- TLS: a certificate from a CA that the system trusts and uv's bundled roots lack ------------


def with_system_ca(ca_file: Path, tmp_path: Path, env: dict) -> tuple[list[str], dict]:
    """A command prefix that runs in a mount namespace whose system bundle (the one
    OpenSSL, Python and uv's system-certs read) also holds `ca_file`, as a company's root CA
    installed on its machines; and `env` without the variables that name a bundle."""
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    bundle = tmp_path / "system-bundle.pem"
    bundle.write_text(system.read_text() + ca_file.read_text())
    prefix = ["unshare", "-m", "sh", "-c", f'mount --bind {bundle} {system} && exec "$@"', "sh"]
    clean = {k: v for k, v in env.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    return prefix, clean


def in_namespace(prefix, command, project, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def test_uv_not_trusting_a_company_ca_names_system_certs(
    project, project_for, uv_env, token, azure_hosts, tmp_path
):
    prefix, env = with_system_ca(azure_hosts.ca_file, tmp_path, uv_env)
    env = {
        **env,
        "UV_INDEX_AZURE_DEVOPS_USERNAME": "VssSessionToken",
        "UV_INDEX_AZURE_DEVOPS_PASSWORD": token,
    }
    result = in_namespace(prefix, [UV, *CHECK[1:]], project, env)
    failed_with(result, "TLS", "UV_SYSTEM_CERTS=true", token)
    # The machine trusts the CA (the index steps passed); uv, by default, does not.
    assert "[ok]   the UV_INDEX variables" in result.stdout

    # The fix it names.
    passed(in_namespace(prefix, [UV, *CHECK[1:]], project, {**env, "UV_SYSTEM_CERTS": "true"}))
    # A server's project sets it itself (system-certs in pyproject.toml): uv lock just works,
    # and fails without that line.
    server_token = azure_hosts.emulator.feed(EXAMPLE_SERVER_ANSWERS["azure_feed"]).token
    server_env = {**env, "UV_INDEX_AZURE_DEVOPS_PASSWORD": server_token}
    for name, setting in (("server", True), ("server-without", False)):
        server = project_for(name, **EXAMPLE_SERVER_ANSWERS)
        pyproject = server / "pyproject.toml"
        assert "\nsystem-certs = true\n" in pyproject.read_text()
        if not setting:
            pyproject.write_text(pyproject.read_text().replace("\nsystem-certs = true\n", "\n"))
        locked = in_namespace(prefix, [UV, "lock"], server, server_env)
        assert (locked.returncode == 0) == setting, locked.stderr


# What a failed sign-in prints through artifacts-keyring, which passes the Azure Artifacts
# Credential Provider's standard error on (microsoft/artifacts-keyring, plugin.py) and then
# fails: the provider's "[Error] [CredentialProvider]Failed to acquire session token: {0}"
# (microsoft/artifacts-credprovider, Resources.resx AcquireSessionTokenFailed, logged by
# GetAuthenticationCredentialsRequestHandler.cs) around the exception it caught. MSAL's broker
# throws "wam_runtime_init_failed: ... See https://aka.ms/msal-net-wam#troubleshooting"
# where its native runtime cannot start (MSAL.NET RuntimeBroker.cs; artifacts-credprovider#702,
# headless Linux). The session-token exchange's own exception text is Azure's and is not
# public: the provider's line is what is matched.
BROKER = (
    "[Error] [CredentialProvider]Failed to acquire session token: Microsoft.Identity.Client."
    "MsalClientException: wam_runtime_init_failed: The type initializer for 'Microsoft."
    "Identity.Client.NativeInterop.API' threw an exception. See "
    "https://aka.ms/msal-net-wam#troubleshooting"
)
SESSION_TOKEN = (
    "[Error] [CredentialProvider]Failed to acquire session token: Microsoft.VisualStudio."
    "Services.WebApi.VssServiceResponseException: (the organization's refusal)"
)
PROVIDER_EXIT = (
    "RuntimeError: Failed to get credentials: process with PID 4242 exited with code 1; no "
    "additional error message available, see Credential Provider logs above for details."
)


def failing_keyring(folder: Path, *lines: str) -> Path:
    """A `keyring` with the artifacts-keyring backend whose `get` prints `lines` on its
    standard error, as the real one does when the provider fails, and answers nothing."""
    said = "\n".join((*lines, PROVIDER_EXIT))
    executable(
        folder / "keyring",
        f"#!{sys.executable}\nimport sys\n"
        "if sys.argv[1:2] == ['--list-backends']:\n"
        f"    print({ARTIFACTS_BACKEND!r})\n"
        "    sys.exit(0)\n"
        f"print({said!r}, file=sys.stderr)\n"
        "sys.exit(1)\n",
    )
    return folder


@pytest.mark.parametrize(
    ("said", "problem", "fix"),
    [
        (BROKER, "sign-in broker cannot start", "ARTIFACTS_CREDENTIALPROVIDER_MSAL_ALLOW_BROKER"),
        (
            SESSION_TOKEN,
            "may block personal access tokens",
            "ARTIFACTS_CREDENTIALPROVIDER_RETURN_ENTRA_TOKENS=true",
        ),
    ],
    ids=["broker", "session-token"],
)
def test_a_credential_provider_failure_names_its_own_fix(
    project, uv_env, tmp_path, said, problem, fix
):
    env = {
        **uv_env,
        "PATH": f"{failing_keyring(tmp_path / 'bin', said)}{os.pathsep}{uv_env['PATH']}",
    }
    result = check_sign_in(project, env)
    assert said in result.stderr  # what the provider said still reaches the terminal
    failed_with(result, "a token for the index and a download", fix)
    assert problem in result.stdout


def test_a_quiet_artifacts_keyring_is_named_when_no_device_code_showed(project, uv_env, tmp_path):
    env = {
        **uv_env,
        "PATH": f"{failing_keyring(tmp_path / 'bin')}{os.pathsep}{uv_env['PATH']}",
        "ARTIFACTS_KEYRING_VERBOSITY": "Warning",
    }
    step = "a token for the index and a download"
    failed_with(check_sign_in(project, env), step, "unset ARTIFACTS_KEYRING_VERBOSITY")


@pytest.mark.parametrize(
    ("libc", "why"),
    [(("", ""), "no glibc (musl"), (("glibc", "2.17"), "glibc 2.17, older than 2.28")],
    ids=["musl", "old-glibc"],
)
def test_where_artifacts_keyring_has_no_wheel_the_fix_signs_in_without_it(
    tmp_path, libc, why, monkeypatch
):
    """No keyring yet, on a Linux its wheels do not cover: installing it would build it from
    source, so the fix is a route without it."""
    check = load_module(TEMPLATE_ROOT / "template/scripts/check_sign_in.py")
    monkeypatch.setattr(check.platform, "libc_ver", lambda: libc)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(check.Failed) as failure:
        check.find_keyring(UV, True, False, {"PATH": str(empty)}, "pkgs.dev.azure.com")
    assert why in failure.value.problem
    assert "uv auth login pkgs.dev.azure.com --username VssSessionToken" in failure.value.fix
    assert "az account get-access-token" in failure.value.fix
