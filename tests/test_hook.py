"""The post-generation hook: installs keyring once, says truly whether uv can use it, and
never costs the user the copy. Run with a stand-in uv; tests/test_e2e.py runs the real one."""

import os
import platform
import subprocess
from pathlib import Path

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_SERVER_ANSWERS
from azure_standins.uv_environment import UV, find_interpreter, system_path, uv_only
from azure_standins.wheelhouse import wheel_pythons
from tests.fake_commands import (
    ARTIFACTS_BACKEND,
    SERVICES_KEYRING_INSTALL,
    calls,
    executable,
    fake_uv,
)
from tests.rendering import copier_cli, data_args, load_module
from tests.shells import CMD, read_everywhere
from tests.terminal import type_at_prompt

# What uv is asked (the fake uv logs its arguments, without the shell's quotes)
SERVICES_INSTALL = SERVICES_KEYRING_INSTALL.removeprefix("uv ").replace('"', "")
SIGNED_IN = "the first `uv lock` signs you in"


def copy_with_hook(
    template_dir: Path, destination: Path, path: list[Path], env: dict | None = None, **answers
):
    answers = {**EXAMPLE_ANSWERS, "install_keyring": True, **answers}
    env = {**os.environ, "PATH": os.pathsep.join(str(folder) for folder in path), **(env or {})}
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
    assert "Other messages, with their causes and fixes: docs/troubleshooting.md" in result.stderr
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
    executable(machine["tools"] / "keyring", "#!/bin/sh\necho artifacts_keyring.Backend\n")
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
    # The after-copy message gives the same route; the project's pages name the identity
    # whose feed role the set-up command gives.
    assert "keyring set devops.contoso.com VssSessionToken" in result.stderr
    assert (
        "keyring set devops.contoso.com VssSessionToken"
        in (tmp_path / "p/docs/sign-in.md").read_text()
    )
    assert (
        "R and D Build Service (DefaultCollection)" in (tmp_path / "p/docs/pipeline.md").read_text()
    )


