"""The build's check of the built files (.azure-pipelines/check_upload.py, publish variant):
what Azure Artifacts would refuse at upload fails the build long before the release. Run as
the pipeline runs it, against the feed emulator as pkgs.dev.azure.com."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from azure_standins import COMMAND_TIMEOUT
from azure_standins.feed_emulator import COLLABORATOR, StoredFile
from tests.archives import distribution
from tests.rendering import copy_project

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
WHEEL = "contoso_widgets-0.1.0-py3-none-any.whl"
SDIST = "contoso_widgets-0.1.0.tar.gz"


@pytest.fixture
def project(render, tmp_path) -> Path:
    project = copy_project(render(publish=True, **PROJECT_FEED), tmp_path / "project")
    (project / "dist").mkdir()
    return project


def check(project: Path, feed, azure_hosts):
    env = {
        **os.environ,
        **azure_hosts.client_env(),
        "UV_INDEX_AZURE_DEVOPS_USERNAME": "VssSessionToken",
        "UV_INDEX_AZURE_DEVOPS_PASSWORD": feed.identity("build service", COLLABORATOR),
    }
    return subprocess.run(
        [sys.executable, ".azure-pipelines/check_upload.py", "dist"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )


def build(project: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (project / "dist" / name).write_bytes(data)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {WHEEL: distribution(WHEEL, metadata_version="2.4"), SDIST: distribution(SDIST)},
            "has Core Metadata 2.4, which no public report shows Azure Artifacts accepting",
        ),
        ({WHEEL: distribution(WHEEL, metadata_version="2.5")}, "2.5 comes from `import-names`"),
        ({"contoso_gadgets-0.1.0.tar.gz": distribution(SDIST)}, "is not a wheel or sdist of"),
        ({"contoso_widgets-0.2.0.tar.gz": distribution(SDIST)}, "is not a wheel or sdist of"),
        ({}, "No wheel or sdist in dist/"),
    ],
    ids=["metadata-2.4", "metadata-2.5", "other-name", "other-version", "empty"],
)
def test_what_the_feed_would_refuse_fails_the_build(
    project, feed_server, azure_hosts, files, message
):
    build(project, files)
    result = check(project, feed_server.feed("widgets"), azure_hosts)
    assert result.returncode == 1
    assert "##vso[task.logissue type=error]" in result.stdout and message in result.stdout


def test_a_local_version_fails_the_build(project, feed_server, azure_hosts):
    pyproject = project / "pyproject.toml"
    local = pyproject.read_text().replace('version = "0.1.0"', 'version = "0.1.0+abc"')
    pyproject.write_text(local)
    build(project, {"contoso_widgets-0.1.0+abc-py3-none-any.whl": distribution(WHEEL)})
    result = check(project, feed_server.feed("widgets"), azure_hosts)
    assert result.returncode == 1 and "has a local segment" in result.stdout


def test_the_build_says_whether_main_would_release_its_version(project, feed_server, azure_hosts):
    feed = feed_server.feed("widgets")
    build(project, {WHEEL: distribution(WHEEL), SDIST: distribution(SDIST)})
    fresh = check(project, feed, azure_hosts)
    assert fresh.returncode == 0 and "new to the feed; main releases it once merged" in fresh.stdout
    published = distribution(WHEEL, metadata_version="2.2")  # another build of the same version
    feed.packages["contoso-widgets"] = {WHEEL: StoredFile(WHEEL, "0.1.0", published)}
    try:
        held = check(project, feed, azure_hosts)
        assert held.returncode == 0
        assert "main releases nothing until" in held.stdout and "`version`" in held.stdout
    finally:
        feed.packages.pop("contoso-widgets", None)
