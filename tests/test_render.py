"""Render every variant and check what a user would look at in the generated project."""

import datetime
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from azure_standins import COMMAND_TIMEOUT
from azure_standins.template_facts import PINNED_UV, PYTHON_VERSIONS, TEMPLATE_ROOT
from tests.fake_commands import SERVICES_KEYRING_INSTALL
from tests.rendering import copy_project, project_pages
from tests.schema import compiled, jobs, read_pipeline, steps, validate_pipelines
from tests.shells import Run, SetVariable, inline_commands, read_everywhere, terminal_statements
from tests.variants import (
    DOWNLOADS_URLS,
    FEEDS,
    MATRIX,
    MORE_PIPELINES,
    variant_answers,
    variant_id,
)

EXPECTED_FILES = [
    ".copier-answers.yml",
    ".gitattributes",
    ".gitignore",
    ".python-version",
    ".azure-pipelines/install_uv.py",
    ".azure-pipelines/team-steps.yml",
    ".azure-pipelines/test-python.yml",
    ".azure-pipelines/trim_uv_cache.py",
    "CHANGELOG.md",
    "LICENSE",
    "README.md",
    "azure-pipelines.yml",
    "pyproject.toml",
    "renovate.json",
    "src/contoso_widgets/__init__.py",
    "src/contoso_widgets/py.typed",
    "tests/test_contoso_widgets.py",
]
JINJA_LEFTOVERS = re.compile(r"{{|}}|{%|%}|\.jinja\b")
# Azure's own template expressions, meant to be there.
AZURE_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")

variants = pytest.mark.parametrize(
    "variant", MATRIX, ids=[variant_id(*variant) for variant in MATRIX]
)


def read_pyproject(project: Path) -> dict:
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


def feed_index(project: Path) -> dict:
    (index,) = read_pyproject(project)["tool"]["uv"]["index"]
    return index


@pytest.fixture(scope="session")
def all_variants(render) -> dict[tuple, Path]:
    return {variant: render(**variant_answers(*variant)) for variant in MATRIX}


@variants
def test_expected_files_exist_and_parse(render, variant):
    project = render(**variant_answers(*variant))
    missing = [name for name in EXPECTED_FILES if not (project / name).is_file()]
    assert not missing
    pyproject = read_pyproject(project)
    assert pyproject["project"]["name"] == "contoso-widgets"
    assert read_pipeline(project)["stages"]
    assert yaml.safe_load((project / ".azure-pipelines/team-steps.yml").read_text()) == {
        "steps": []
    }
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["azure_feed"] == variant_answers(*variant)["azure_feed"]


@variants
def test_index_and_publish_urls_are_exact(render, variant):
    publish, scope, *_ = variant
    project = render(**variant_answers(*variant))
    _, index_url, publish_url = FEEDS[scope]
    index = feed_index(project)
    assert index["name"] == "azure-devops"
    assert index["url"] == index_url
    assert index["default"] is True
    assert index["cache-control"] == {"files": "max-age=365000000, immutable"}
    assert read_pyproject(project)["tool"]["uv"]["keyring-provider"] == "subprocess"
    if publish:
        assert index["publish-url"] == publish_url
    else:
        assert "publish-url" not in index
    # In the pipeline, an index at the root of the feed's download links gets the token.
    variables = read_pipeline(project)["variables"]
    assert variables["UV_INDEX"] == f"azure-devops-downloads={DOWNLOADS_URLS[scope]}"
    assert index["url"].replace("VssSessionToken@", "").startswith(DOWNLOADS_URLS[scope])


