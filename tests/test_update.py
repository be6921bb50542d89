"""`copier update` on real git-tagged template versions: fixes arrive, team work survives.

The template is copied into a temporary git repository twice (tests/template_releases.py):
v1.0.0 is an "older release" (an older pinned uv, no formatting check in the pipeline, no
agent_pool question), v2.0.0 is the template as it is now. Projects are rendered at
v1.0.0, committed, edited as a team would, and updated.
"""

import filecmp
import os
import re
from pathlib import Path

import copier
import pytest
import yaml

from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.template_facts import EXAMPLE_ANSWERS, TEMPLATE_ROOT
from azure_standins.uv_environment import system_path
from tests.fake_commands import SERVICES_KEYRING_INSTALL, calls, fake_uv
from tests.rendering import copier_cli, data_args
from tests.schema import jobs, read_pipeline, steps
from tests.shells import message_commands

CONFLICT_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>) ", re.MULTILINE)


def render_at(template_repo: Path, destination: Path, ref: str, **answers) -> Path:
    copier.run_copy(
        str(template_repo),
        str(destination),
        data={**EXAMPLE_ANSWERS, **answers},
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    return commit_as_new_repository(destination, "Start from the template")


def update(project: Path, ref: str = "v2.0.0", **answers) -> None:
    copier.run_update(
        str(project),
        data=answers,
        vcs_ref=ref,
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )


def scripts(project: Path) -> list[str]:
    return [step["script"] for step in steps(read_pipeline(project)) if "script" in step]


def conflict_leftovers(project: Path) -> list[str]:
    found = []
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        if path.suffix == ".rej" or CONFLICT_MARKER.search(path.read_text(errors="replace")):
            found.append(str(path.relative_to(project)))
    return found


def team_edits(project: Path) -> dict[str, str]:
    """Typical team changes, committed: returns the files it wrote and what they hold."""
    edits = {
        "src/contoso_widgets/widgets.py": 'def make_widget() -> str:\n    return "widget"\n',
        "README.md": (project / "README.md").read_text() + "\n## Our team\n\nAsk #widgets.\n",
        ".azure-pipelines/team-steps.yml": (
            "steps:\n  - script: uv run --no-sync python -m contoso_widgets\n"
            "    displayName: Smoke test\n"
        ),
    }
    pyproject = (project / "pyproject.toml").read_text()
    edits["pyproject.toml"] = pyproject.replace(
        "dependencies = []", 'dependencies = [\n    "requests>=2.32",\n]'
    )
    assert edits["pyproject.toml"] != pyproject
    for name, text in edits.items():
        (project / name).write_text(text)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Team work")
    return edits


def test_pipeline_fix_arrives_and_team_edits_survive(template_repo, tmp_path):
    project = render_at(template_repo, tmp_path / "p", "v1.0.0")
    assert read_pipeline(project)["variables"]["UV_VERSION"] == "0.13.0"
    edits = team_edits(project)
    update(project)
    assert read_pipeline(project)["variables"]["UV_VERSION"] == "0.13.9"
    assert "uv run --no-sync ruff format --check" in scripts(project)
    # Type checking arrives whole: the step, the pinned checker, its configuration.
    assert "uv run --no-sync mypy" in scripts(project)
    pyproject = (project / "pyproject.toml").read_text()
    assert '"mypy==' in pyproject and "[tool.mypy]" in pyproject
    for name, text in edits.items():
        if name == "pyproject.toml":
            assert '"requests>=2.32",' in (project / name).read_text()
        else:
            assert (project / name).read_text() == text, name
    assert conflict_leftovers(project) == []
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v2.0.0"


def test_switch_to_consume_only_and_back(template_repo, tmp_path):
    project = render_at(template_repo, tmp_path / "p", "v2.0.0")
    edits = team_edits(project)
    release = project / ".azure-pipelines/release.yml"

    update(project, publish=False)
    assert "publish-url" not in (project / "pyproject.toml").read_text()
    assert not release.exists()
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Consume only")

    update(project, publish=True)
    assert "publish-url" in (project / "pyproject.toml").read_text()
    assert release.is_file()
    assert (project / "src/contoso_widgets/widgets.py").read_text() == edits[
        "src/contoso_widgets/widgets.py"
    ]
    assert (project / ".azure-pipelines/team-steps.yml").read_text() == edits[
        ".azure-pipelines/team-steps.yml"
    ]
    assert conflict_leftovers(project) == []


def test_changing_the_feed_moves_every_url(template_repo, tmp_path):
    project = render_at(template_repo, tmp_path / "p", "v2.0.0")
    update(project, azure_organization="fabrikam", azure_project="Data Tools", azure_feed="tools")
    text = (project / "pyproject.toml").read_text()
    assert (
        'url = "https://VssSessionToken@pkgs.dev.azure.com/fabrikam/Data%20Tools/'
        '_packaging/tools/pypi/simple/"'
    ) in text
    assert (
        'publish-url = "https://pkgs.dev.azure.com/fabrikam/Data%20Tools/_packaging/tools/pypi/upload/"'
    ) in text
    assert "/contoso/" not in text
    assert "Upload to tools" in (project / ".azure-pipelines/release.yml").read_text()


def test_update_of_an_untouched_project_equals_a_fresh_render(template_repo, tmp_path):
    updated = render_at(template_repo, tmp_path / "updated", "v1.0.0")
    update(updated)
    fresh = tmp_path / "fresh"
    # v1.0.0's floor was its python_version, which the update keeps as python_floor.
    kept = yaml.safe_load((updated / ".copier-answers.yml").read_text())["python_floor"]
    copier.run_copy(
        str(template_repo),
        str(fresh),
        data={**EXAMPLE_ANSWERS, "python_floor": kept},
        vcs_ref="v2.0.0",
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    differences = []

    def compare(comparison: filecmp.dircmp, prefix: str = "") -> None:
        # README.md is the team's from the first copy, and updates never touch it: v1.0.0
        # rendered it before the release connection existed.
        ignored = {".git", ".copier-answers.yml", "uv.lock", "README.md"}
        differences.extend(
            prefix + name
            for name in comparison.left_only + comparison.right_only
            if name not in ignored
        )
        differences.extend(prefix + name for name in comparison.diff_files if name not in ignored)
        for name, sub in comparison.subdirs.items():
            if name not in ignored:
                compare(sub, f"{prefix}{name}/")

    compare(filecmp.dircmp(updated, fresh, ignore=[]))
    assert differences == []


def test_team_edit_of_a_changed_template_line_shows_as_a_conflict(template_repo, tmp_path):
    project = render_at(template_repo, tmp_path / "p", "v1.0.0")
    pipeline_file = project / "azure-pipelines.yml"
    pipeline_file.write_text(
        pipeline_file.read_text().replace('UV_VERSION: "0.13.0"', 'UV_VERSION: "0.13.5"')
    )
    git(project, "commit", "-q", "-am", "Our own uv pin")
    update(project)
    text = pipeline_file.read_text()
    assert CONFLICT_MARKER.search(text)
    assert "<<<<<<< before updating" in text
    assert '"0.13.5"' in text and '"0.13.9"' in text


def test_keyring_hook_does_not_run_on_update_and_the_next_steps_work_in_every_shell(
    template_repo, tmp_path
):
    log = tmp_path / "uv.log"
    fake_uv(tmp_path / "bin", log, tool_bin=tmp_path / "tool-bin")
    env = {**os.environ, "PATH": system_path(tmp_path / "bin")}
    project = tmp_path / "p"
    answers = {**EXAMPLE_ANSWERS, "install_keyring": True}
    copied = copier_cli(
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        "v1.0.0",
        *data_args(answers),
        str(template_repo),
        str(project),
        env=env,
    )
    assert copied.returncode == 0, copied.stderr
    after_copy = calls(log)
    assert after_copy[:2] == [
        "tool list --show-with",
        SERVICES_KEYRING_INSTALL.removeprefix("uv ").replace('"', ""),
    ]
    commit_as_new_repository(project, "Start")
    updated = copier_cli(
        "update", "--trust", "--defaults", "--vcs-ref", "v2.0.0", str(project), env=env
    )
    assert updated.returncode == 0, updated.stderr
    assert calls(log) == after_copy
    assert read_pipeline(project)["variables"]["UV_VERSION"] == "0.13.9"
    # What the update prints to do next works as written in every shell.
    assert message_commands(updated.stderr) == [
        ("git", "diff", "--check"),
        ("uv", "lock"),
        ("uv", "run", "pytest"),
        ("git", "diff"),
    ]


@pytest.mark.parametrize("flags", [[], ["--skip-answered"]], ids=["plain", "renovate"])
def test_a_project_on_a_python_past_its_end_of_life_moves_to_the_oldest_supported(
    template_repo, tmp_path, flags
):
    """v1.0.0 offered 3.10; v2.0.0 does not. The update moves the project to 3.11 (the
    smallest step, not the new default) and says so, with and without Renovate's flags."""
    project = render_at(template_repo, tmp_path / "p", "v1.0.0", python_version="3.10")
    env = {**os.environ, "PATH": system_path()}
    updated = copier_cli(
        "update", "--trust", "--defaults", *flags, "--vcs-ref", "v2.0.0", env=env, cwd=project
    )
    assert updated.returncode == 0, updated.stderr
    assert "Python 3.10 has reached its end of life" in updated.stdout + updated.stderr
    assert (project / ".python-version").read_text().strip() == "3.11"
    assert 'requires-python = ">=3.11"' in (project / "pyproject.toml").read_text()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["python_version"] == "3.11"


@pytest.mark.parametrize("flags", [[], ["--skip-answered"]], ids=["plain", "renovate"])
def test_a_library_made_before_python_floor_keeps_its_requires_python(
    template_repo, tmp_path, flags
):
    """v1.0.0's python_version was both the developers' Python and the floor. The update
    that brings python_floor (whose default for a new library is 3.11) answers it with
    python_version: requires-python, .python-version and the tested Pythons stay."""
    project = render_at(template_repo, tmp_path / "p", "v1.0.0", python_version="3.13")
    before = pythons_tested(project)
    env = {**os.environ, "PATH": system_path()}
    updated = copier_cli(
        "update", "--trust", "--defaults", *flags, "--vcs-ref", "v2.0.0", env=env, cwd=project
    )
    assert updated.returncode == 0, updated.stderr
    assert (project / ".python-version").read_text().strip() == "3.13"
    assert 'requires-python = ">=3.13"' in (project / "pyproject.toml").read_text()
    assert pythons_tested(project) == before == ["3.13", "3.14", "3.15", "3.13"]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["python_version"], answers["python_floor"]) == ("3.13", "3.13")
    assert answers["project_kind"] == "library"


def pythons_tested(project: Path) -> list[str]:
    """The Pythons the build's steps use, in order (Linux's, then Windows' on hosted agents)."""
    return [
        step["inputs"]["versionSpec"]
        for step in steps(read_pipeline(project))
        if step.get("task") == "UsePythonVersion@0"
    ]


def test_choosing_a_python_past_its_end_of_life_names_the_fix(template_repo, tmp_path):
    project = render_at(template_repo, tmp_path / "p", "v1.0.0")
    with pytest.raises(ValueError, match="3.10 reached end of life in October 2026: choose 3.11"):
        update(project, python_version="3.10")


def test_the_update_that_brings_the_release_identity_says_what_to_set_up(template_repo, tmp_path):
    """v1.0.0 published with the build service's token; v2.0.0 publishes as a release
    identity behind a service connection. The update that brings it says what to create,
    and Renovate's flags still update the project."""
    project = render_at(template_repo, tmp_path / "p", "v1.0.0")
    env = {**os.environ, "PATH": system_path()}
    flags = ["--skip-answered", "--defaults", "--trust"]  # what Renovate passes
    updated = copier_cli("update", *flags, "--vcs-ref", "v2.0.0", env=env, cwd=project)
    assert updated.returncode == 0, updated.stderr
    said = updated.stdout + updated.stderr
    assert "releases now go from main, not from tags" in said
    assert 'behind the service connection "contoso-widgets-publish"' in said
    assert "Feed Publisher (Contributor) on widgets" in said
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["release_connection"] == "contoso-widgets-publish"
    assert (
        "azureDevOpsServiceConnection: contoso-widgets-publish"
        in (project / ".azure-pipelines/release.yml").read_text()
    )
    assert "tags" not in read_pipeline(project)["trigger"]
    # The next update has nothing new to say about it.
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Update")
    again = copier_cli("update", *flags, env=env, cwd=project)
    assert "behind the service connection" not in again.stdout.split("Updated")[0]


def test_switching_to_consume_only_says_the_teams_readme_still_describes_releases(
    template_repo, tmp_path
):
    """README.md is the team's: the update cannot remove its release section, so it says so,
    and only while the section is there."""
    project = render_at(template_repo, tmp_path / "p", "v2.0.0")
    env = {**os.environ, "PATH": system_path()}
    flags = ["--trust", "--defaults", "--data", "publish=false"]
    updated = copier_cli("update", *flags, env=env, cwd=project)
    assert updated.returncode == 0, updated.stderr
    assert 'still has its "Releases" section' in updated.stdout + updated.stderr
    readme = project / "README.md"
    text = readme.read_text()
    start = text.index("## Releases")
    readme.write_text(text[:start] + text[text.index("\n## ", start + 1) + 1 :])
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Consume only, README too")
    again = copier_cli("update", *flags, env=env, cwd=project)
    assert again.returncode == 0, again.stderr
    assert "still has" not in again.stdout + again.stderr


def test_a_deleted_file_of_the_team_comes_back_and_a_deleted_template_file_does_not(
    template_repo, tmp_path
):
    """What docs/update-a-project.md says of deleted files: Copier writes a file the team
    owns (_skip_if_exists) whenever it does not exist; a template file stays deleted."""
    project = render_at(template_repo, tmp_path / "p", "v1.0.0")
    teams = ["README.md", "CHANGELOG.md", ".azure-pipelines/team-steps.yml", "renovate.json"]
    for name in [*teams, "scripts/check_sign_in.py"]:
        (project / name).unlink()
    git(project, "commit", "-q", "-am", "Drop files")
    env = {**os.environ, "PATH": system_path()}
    updated = copier_cli(
        "update", "--trust", "--defaults", "--vcs-ref", "v2.0.0", env=env, cwd=project
    )
    assert updated.returncode == 0, updated.stderr
    assert all((project / name).is_file() for name in teams)
    assert not (project / "scripts/check_sign_in.py").exists()
    page = (TEMPLATE_ROOT / "docs/update-a-project.md").read_text()
    assert all(f"`{name}`" in page for name in teams)


def test_a_library_becomes_an_application_at_an_update_and_keeps_its_python(
    template_repo, tmp_path
):
    """`--data project_kind=application` adds the image's files and job, and the project's
    python_version becomes its one Python: requires-python moves up from the library's
    floor to it."""
    project = render_at(template_repo, tmp_path / "p", "v2.0.0", python_version="3.13")
    assert 'requires-python = ">=3.11"' in (project / "pyproject.toml").read_text()
    update(project, project_kind="application")
    for name in ("Dockerfile", ".dockerignore", "src/contoso_widgets/__main__.py"):
        assert (project / name).is_file(), name
    assert "Image" in [job["job"] for job in jobs(read_pipeline(project))]
    assert 'requires-python = ">=3.13"' in (project / "pyproject.toml").read_text()
    assert (project / ".python-version").read_text().strip() == "3.13"
    assert conflict_leftovers(project) == []
