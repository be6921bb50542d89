"""The repository's own promises: the README's two commands, what .ci/run does, one uv pin."""

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from azure_standins import COMMAND_TIMEOUT
from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.renovate_tool import NODE_VERSION, RENOVATE_VERSION, renovate_engines
from azure_standins.template_facts import PINNED_UV, TEMPLATE_ROOT
from azure_standins.uv_environment import UV, clean_env, run_uv, system_path
from azure_standins.wheelhouse import tools_wheelhouse
from tests.fake_commands import executable, fake_command
from tests.rendering import copier_cli, copy_project
from tests.schema import validate_pipelines
from tests.shells import (
    BASH,
    CMD,
    SetVariable,
    inline_commands,
    read,
    read_everywhere,
    terminal_statements,
)

README = (TEMPLATE_ROOT / "README.md").read_text()
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


@pytest.fixture
def fresh_machine(tmp_path, interpreter, shared_uv_cache) -> dict[str, str]:
    """A new user's shell: a fresh HOME, uv and uvx on PATH (nothing else of this
    environment), and uv offline with the tools wheelhouse, so that the README's own uvx
    commands run as written without reaching PyPI."""
    uv_bin = tmp_path / "uv-bin"
    uv_bin.mkdir()
    for command in ("uv", "uvx"):
        (uv_bin / command).symlink_to(Path(UV).parent / command)
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k.startswith(("GIT_", "LANG", "LC_"))}
    return {
        **keep,
        "HOME": str(home),
        "PATH": system_path(uv_bin),
        # The Python the tools wheelhouse was filled for, whatever the shell's PATH holds.
        "UV_PYTHON": interpreter.path,
        "UV_OFFLINE": "1",
        "UV_FIND_LINKS": str(tools_wheelhouse(interpreter.version)),
        "UV_CACHE_DIR": str(shared_uv_cache),
        "UV_PYTHON_DOWNLOADS": "never",
    }


@pytest.fixture
def shell_bin(tmp_path, monkeypatch) -> Path:
    """The pytest process was started from a shell whose PATH has a keyring and a Python of
    its own first."""
    folder = tmp_path / "shell-bin"
    for name in ("keyring", "python3", "python3.12"):
        executable(folder / name, "#!/bin/sh\nexit 1\n")
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_tests_run_commands_with_their_own_path_and_python(shell_bin, fresh_machine, uv_env):
    for env in (fresh_machine, uv_env):
        assert str(shell_bin) not in env["PATH"].split(os.pathsep)
        assert shutil.which("keyring", path=env["PATH"]) is None
        assert Path(env["UV_PYTHON"]).is_file()