@variants
def test_publish_parts_exist_only_in_the_publish_variant(render, variant):
    publish = variant[0]
    project = render(**variant_answers(*variant))
    pipeline = read_pipeline(project)
    assert [stage["stage"] for stage in pipeline["stages"]] == ["Test"]
    assert "tags" not in pipeline["trigger"]
    assert "upload_release.py" not in str(pipeline) and "TwineAuthenticate" not in str(pipeline)
    release_file = project / ".azure-pipelines/release.yml"
    if publish:
        release = compiled(yaml.safe_load(release_file.read_text()), reason="ResourceTrigger")
        assert release["trigger"] == "none" and release["pr"] == "none"
        publish_scripts = [s for s in steps(release) if "upload_release.py" in s.get("script", "")]
        (upload,) = publish_scripts
        assert upload["script"] == (
            'python .azure-pipelines/upload_release.py azure-devops "$(RELEASE_FILES)"'
        )
        # The job's token never uploads: only the release identity's credential does.
        assert "System.AccessToken" not in str(upload["env"].get("UV_PUBLISH_TOKEN", ""))
        (sign_in,) = [s for s in steps(release) if s.get("task") == "TwineAuthenticate@1"]
        connection = sign_in["inputs"].get("azureDevOpsServiceConnection") or sign_in["inputs"].get(
            "pythonUploadServiceConnection"
        )
        assert connection == "contoso-widgets-publish"
        for script in ("release.py", "check_upload.py", "upload_release.py", "keep_release_run.py"):
            assert (project / ".azure-pipelines" / script).is_file()
    else:
        for script in (
            "release.yml",
            "release.py",
            "check_upload.py",
            "upload_release.py",
            "keep_release_run.py",
        ):
            assert not (project / ".azure-pipelines" / script).exists()
        assert "uv publish" not in project_pages(project)
        assert not (project / "docs/releasing.md").exists()


@variants
def test_python_version_agrees_everywhere(render, variant):
    python = variant[2]
    project = render(**variant_answers(*variant))
    pyproject = read_pyproject(project)
    assert (project / ".python-version").read_text().strip() == python
    assert pyproject["project"]["requires-python"] == f">={python}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python.replace(".", "")
    pipeline = read_pipeline(project)
    # The build tests every Python from the project's up (on Linux or the pool), and the
    # lowest on Windows where hosted agents exist; the release builds with the lowest.
    tested = [
        [s["inputs"]["versionSpec"] for s in job["steps"] if s.get("task") == "UsePythonVersion@0"]
        for job in jobs(pipeline)
    ]
    newer = list(PYTHON_VERSIONS[PYTHON_VERSIONS.index(python) :])
    windows = [[python]] if "azure_host" not in variant_answers(*variant) else []
    assert tested == [newer, *windows]
    if variant[0]:
        release = yaml.safe_load((project / ".azure-pipelines/release.yml").read_text())
        (use_python,) = [s for s in steps(release) if s.get("task") == "UsePythonVersion@0"]
        assert use_python["inputs"]["versionSpec"] == python


def test_a_new_library_supports_every_python_that_gets_fixes_and_an_application_one(render):
    """By default a library's floor is the oldest CPython still fixed, whatever Python its
    developers use, and the pipeline tests each from it up; an application's floor is the
    one Python it runs on, and it is not asked."""
    library = render(python_version="3.14")
    assert (library / ".python-version").read_text().strip() == "3.14"
    assert read_pyproject(library)["project"]["requires-python"] == ">=3.11"
    assert read_pyproject(library)["tool"]["ruff"]["target-version"] == "py311"
    linux, windows = (
        [s["inputs"]["versionSpec"] for s in job["steps"] if s.get("task") == "UsePythonVersion@0"]
        for job in jobs(read_pipeline(library))
    )
    assert (linux, windows) == (list(PYTHON_VERSIONS), ["3.11"])
    application = render(project_kind="application", python_version="3.13")
    assert (application / ".python-version").read_text().strip() == "3.13"
    assert read_pyproject(application)["project"]["requires-python"] == ">=3.13"
    answers = yaml.safe_load((application / ".copier-answers.yml").read_text())
    assert answers["project_kind"] == "application" and "python_floor" not in answers
    # An application ships an image, run with `python -m`; a library neither.
    shipped = ("Dockerfile", ".dockerignore", "src/contoso_widgets/__main__.py")
    assert [name for name in shipped if (application / name).is_file()] == list(shipped)
    assert [name for name in shipped if (library / name).exists()] == []
    assert "ARG BASE_IMAGE=python:3.13-slim-bookworm" in (application / "Dockerfile").read_text()
    # Its pages' image commands read the same in every shell.
    builds = [
        row[0].argv[:2]
        for row in terminal_statements(project_pages(application))
        if isinstance(row[0], Run) and "--secret" in row[0].argv
    ]
    assert builds == [("docker", "build"), ("podman", "build"), ("buildah", "bud")]


