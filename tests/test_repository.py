"""The repository's own promises: its pages' commands (README.md, CONTRIBUTING.md, docs/), run
as written, the facts they state, what .ci/run does, one uv pin."""

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
from azure_standins.pipeline.hosts import SERVER_FLOOR, SUPPORTED_RELEASES
from azure_standins.renovate_tool import NODE_VERSION, RENOVATE_VERSION, renovate_engines
from azure_standins.task_reference import RELEASES, task_problems
from azure_standins.template_facts import PINNED_UV, PYTHON_VERSIONS, TEMPLATE_ROOT
from azure_standins.uv_environment import UV, clean_env, run_uv, system_path
from azure_standins.wheelhouse import tools_wheelhouse
from tests.fake_commands import executable, fake_command
from tests.machine import AGENT_PYTHONS
from tests.pages import PAGES, RENDER_PREFIX, command, commands, page, yaml_blocks
from tests.rendering import copier_cli, copy_project
from tests.schema import read_pipeline, steps, validate_pipelines
from tests.shells import (
    BASH,
    CMD,
    code_blocks,
    inline_commands,
    read,
    read_everywhere,
    terminal_statements,
)


def test_readme_test_command_is_what_ci_runs():
    assert "uv run pytest" in commands()
    assert "uv run pytest" in page("README.md")
    ci = (TEMPLATE_ROOT / ".ci/run").read_text()
    assert re.search(r'^"\$uv" run pytest$', ci, re.MULTILINE)


def test_uv_is_pinned_to_one_version_everywhere():
    dev = tomllib.loads((TEMPLATE_ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    assert f"uv=={PINNED_UV}" in dev
    assert f'"uv=={PINNED_UV}"' in (TEMPLATE_ROOT / ".ci/run").read_text()


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


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(TEMPLATE_ROOT).as_posix())
def test_every_command_in_the_pages_works_as_written_in_every_shell(path):
    """Blocks for every shell read the same in bash, zsh, both PowerShells and cmd; a page's
    per-shell blocks do the same in each shell; commands in the text read the same too."""
    text = path.read_text()
    rows = terminal_statements(text)
    assert len(rows) >= text.count("```sh")
    for inline in inline_commands(text):
        read_everywhere(inline)


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
    render = command(" ~/copier-uv-azure ")
    update = command(RENDER_PREFIX + "update")
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


@pytest.mark.parametrize(
    ("uv_on_path", "image_tools"),
    [(False, True), (True, True), (True, False)],
    ids=["uv-missing", "uv-present", "image-tools-missing"],
)
def test_ci_run_installs_uv_when_missing_then_runs_the_tests(tmp_path, uv_on_path, image_tools):
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
    # The image tests' tools: there, or installed from apt by root.
    for name in ("buildah", "debootstrap") if image_tools else ():
        fake_command(bin_dir / name, log)
    fake_command(bin_dir / "apt-get", log)
    fake_command(bin_dir / "id", tmp_path / "id.log", stdout="0")
    system_bin = [d for d in ("/usr/bin", "/bin") if Path(d).is_dir()]
    assert not any((Path(d) / "uv").exists() for d in system_bin)
    # CONTRIBUTING.md's command, as written, in a clone.
    env = {"PATH": os.pathsep.join([str(bin_dir), *system_bin]), "HOME": str(tmp_path)}
    result = sh(command("bash .ci/run"), repo, env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    if uv_on_path:
        assert "-m pip install --quiet uv==" + PINNED_UV not in calls
    else:
        assert calls[0] == f"-m pip install --quiet uv=={PINNED_UV}"
    installs = [call for call in calls if call.startswith("install")]
    assert installs == ([] if image_tools else ["install -y -q buildah debootstrap"])
    assert calls[-1] == "run pytest"


@pytest.mark.e2e
def test_readme_emulator_command_prints_a_render_command_that_locks(tmp_path, uv_env):
    """The by-hand emulator, started as the README says; the render command and the
    credentials it prints make a project whose `uv lock` works against it."""
    args = shlex.split(command("azure_standins.feed_emulator"))
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
    blocks = yaml_blocks("docs/renovate.md")
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
        ({"azure_host": "https://devops.contoso.com/tfs"}, ["PublishCodeCoverageResults@2"]),
    ],
    ids=["services", "server"],
)
def test_readme_schema_command_reports_only_the_schemas_known_gap(
    render, tmp_path, fresh_machine, answers, errors
):
    """The README's check-jsonschema line, run as written in a rendered project: Microsoft's
    schema finds nothing wrong but the @2 coverage task it lacks."""
    project = copy_project(render(**answers), tmp_path / "project")
    checked = sh(command("uvx check-jsonschema"), project, fresh_machine)
    output = checked.stdout + checked.stderr
    assert checked.returncode == (1 if errors else 0), output
    failing = re.findall(r"\$\.stages\[\d+\][^:]*", output)
    assert len(failing) == len(errors), output
    assert all(error in output for error in errors)


