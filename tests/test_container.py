"""An application's image, built for real with buildah against the feed emulator by the
command its docs/container.md gives, from a base image made here from Debian's packages: it
runs as a user that is not root, it signs in to the feed only through the build secret, and
nothing of the token is in any layer, its settings or its history. A wrong token fails the
build with the feed's 401."""

import secrets
import shlex
import shutil

import pytest

from azure_standins.feed_emulator import FeedEmulator
from azure_standins.images import BASE_PYTHON, build, image_bytes, remove, run
from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_PROJECT
from azure_standins.uv_environment import clean_env, machine_pythons, run_uv, with_feed_token
from azure_standins.wheelhouse import upstream_wheelhouse

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def local_feed():
    """A feed on 127.0.0.1, plain HTTP, as an image build reaches it from its RUN steps,
    whose upstream holds wheels for the base image's Python."""
    emulator = FeedEmulator()
    feed = emulator.add_feed(
        EXAMPLE_ANSWERS["azure_organization"],
        EXAMPLE_ANSWERS["azure_feed"],
        EXAMPLE_PROJECT,
        upstream_wheelhouse(BASE_PYTHON),
        secrets.token_urlsafe(24),
    )
    emulator.start()
    yield emulator, feed
    emulator.stop()


@pytest.fixture
def application(render, local_feed, shared_uv_cache, tmp_path):
    """An application rendered for the local feed and Debian 12's Python, locked."""
    emulator, feed = local_feed
    rendered = render(
        project_kind="application",
        azure_host=emulator.url,
        azure_project=feed.project,
        python_version=BASE_PYTHON,
    )
    project = tmp_path / "contoso-widgets"
    shutil.copytree(rendered, project)
    (python,) = machine_pythons([BASE_PYTHON])
    env = with_feed_token(clean_env(shared_uv_cache, python, tmp_path / "config"), feed.token)
    locked = run_uv(project, "lock", env=env)
    assert locked.returncode == 0, locked.stderr
    return project, feed


@pytest.fixture
def tag(tmp_path):
    """The test's image name; the image is removed after the test."""
    name = f"localhost/contoso-widgets:{tmp_path.name.lower()}"
    yield name
    remove(name)


def build_as_documented(project, token: str, tag: str, *more: str):
    """The project's docs/container.md buildah line, as written, in the project's folder,
    with the token in `../feed-token` as it says; `more` adds to the command."""
    (line,) = [
        line
        for line in (project / "docs/container.md").read_text().splitlines()
        if line.startswith("buildah bud ")
    ]
    (project.parent / "feed-token").write_text(token)
    return build([*shlex.split(line)[:-1], *more, "."], project, tag)


def test_the_image_signs_in_through_the_build_secret_alone_and_runs_as_a_user(
    application, tag, tmp_path
):
    project, feed = application
    built = build_as_documented(project, feed.token, tag)
    assert built.returncode == 0, built.stderr[-3000:]
    ran = run(tag)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "Contoso Widgets 0.1.0"
    assert run(tag, "id", "-u").stdout.strip() == "10001"
    # Every layer, the image's settings and its history: no trace of the token.
    everything = image_bytes(tag, tmp_path / "image")
    assert len(everything) >= 4  # manifest, config and at least two layers
    assert [name for name, data in everything.items() if feed.token.encode() in data] == []


def test_the_same_search_finds_a_token_passed_as_a_build_argument(application, tag, tmp_path):
    """The control: what a leaky Dockerfile leaves, the search above finds."""
    project, feed = application
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace(
            "FROM ${BASE_IMAGE}\n", "FROM ${BASE_IMAGE}\nARG FEED_TOKEN\nRUN echo checked\n", 1
        )
    )
    built = build_as_documented(project, feed.token, tag, "--build-arg", f"FEED_TOKEN={feed.token}")
    assert built.returncode == 0, built.stderr[-3000:]
    everything = image_bytes(tag, tmp_path / "image")
    assert [name for name, data in everything.items() if feed.token.encode() in data]


def test_a_wrong_token_fails_the_build_with_the_feeds_401(application, tag, tmp_path):
    project, _ = application
    built = build_as_documented(project, "not-the-token", tag)
    assert built.returncode != 0
    assert "401" in built.stdout + built.stderr