@variants
def test_license_file_and_expression(render, variant):
    license_ = variant[3]
    project = render(**variant_answers(*variant))
    text = (project / "LICENSE").read_text()
    year = str(datetime.datetime.now(datetime.UTC).year)
    assert f"{year} Contoso Widgets" in text or f"{year}, Contoso Widgets" in text
    first_words = {
        "MIT": "MIT License",
        "Apache-2.0": "Apache License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Proprietary": "Copyright (c)",
    }
    assert text.lstrip().startswith(first_words[license_])
    assert read_pyproject(project)["project"]["license"] == {"text": license_}


@variants
def test_no_jinja_is_left_in_any_file(render, variant):
    project = render(**variant_answers(*variant))
    leftovers = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and (
            JINJA_LEFTOVERS.search(AZURE_EXPRESSION.sub("", path.read_text(encoding="utf-8")))
            or path.suffix == ".jinja"
        )
    ]
    assert leftovers == []


@pytest.mark.parametrize("half", [0, 1], ids=["first half", "second half"])
def test_every_pipeline_validates_against_microsofts_schema(all_variants, render, tmp_path, half):
    """Both variants with hosted agents, a named pool and a server, every Python (in two
    halves, which the test workers check side by side)."""
    projects = [*all_variants.values(), *(render(**answers) for answers in MORE_PIPELINES)]
    files = [project / "azure-pipelines.yml" for project in projects]
    files += [p / ".azure-pipelines/release.yml" for p in projects]
    # One of each text, halved (variants that differ elsewhere share a pipeline).
    unique = {file.read_text(): file for file in files if file.is_file()}
    files = sorted(unique.values())[half::2]
    errors = validate_pipelines(files, tmp_path)
    failing = {str(path): found for path, found in errors.items() if found}
    assert failing == {}


def test_schema_check_catches_a_broken_pipeline(render, tmp_path):
    """The validation above can fail: a misspelt task input is reported."""
    project = copy_project(render(), tmp_path / "project")
    broken = project / "azure-pipelines.yml"
    text = broken.read_text()
    broken.write_text(text.replace("versionSpec:", "versionSpecc:", 1))
    errors = validate_pipelines([broken], tmp_path)
    assert errors[broken]
    # ... and so is one in a steps template the pipeline includes.
    broken.write_text(text)
    template = project / ".azure-pipelines/test-python.yml"
    template.write_text(template.read_text().replace("testRunTitle:", "testRunTitel:"))
    errors = validate_pipelines([broken], tmp_path)
    assert any("PublishTestResults@2" in error for error in errors[broken]), errors