def test_copy_succeeds_and_warns_without_uv_on_path(template_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = copy_with_hook(template_dir, tmp_path / "p", [empty])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert "uv is not on PATH" in result.stderr
    assert SERVICES_KEYRING_INSTALL in result.stderr


def test_copy_succeeds_and_warns_when_the_install_fails(template_dir, tmp_path, machine):
    fake_uv(machine["bin"], machine["log"], tool_bin=machine["tools"], install_exit=2)
    result = copy_with_hook(template_dir, tmp_path / "p", [machine["bin"], machine["tools"]])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p/pyproject.toml").is_file()
    assert "exited with code 2" in result.stderr
    assert SERVICES_KEYRING_INSTALL in result.stderr
    assert SIGNED_IN not in result.stdout


# -- faults: the copy always survives, with one warning line that names the fix -------------

FIX = f"run: {SERVICES_KEYRING_INSTALL}"


def survived_with_one_warning(result, project: Path) -> str:
    """The copy exited 0, the project is whole, and one line warns and names the fix."""
    assert result.returncode == 0, result.stderr
    assert (project / "pyproject.toml").is_file() and (project / "azure-pipelines.yml").is_file()
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING:")]
    assert len(warnings) == 1 and FIX in warnings[0], result.stderr
    assert "Traceback" not in result.stderr
    return warnings[0]


def test_a_broken_uv_first_on_path_costs_nothing(template_dir, tmp_path):
    """A uv that cannot start (its interpreter is gone, as after a botched upgrade)."""
    executable(tmp_path / "bin" / "uv", "#!/nonexistent/python\n")
    result = copy_with_hook(template_dir, tmp_path / "p", [tmp_path / "bin"])
    assert "does not run" in survived_with_one_warning(result, tmp_path / "p")


def test_a_uv_that_writes_garbage_and_fails_costs_nothing(template_dir, tmp_path):
    executable(tmp_path / "bin" / "uv", "#!/bin/sh\nprintf '\\377\\376 oops\\n' >&2\nexit 101\n")
    result = copy_with_hook(template_dir, tmp_path / "p", [tmp_path / "bin"])
    assert "exited with code 101" in survived_with_one_warning(result, tmp_path / "p")


def test_a_uv_that_hangs_is_given_up_on_in_bounded_time(template_dir, tmp_path):
    """The hook's limits: copier_cli's own timeout fails this test if the hook hangs."""
    executable(tmp_path / "bin" / "uv", "#!/bin/sh\nexec /bin/sleep 600\n")
    hooks_limit = {"COPIER_UV_AZURE_HOOK_TIMEOUT": "2"}
    result = copy_with_hook(template_dir, tmp_path / "p", [tmp_path / "bin"], env=hooks_limit)
    assert "did not answer within 2 s" in survived_with_one_warning(result, tmp_path / "p")


def real_uv_machine(tmp_path: Path, **env: str) -> dict[str, str]:
    """Real uv with nothing cached and its own tool folders, and a real Python: it must
    reach an index. Only uv is on PATH (this environment's folder has a keyring)."""
    return {
        "PATH": system_path(uv_only(tmp_path / "uv-bin")),
        "UV_PYTHON": find_interpreter().path,
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(tmp_path / "tool-bin"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_HTTP_RETRIES": "0",
        **env,
    }


@pytest.mark.parametrize(
    ("network", "reason"),
    [
        # PyPI (here: an index) unreachable
        ({"UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple"}, "127.0.0.1:9/simple"),
        # a proxy that refuses every connection: pypi.org is out of reach
        ({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}, "pypi.org"),
    ],
    ids=["index-unreachable", "proxy-refuses"],
)
def test_no_network_costs_nothing(template_dir, tmp_path, network, reason):
    env = real_uv_machine(tmp_path, **network)
    result = copy_with_hook(template_dir, tmp_path / "p", [], env=env)
    assert "exited with code" in survived_with_one_warning(result, tmp_path / "p")
    assert reason in result.stderr  # uv's own words: the network was the reason


def test_a_tool_folder_uv_cannot_write_costs_nothing(template_dir, tmp_path):
    """Tests run as root, whom file modes do not stop: the tool folder's parent is a file."""
    (tmp_path / "not-a-folder").write_text("")
    env = real_uv_machine(tmp_path, UV_TOOL_DIR=str(tmp_path / "not-a-folder/tools"))
    result = copy_with_hook(template_dir, tmp_path / "p", [], env=env)
    survived_with_one_warning(result, tmp_path / "p")


def hook_module():
    """hooks/install_keyring.py, imported."""
    return load_module(HOOK)


def test_keyring_gets_a_python_the_pinned_artifacts_keyring_has_wheels_for():
    """The one line to move when a release with wheels for newer Pythons is pinned: the
    range the install asks uv for is exactly the Pythons whose wheels PyPI has for this
    machine, so uv never builds artifacts-keyring from source."""
    pythons = wheel_pythons("artifacts-keyring", f"manylinux_2_28_{platform.machine()}")
    newest = int(pythons[-1].split(".")[1])
    assert f">={pythons[0]},<3.{newest + 1}" == hook_module().sign_in_check().KEYRING_PYTHON


def test_without_such_a_python_the_hook_says_which_to_install(tmp_path):
    """Real uv, which finds no Python in the range and may download none: no source build,
    and the warning names what to install."""
    env = real_uv_machine(tmp_path, UV_PYTHON_INSTALL_DIR=str(tmp_path / "pythons"))
    env["PATH"] = str(tmp_path / "uv-bin")  # no Python at all
    env.pop("UV_PYTHON")
    result = subprocess.run(
        [find_interpreter().path, str(HOOK), INDEX_URL, "services"],
        env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("WARNING:")]
    assert "uv found no Python >=3.9,<3.14" in warning
    assert "install one (uv python install 3.13)" in warning and warning.endswith(FIX)
    assert not list(tmp_path.rglob("artifacts_keyring*"))


# -- Windows: the keyring uv really runs, found as uv finds it ---------------------------------

HOOK = Path(__file__).parents[1] / "hooks/install_keyring.py"
INDEX_URL = "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/widgets/pypi/simple/"


@pytest.fixture
def windows_hook(tmp_path, capsys):
    """The hook's main(), run in this process as on a simulated Windows machine: uv.exe in a
    Python's Scripts folder, uv's tool folder, System32 and the Windows folder, as folders
    here. Returns a function that runs it with the PATH folders given and returns
    (stdout, stderr)."""
    hook = hook_module()
    scripts, tools, windows_folder = tmp_path / "Scripts", tmp_path / "tool-bin", tmp_path / "W"
    installed = "keyring v25.7.0 [with: artifacts-keyring]"
    fake_uv(scripts, tmp_path / "uv.log", tool_bin=tools, installed=installed)
    keyring_exe(tools / "keyring.exe", ARTIFACTS_BACKEND)
    (windows_folder / "System32").mkdir(parents=True)

    def run(*path: Path, **environ: str) -> tuple[str, str]:
        environ = {
            # uv's own folder last: uv looks there first whatever PATH says.
            "PATH": os.pathsep.join(str(folder) for folder in (*path, scripts)),
            "SystemRoot": str(windows_folder),
            **environ,
        }
        hook.main(INDEX_URL, True, windows=True, environ=environ)
        captured = capsys.readouterr()
        return captured.out, captured.err

    return run, {"scripts": scripts, "tools": tools, "windows": windows_folder, "log": tmp_path}


def keyring_exe(path: Path, backends: str) -> None:
    executable(path, f"#!/bin/sh\necho '{backends}'\n")


def test_on_windows_the_hook_reports_the_tool_keyring_uv_runs(windows_hook):
    run, folders = windows_hook
    out, err = run(folders["tools"])
    assert f"uv will run {folders['tools'] / 'keyring.exe'}" in out and SIGNED_IN in out


def test_on_windows_a_keyring_exe_beside_uv_wins_over_path_and_the_fix_says_so(windows_hook):
    """uv pip-installed into a Python whose Scripts folder has twine's keyring.exe."""
    run, folders = windows_hook
    keyring_exe(folders["scripts"] / "keyring.exe", "keyring.backends.Windows.WinVaultKeyring")
    (folders["scripts"] / "python.exe").write_text("")
    out, err = run(folders["tools"])
    assert f"uv will run {folders['scripts'] / 'keyring.exe'}" in err
    assert "looks beside uv.exe before PATH" in err
    fix = f'uv pip install --python "{folders["scripts"] / "python.exe"}" artifacts-keyring'
    assert fix in err
    assert SIGNED_IN not in out


def test_on_windows_system32_comes_before_path(windows_hook):
    run, folders = windows_hook
    keyring_exe(folders["windows"] / "System32/keyring.exe", "keyring.backends.fail.Keyring")
    out, err = run(folders["tools"])
    assert f"uv will run {folders['windows'] / 'System32/keyring.exe'}" in err
    assert "put" in err and "first on PATH" in err


def test_on_windows_a_keyring_bat_first_on_path_is_not_what_uv_runs(windows_hook):
    """uv runs only keyring.exe: a .bat shim earlier on PATH must not cause a false warning."""
    run, folders = windows_hook
    keyring_exe(folders["log"] / "shims/keyring.bat", "keyring.backends.fail.Keyring")
    out, err = run(folders["log"] / "shims", folders["tools"])
    assert f"uv will run {folders['tools'] / 'keyring.exe'}" in out and err == ""


def test_on_windows_the_path_note_says_to_restart_the_editor(windows_hook):
    run, folders = windows_hook
    out, err = run()
    assert "not on PATH" in err and "restart VS Code (or your editor)" in err


def test_on_windows_arm64_a_failed_install_says_why_and_what_works(windows_hook, tmp_path):
    run, folders = windows_hook
    fake_uv(folders["scripts"], tmp_path / "uv.log", tool_bin=folders["tools"], install_exit=1)
    arm = "ARMv8 (64-bit) Family 8 Model D4B Revision 0, Qualcomm Technologies Inc"
    out, err = run(folders["tools"], PROCESSOR_IDENTIFIER=arm)
    (warning,) = [line for line in err.splitlines() if line.startswith("WARNING:")]
    assert "1.0.0 has no wheel" in warning and "github.com" in warning
    fix = SERVICES_KEYRING_INSTALL.replace(
        "with artifacts-keyring", 'with "artifacts-keyring>=2.0.0rc5"'
    )
    assert warning.endswith(f"run: {fix}")
    read_everywhere(fix)


def test_on_windows_a_keyring_that_does_not_run_costs_nothing(windows_hook):
    run, folders = windows_hook
    (folders["tools"] / "keyring.exe").write_bytes(b"MZ\x90\x00")  # not a program here
    (folders["tools"] / "keyring.exe").chmod(0o644)
    out, err = run(folders["tools"])
    assert "does not run" in err


@pytest.mark.e2e
def test_behind_a_blocked_pypi_the_hook_names_the_feed_route_and_it_installs_keyring(
    template_dir, tmp_path, azure_hosts, feed_server
):
    """A machine whose network reaches the feed's hosts and nothing else (the tests' proxy
    refuses pypi.org): the install fails, the hook says how to install through the feed, and
    its two commands, typed as printed, install keyring from the feed."""
    env = real_uv_machine(tmp_path, **azure_hosts.client_env())
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # where `uv auth login` keeps the PAT
    feed = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
    result = copy_with_hook(template_dir, tmp_path / "p", [], env=env, **feed)
    warning = survived_with_one_warning(result, tmp_path / "p")
    assert "pypi.org is out of reach from here" in result.stderr, warning
    login, install = [
        read_everywhere(line)[CMD].argv
        for line in result.stderr.splitlines()
        if line.startswith("    uv ")
    ]
    assert login == ("uv", "auth", "login", "pkgs.dev.azure.com", "--username", "VssSessionToken")
    token = feed_server.feed("widgets").token
    code, shown = type_at_prompt([UV, *login[1:]], token, tmp_path, env)
    assert code == 0 and token not in shown, shown
    installed = subprocess.run(
        [UV, *install[1:]], env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "tool-bin" / "keyring").is_file()
    assert any("/download/artifacts-keyring/" in r.path for r in feed_server.requests)