def sh(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def test_every_readme_command_works_as_written_in_every_shell():
    """Blocks for every shell read the same in bash, zsh, both PowerShells and cmd; the
    per-shell blocks set both index variables in each; commands in the text do too."""
    rows = terminal_statements(README)
    assert len(rows) >= len(readme_commands())
    variables = {row[0].name for row in rows if isinstance(row[0], SetVariable)}
    assert variables == {"UV_INDEX_AZURE_DEVOPS_USERNAME", "UV_INDEX_AZURE_DEVOPS_PASSWORD"}
    inline = inline_commands(README)
    assert "uv tool update-shell" in inline
    for command in inline:
        read_everywhere(command)


def as_typed_in(shell: str, command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """Run a README line as bash runs it, or with the arguments cmd (and PowerShell) pass."""
    if shell == BASH:
        return sh(command, cwd, env)
    argv = read(command, shell, home=env["HOME"]).argv
    program = shutil.which(argv[0], path=env["PATH"])
    return subprocess.run(
        [program, *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


@pytest.mark.e2e
@pytest.mark.parametrize("shell", [BASH, CMD])
def test_readme_quick_start_makes_a_project_that_the_readme_update_updates(
    template_dir, fresh_machine, shell
):
    """The README's Quick start render and its update command, run literally, in the home
    folder of a fresh machine with this repository cloned there: the project updates (exit
    0) and nothing changes. bash expands `~/`; cmd and PowerShell hand it to Copier as is."""
    (render,) = [c for c in readme_commands() if RENDER_PREFIX + "copy" in c and "--data" in c]
    (update,) = [c for c in readme_commands() if c.startswith(RENDER_PREFIX + "update")]
    home = Path(fresh_machine["HOME"])
    clone = home / "copier-uv-azure"
    shutil.copytree(template_dir, clone)
    commit_as_new_repository(clone, "The template")

    rendered = as_typed_in(shell, render, home, fresh_machine)
    assert rendered.returncode == 0, rendered.stderr
    project = home / "contoso-widgets"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["index"][0]["url"] == (
        "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/widgets/pypi/simple/"
    )
    # A fresh HOME has no uv tool folder on PATH: the hook says so instead of promising.
    assert "not on PATH" in rendered.stderr and "uv tool update-shell" in rendered.stderr
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == (str(clone) if shell == BASH else "~/copier-uv-azure")

    commit_as_new_repository(project, "Start contoso-widgets from copier-uv-azure")
    updated = as_typed_in(shell, update, project, fresh_machine)
    assert updated.returncode == 0, updated.stderr
    assert git(project, "status", "--porcelain") == ""


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
        timeout=COMMAND_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    if uv_on_path:
        assert "-m pip install --quiet uv==" + PINNED_UV not in calls
    else:
        assert calls[0] == f"-m pip install --quiet uv=={PINNED_UV}"
    assert calls[-1] == "run pytest"


@pytest.mark.e2e
def test_readme_emulator_command_prints_a_render_command_that_locks(tmp_path, uv_env):
    """The by-hand emulator, started as the README says; the render command and the
    credentials it prints make a project whose `uv lock` works against it."""
    (command,) = [c for c in readme_commands() if "azure_standins.feed_emulator" in c]
    args = shlex.split(command)
    assert args[0] == "uv"
    server = subprocess.Popen([UV, *args[1:]], cwd=TEMPLATE_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        printed = []
        while not printed or not printed[-1].startswith("  uv lock"):
            line = server.stdout.readline()
            assert line, "".join(printed)
            printed.append(line)
        render = next(line for line in printed if RENDER_PREFIX + "copy" in line).strip()
        export = next(line for line in printed if line.strip().startswith("export ")).split()
        render_args = shlex.split(render.removeprefix(RENDER_PREFIX))
        (tmp_path / "work").mkdir()
        rendered = copier_cli(*render_args, cwd=tmp_path / "work")
        assert rendered.returncode == 0, rendered.stderr
        project = (tmp_path / "work" / render_args[-1]).resolve()
        credentials = dict(pair.split("=", 1) for pair in export[1:])
        locked = run_uv(project, "lock", env={**uv_env, **credentials})
        assert locked.returncode == 0, locked.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_readme_pipelines_validate_against_microsofts_schema(tmp_path):
    """The Renovate pipeline and the check-update pipeline of "Keeping every project
    current", as the pipeline editor would check them."""
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    files = []
    for index, text in enumerate(blocks):
        files.append(tmp_path / f"readme-pipeline-{index}.yml")
        files[-1].write_text(text)
    assert len(files) == 2
    (tmp_path / "work").mkdir()
    errors = validate_pipelines(files, tmp_path / "work")
    assert {str(path): found for path, found in errors.items() if found} == {}
    # The Renovate the README runs is the one the tests run, on the Node.js it needs.
    assert f'RENOVATE_VERSION: "{RENOVATE_VERSION}"' in blocks[0]
    (node_spec,) = re.findall(r'versionSpec: "(\d+)\.x"', blocks[0].split("NodeTool@0")[1])
    assert node_spec == NODE_VERSION.split(".")[0]
    minimum = re.fullmatch(r"\^(\d+)\.(\d+)\.(\d+)", renovate_engines())
    assert minimum and minimum[1] == node_spec
    assert tuple(map(int, NODE_VERSION.split("."))) >= tuple(map(int, minimum.groups()))


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({}, ["PublishCodeCoverageResults@2"]),
        ({"azure_host": "https://devops.contoso.com/tfs"}, []),
    ],
    ids=["services", "server"],
)
def test_readme_schema_command_reports_only_the_schemas_known_gap(
    render, tmp_path, fresh_machine, answers, errors
):
    """The README's check-jsonschema line, run as written in a rendered project: Microsoft's
    schema finds nothing wrong but the @2 coverage task it lacks (Services only)."""
    (command,) = [c for c in readme_commands() if c.startswith("uvx check-jsonschema")]
    project = copy_project(render(**answers), tmp_path / "project")
    checked = sh(command, project, fresh_machine)
    output = checked.stdout + checked.stderr
    assert checked.returncode == (1 if errors else 0), output
    failing = re.findall(r"\$\.stages\[\d+\][^:]*", output)
    assert len(failing) == len(errors), output
    assert all(error in output for error in errors)


@pytest.mark.e2e
def test_readme_render_benchmark_prints_both_times_and_their_ratio():
    (command,) = [c for c in readme_commands() if "benchmarks.render_time" in c]
    ran = sh(command, TEMPLATE_ROOT, {**os.environ, "PATH": system_path(Path(UV).parent)})
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"copier-uv-azure: \d+\.\d+ s +one-file template: \d+\.\d+ s", ran.stdout)
    assert re.search(r"ratio: \d+\.\d+x \(median of 9\)", ran.stdout)


@pytest.mark.e2e
def test_readme_reminder_pipeline_fails_only_while_a_release_is_waiting(
    template_repo, tmp_path, interpreter, shared_uv_cache
):
    """The README's check-update pipeline's steps, run as its agent would: Copier as it
    installs it (without the template's extensions), then its check, in a project at
    v1.0.0 (v2.0.0 waits: the run fails, saying so) and at v2.0.0 (it passes)."""
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    steps = yaml.safe_load(blocks[1])["steps"]
    (install,) = [step["script"] for step in steps if "pip install" in step.get("script", "")]
    (check,) = [step["script"] for step in steps if "check-update" in step.get("script", "")]
    agent = tmp_path / "agent-python"
    env = {
        **clean_env(shared_uv_cache, interpreter.path, tmp_path / "config"),
        "UV_OFFLINE": "1",
        "UV_FIND_LINKS": str(tools_wheelhouse(interpreter.version)),
    }
    for command in (
        ["venv", str(agent)],
        ["pip", "install", "--python", str(agent), shlex.split(install)[-1]],
    ):
        made = subprocess.run(
            [UV, *command], env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
        assert made.returncode == 0, made.stderr
    agent_env = {**os.environ, "PATH": system_path(agent / "bin")}
    for ref, waiting in (("v1.0.0", True), ("v2.0.0", False)):
        project = tmp_path / ref
        copied = copier_cli(
            "copy", "--trust", "--defaults", "--vcs-ref", ref, "--data", "project_name=X",
            "--data", "azure_organization=contoso", "--data", "azure_feed=widgets",
            "--data", "install_keyring=false", f"file://{template_repo}/.git", str(project),
        )  # fmt: skip
        assert copied.returncode == 0, copied.stderr
        commit_as_new_repository(project, "Start")
        ran = sh(check, project, agent_env)
        assert ran.returncode == (2 if waiting else 0), ran.stdout + ran.stderr
        said = "##vso[task.logissue type=error]A newer copier-uv-azure release is waiting"
        assert (said in ran.stdout) == waiting