def test_generated_python_passes_ruff(all_variants, render):
    applications = [render(project_kind="application")]
    projects = [str(project) for project in [*all_variants.values(), *applications]]
    ruff = [sys.executable, "-m", "ruff"]
    # Each project is checked against its own pyproject settings (target version, rules).
    for project in projects:
        check = subprocess.run(
            [*ruff, "check", "--no-cache", project],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        assert check.returncode == 0, check.stdout
        fmt = subprocess.run(
            [*ruff, "format", "--check", "--no-cache", project],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        assert fmt.returncode == 0, fmt.stdout


@pytest.mark.parametrize(
    ("index_name", "env_prefix"),
    [
        ("azure-devops", "UV_INDEX_AZURE_DEVOPS"),
        ("corp.feed", "UV_INDEX_CORP_FEED"),
        ("Team_Feed-2", "UV_INDEX_TEAM_FEED_2"),
    ],
)
def test_env_var_names_follow_the_index_name(render, index_name, env_prefix):
    project = render(index_name=index_name)
    pipeline = read_pipeline(project)
    assert feed_index(project)["name"] == index_name
    assert pipeline["variables"][f"{env_prefix}_USERNAME"] == "VssSessionToken"
    password_steps = [s for s in steps(pipeline) if f"{env_prefix}_PASSWORD" in s.get("env", {})]
    # the syncs (one per Python), the build and the build's check against the feed; in the
    # release pipeline, the decision whether the version is new and the upload's check for
    # files the feed has already
    release_text = yaml.safe_load((project / ".azure-pipelines/release.yml").read_text())
    release = compiled(release_text, reason="ResourceTrigger")
    password_steps += [s for s in steps(release) if f"{env_prefix}_PASSWORD" in s.get("env", {})]
    commands = [" ".join(s["script"].split()[:2]) for s in password_steps]
    assert list(dict.fromkeys(commands)) == [
        "uv sync",
        "uv build",
        "python .azure-pipelines/check_upload.py",
        "python .azure-pipelines/release.py",
        "python .azure-pipelines/upload_release.py",
    ]
    assert all(
        s["env"][f"{env_prefix}_PASSWORD"] == "$(System.AccessToken)" for s in password_steps
    )
    # The build's uv steps also give the token to the download links.
    uv_steps = [s for s in password_steps if s["script"].startswith("uv ")]
    assert uv_steps and all(
        s["env"][f"{env_prefix}_DOWNLOADS_PASSWORD"] == "$(System.AccessToken)" for s in uv_steps
    )
    upload = password_steps[-1]
    assert upload["script"].split()[2] == index_name
    assert f"{env_prefix}_PASSWORD" in (project / "docs/sign-in.md").read_text()
    assert release["variables"][f"{env_prefix}_USERNAME"] == "VssSessionToken"
    other_names = set(re.findall(r"UV_INDEX_\w+?_(?:USERNAME|PASSWORD)", str(pipeline)))
    assert other_names == {
        f"{env_prefix}{index}_{part}"
        for index in ("", "_DOWNLOADS")
        for part in ("USERNAME", "PASSWORD")
    }


def test_answers_file_keeps_answers_but_no_computed_values(render):
    project = render(azure_project="Widget Platform")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["azure_project"] == "Widget Platform"
    assert answers["publish"] is True
    computed = {"uv_version", "index_url", "publish_url", "feed_prefix", "index_env_prefix"}
    assert computed.isdisjoint(answers)
    assert "VssSessionToken" not in (project / ".copier-answers.yml").read_text()


@pytest.mark.parametrize("scope", ["project", "server"])
def test_readme_gives_the_sign_in_route_that_works_for_the_host(render, scope):
    project = render(**variant_answers(True, scope, "3.12", "MIT"))
    readme = project_pages(project)
    if scope == "server":  # artifacts-keyring never answers for a server
        assert "keyring set devops.contoso.com VssSessionToken" in readme
        assert "--with artifacts-keyring" not in readme
        identity = "R and D Build Service (DefaultCollection)"
    else:
        assert SERVICES_KEYRING_INSTALL in readme
        identity = "Widget Platform Build Service (contoso)"
    assert identity in readme
    assert "Feed and Upstream Reader (Collaborator)" in readme
    # The release's set-up is written out once, in the template's docs/release.md.
    assert "the template's `docs/release.md` has each step" in readme
    assert "`contoso-widgets-release`" in readme and "`contoso-widgets-publish`" in readme


@variants
def test_every_command_in_the_generated_readme_works_as_written_in_every_shell(render, variant):
    """The generated README's blocks read the same in bash, zsh, both PowerShells and cmd,
    its PAT route sets both index variables in each shell, and its release tag needs no
    shell syntax."""
    publish, *_ = variant
    readme = project_pages(render(**variant_answers(*variant)))
    rows = terminal_statements(readme)
    commands = {row[0].argv for row in rows if isinstance(row[0], Run)}
    assert ("uv", "sync") in commands
    variables = {row[0].name for row in rows if isinstance(row[0], SetVariable)}
    # The PAT route; on Services, also the credential provider's broker switch.
    broker = {"ARTIFACTS_CREDENTIALPROVIDER_MSAL_ALLOW_BROKER"} if variant[1] != "server" else set()
    assert variables == {
        "UV_INDEX_AZURE_DEVOPS_USERNAME",
        "UV_INDEX_AZURE_DEVOPS_PASSWORD",
        *broker,
    }
    for command in inline_commands(readme):
        read_everywhere(command)


# What a Copier user meets, each in the generated troubleshooting table.
TROUBLESHOOTING_MESSAGES = [
    "401 Unauthorized",
    "403 Forbidden",
    "Local file and index file do not match",
    "UnknownIssuer",
    "Required uv version",
    "Template uses potentially unsafe features",
    "Copier could not load some Jinja extensions",
    "wam_runtime_init_failed",
    "Failed to acquire session token",
    "could not be found",
    "did not match any version",
    "needs permission to access a resource",
]


@variants
def test_the_readme_keeps_the_projects_facts_and_links_to_pages_updates_keep(render, variant):
    """Sign-in, the pipeline, releases and troubleshooting live under docs/, which `copier
    update` keeps current; the README, the team's, stays short and links to each."""
    project = render(**variant_answers(*variant))
    readme = (project / "README.md").read_text()
    assert len(readme.splitlines()) <= 120
    pages = ["sign-in", "pipeline", "troubleshooting", *(["releasing"] if variant[0] else [])]
    assert sorted(p.stem for p in (project / "docs").glob("*.md")) == sorted(pages)
    for page in pages:
        assert f"(docs/{page}.md)" in readme
    kept = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_skip_if_exists"]
    assert not any(pattern.startswith("docs") for pattern in kept)
    table = (project / "docs/troubleshooting.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    for message in TROUBLESHOOTING_MESSAGES:
        assert any(message in row.split(" | ")[0] for row in rows), message
    # Every link between the pages leads to a page the project has.
    for text in map(Path.read_text, (project / "docs").glob("*.md")):
        for target in re.findall(r"\]\(([\w-]+\.md)\)", text):
            assert (project / "docs" / target).is_file(), target


def test_the_tutorials_tree_is_what_its_render_writes(render):
    """docs/tutorial.md shows the files its render command writes: the same, and no more."""
    project = render(azure_project="Widget Platform")
    tutorial = (TEMPLATE_ROOT / "docs/tutorial.md").read_text()
    tree = tutorial.split("```text\n")[1].split("```")[0]
    shown, folders = set(), []
    for line in tree.splitlines()[1:]:
        depth = (len(line) - len(line.lstrip("│ ├└─"))) // 4 - 1
        name = line.lstrip("│ ├└─")
        folders[depth:] = [name.rstrip("/")]
        if not name.endswith("/"):
            shown.add("/".join(folders))
    written = {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }
    assert shown == written


@pytest.mark.parametrize("scope", ["project", "server"])
def test_the_dev_container_signs_in_the_way_the_host_allows_and_keeps_uvs_cache(render, scope):
    """On Services: artifacts-keyring (the project's own keyring install), what it needs to
    open a browser and keep its cache, the host's network, the broker off. On a server: the
    PAT of the machine that opens it, keyring off. Both: the pinned uv, a uv cache volume."""
    project = render(**variant_answers(True, scope, "3.13", "MIT"))
    container = json.loads((project / ".devcontainer/devcontainer.json").read_text())
    assert container["image"] == "mcr.microsoft.com/devcontainers/python:1-3.13-bookworm"
    (volume,) = container["mounts"]
    assert volume == ("source=contoso-widgets-uv-cache,target=/home/vscode/.cache/uv,type=volume")
    assert container["containerEnv"]["UV_CACHE_DIR"] == "/home/vscode/.cache/uv"
    tools = container["postCreateCommand"]["tools"]
    assert tools.startswith(f"pipx install uv=={PINNED_UV}")
    readme = project_pages(project)
    if scope == "server":
        assert container["remoteEnv"] == {
            "UV_KEYRING_PROVIDER": "disabled",
            "UV_INDEX_AZURE_DEVOPS_USERNAME": "VssSessionToken",
            "UV_INDEX_AZURE_DEVOPS_PASSWORD": "${localEnv:UV_INDEX_AZURE_DEVOPS_PASSWORD}",
        }
        assert "runArgs" not in container and "artifacts-keyring" not in tools
    else:
        assert (
            container["containerEnv"]["ARTIFACTS_CREDENTIALPROVIDER_MSAL_ALLOW_BROKER"] == "false"
        )
        assert container["runArgs"] == ["--network", "host"]
        assert tools.endswith(f"&& {SERVICES_KEYRING_INSTALL}")
        assert "libsecret-1-0 xdg-utils" in container["postCreateCommand"]["packages"]
        assert "remoteEnv" not in container
    assert "## In the dev container" in readme