@pytest.mark.e2e
def test_readme_render_benchmark_prints_both_times_and_their_ratio():
    env = {**os.environ, "PATH": system_path(Path(UV).parent)}
    ran = sh(command("benchmarks.render_time"), TEMPLATE_ROOT, env)
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"copier-uv-azure: \d+\.\d+ s +one-file template: \d+\.\d+ s", ran.stdout)
    assert re.search(r"ratio: \d+\.\d+x \(median of 5\)", ran.stdout)


@pytest.mark.e2e
def test_readme_reminder_pipeline_fails_only_while_a_release_is_waiting(
    template_repo, tmp_path, interpreter, shared_uv_cache
):
    """The README's check-update pipeline's steps, run as its agent would: Copier as it
    installs it (without the template's extensions), then its check, in a project at
    v1.0.0 (v2.0.0 waits: the run fails, saying so) and at v2.0.0 (it passes)."""
    steps = yaml.safe_load(yaml_blocks("docs/renovate.md")[1])["steps"]
    (install,) = [step["script"] for step in steps if "pip install" in step.get("script", "")]
    (check,) = [step["script"] for step in steps if "check-update" in step.get("script", "")]
    agent = tmp_path / "agent-python"
    env = {
        **clean_env(shared_uv_cache, interpreter.path, tmp_path / "config"),
        "UV_OFFLINE": "1",
        "UV_FIND_LINKS": str(tools_wheelhouse(interpreter.version)),
    }
    for arguments in (
        ["venv", str(agent)],
        ["pip", "install", "--python", str(agent), shlex.split(install)[-1]],
    ):
        made = subprocess.run(
            [UV, *arguments], env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
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


def test_the_pages_state_the_versions_the_template_has():
    """Every version and range the pages state is read from where the template keeps it."""
    copier_yml = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    readme, questions = page("README.md"), page("docs/reference/questions.md")
    minimum = copier_yml["_min_copier_version"].removesuffix(".0")
    assert f"**Copier** {minimum} or later" in readme
    (reminder_install,) = [
        step["script"]
        for step in yaml.safe_load(yaml_blocks("docs/renovate.md")[1])["steps"]
        if "pip install" in step.get("script", "")
    ]
    check_update = reminder_install.split('"copier>=')[1].split('"')[0]
    assert f"`copier\n  check-update` needs {check_update}" in readme
    first, last = PYTHON_VERSIONS[0], PYTHON_VERSIONS[-1]
    assert f"CPython {first} to {last}" in readme
    assert f"`{first}` to `{last}`" in questions
    for name in ("README.md", "CONTRIBUTING.md"):
        assert f"CPython {AGENT_PYTHONS[0]} to {AGENT_PYTHONS[-1]}" in page(name)
    floor = RELEASES[SERVER_FLOOR]
    assert f"{floor} and later" in readme
    server_page = page("docs/azure-devops-server.md")
    assert f"**{floor} and later**" in server_page
    table = dict(re.findall(r"^\| (Azure DevOps [^|]+?) \| (yes|no) \|", server_page, re.MULTILINE))
    assert table == {RELEASES[m]: "yes" if m in SUPPORTED_RELEASES else "no" for m in RELEASES}
    assert f"2 requests per wheel** with uv {PINNED_UV}" in page("docs/design.md")


def test_the_server_page_names_what_each_unsupported_release_lacks(render):
    """Its table, row by row, is what Microsoft's task reference says a server render's
    tasks and inputs lack on that release."""
    pipeline = read_pipeline(render(publish=True, azure_host="https://devops.contoso.com/tfs"))
    rows = re.findall(
        r"^\| (Azure DevOps [^|]+?) \| no \| ([^|]+) \|", page("docs/azure-devops-server.md"), re.M
    )
    assert len(rows) == len(RELEASES) - len(SUPPORTED_RELEASES)
    monikers = {name: moniker for moniker, name in RELEASES.items()}
    for release, lacks in rows:
        problems = " ".join(
            problem
            for step in steps(pipeline)
            if "task" in step
            for problem in task_problems(step["task"], step.get("inputs") or {}, monikers[release])
        )
        named = set(re.findall(r"`([\w@]+)`", lacks))
        found = set(re.findall(r"(\w+@\d) does not exist", problems))
        found |= set(re.findall(r"has no input '(\w+)'", problems))
        found |= {task for task in re.findall(r"(\w+@\d) has no input", problems)}
        assert named == found, (release, problems)


def test_the_files_reference_names_every_file_the_team_owns():
    """docs/reference/files.md's "Yours" table is what copier.yml keeps from updates."""
    copier_yml = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    yours = page("docs/reference/files.md").split("## Yours")[1]
    listed = set(re.findall(r"^\| `([^`]+)`", yours, re.MULTILINE))
    kept = {entry.removesuffix("**/*") for entry in copier_yml["_skip_if_exists"]}
    assert kept <= listed | {"src/", "tests/"}
    assert {"src/", "tests/"} <= {name for name in re.findall(r"`([^`]+/)`", yours)}


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(TEMPLATE_ROOT).as_posix())
def test_every_link_between_pages_leads_to_a_page(path):
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).exists(), f"{path.name} links to {target}"


def test_contributing_names_only_tests_that_exist():
    """The map of which tests read which pages."""
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", page("CONTRIBUTING.md"))
    assert len(named) > 5
    for module, test in named:
        text = (TEMPLATE_ROOT / module).read_text()
        assert not test or f"def {test}(" in text, f"{module}::{test}"


@pytest.mark.parametrize("name", [str(p.relative_to(TEMPLATE_ROOT)) for p in PAGES])
def test_every_copier_command_carries_the_templates_extensions(name):
    """Copier needs jinja2-time and copier-template-extensions to read the template: a
    `copier copy` or `copier update` line without them fails with ModuleNotFoundError."""
    text = page(name)
    lines = [line.strip() for block in code_blocks(text) for line in block.lines]
    lines += re.findall(r"`([^`\n]+)`", text)
    for line in lines:
        if re.search(r"\bcopier (copy|update) .*--", line):
            assert line.startswith(RENDER_PREFIX), f"{name}: {line}"


# Instructions that stood in several places and drifted apart: each now has one.
ONE_PLACE = {
    "the Build Validation click path": r"Branch Policies\s*>\s*`?main`?\s*>\s*Build Validation",
    "the feed role's click path": r"Feed settings[^.|]{0,12}>\s*Permissions",
    "the index variables for a PAT": r"export (UV_INDEX_\w+|\{\{ index_env_prefix \}\})_PASSWORD",
    "the user's own certificate setting": r"`UV_SYSTEM_CERTS` to `true`",
    "the release's checks": r"\*\*Branch control\*\* \(`refs/heads/main`, Verify branch",
}
INSTRUCTION_FILES = [
    *PAGES,
    TEMPLATE_ROOT / "copier.yml",
    *sorted((TEMPLATE_ROOT / "template").rglob("*.md*")),
    *sorted((TEMPLATE_ROOT / "template").rglob("*.yml*")),
]


@pytest.mark.parametrize("name", list(ONE_PLACE))
def test_each_instruction_is_written_out_in_one_place(name):
    """Pages, messages and generated files link to the one place an instruction is written
    out, so that a fix to it reaches every reader."""
    found = [
        str(path.relative_to(TEMPLATE_ROOT))
        for path in INSTRUCTION_FILES
        if re.search(ONE_PLACE[name], re.sub(r"\s+", " ", path.read_text(encoding="utf-8")))
    ]
    assert len(found) == 1, f"{name}: {found}"
