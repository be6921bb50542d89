"""Rendered projects, real uv, the feed emulator: lock, sync, test, build, publish, consume.

Projects are rendered for Azure DevOps Services, whose hosts the emulator answers for here
(azure_standins/azure_hosts.py), with a `python_version` an interpreter on this machine
satisfies (UV_PYTHON_DOWNLOADS=never throughout). The pipeline's credentials are used here;
tests/test_sign_in.py covers a developer's.
"""

import os

import pytest

from azure_standins.template_facts import EXAMPLE_ANSWERS
from azure_standins.uv_environment import run_uv, uv_only, with_feed_token
from azure_standins.wheelhouse import tools_wheelhouse
from tests.outcomes import ok
from tests.pages import troubleshooting_message
from tests.rendering import copier_cli, data_args

pytestmark = pytest.mark.e2e

PROJECT_FEED = {"azure_project": "Widget Platform", "azure_feed": "widgets"}
ORG_FEED = {"azure_project": "", "azure_feed": "shared"}


def test_lock_sync_test_lint_and_build_with_pipeline_credentials(
    project_for, feed_server, uv_env, tmp_path
):
    project = project_for(**PROJECT_FEED)
    # A cache of its own: the session's may hold every file already, and this test counts
    # what the feed serves.
    env = {
        **with_feed_token(uv_env, feed_server.feed("widgets").token),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
    }
    ok(run_uv(project, "lock", env=env))
    ok(run_uv(project, "sync", "--locked", env=env))
    tests = ok(run_uv(project, "run", "--no-sync", "pytest", env=env))
    assert "1 passed" in tests.stdout
    ok(run_uv(project, "run", "--no-sync", "ruff", "check", env=env))
    ok(run_uv(project, "run", "--no-sync", "ruff", "format", "--check", env=env))
    ok(run_uv(project, "build", env=env))
    built = sorted(path.name for path in (project / "dist").glob("contoso_widgets-*"))
    assert built == ["contoso_widgets-0.1.0-py3-none-any.whl", "contoso_widgets-0.1.0.tar.gz"]
    counts = feed_server.counts()
    assert counts["simple"] > 0 and counts["download"] > 0 and counts["blob"] > 0


def test_mypy_is_strict_for_src_lets_tests_leave_out_annotations_and_warns_of_nothing(
    project_for, feed_server, uv_env
):
    """What the docs promise: strict for the package, annotations optional in tests, and
    settings mypy takes as written (no "Patterns must be fully-qualified" warning)."""
    project = project_for(**PROJECT_FEED)
    env = with_feed_token(uv_env, feed_server.feed("widgets").token)
    ok(run_uv(project, "sync", env=env))
    tests = project / "tests" / "test_more.py"
    tests.write_text("def test_untyped(tmp_path):\n    assert tmp_path.exists()\n")
    checked = run_uv(project, "run", "--no-sync", "mypy", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("Success: no issues found") and checked.stderr == ""
    module = project / "src" / "contoso_widgets" / "untyped.py"
    module.write_text("def count(widgets):\n    return len(widgets)\n")
    strict = run_uv(project, "run", "--no-sync", "mypy", env=env)
    assert strict.returncode == 1
    assert "untyped.py:1: error: Function is missing a type annotation" in strict.stdout
    assert "test_more.py" not in strict.stdout


def test_uvs_troubleshooting_messages_are_what_uv_prints(project_for, uv_env):
    """The generated troubleshooting table's rows for uv, as uv prints them: no credentials
    (401), and a certificate uv does not trust (the emulator's own CA, left out)."""
    project = project_for(**PROJECT_FEED)
    refused = run_uv(project, "lock", env=uv_env)
    assert troubleshooting_message("uv", "401") in refused.stderr
    untrusted = run_uv(project, "lock", env={**uv_env, "SSL_CERT_FILE": ""})
    assert troubleshooting_message("uv", "invalid peer certificate") in untrusted.stderr


def test_warm_cache_sync_makes_no_feed_requests(project_for, feed_server, uv_env, tmp_path):
    """cache-control on the index: Azure's files never go stale, so a warm sync asks nothing."""
    project = project_for(**PROJECT_FEED)
    env = {
        **with_feed_token(uv_env, feed_server.feed("widgets").token),
        "UV_CACHE_DIR": str(tmp_path / "cache"),
    }
    ok(run_uv(project, "lock", env=env))
    ok(run_uv(project, "sync", "--locked", env=env))
    feed_server.reset()
    ok(run_uv(project, "sync", "--locked", "--reinstall", env=env))
    assert feed_server.counts() == {}


def test_publish_uploads_then_skips_then_refuses_a_changed_file(project_for, feed_server, uv_env):
    project = project_for(**PROJECT_FEED)
    feed = feed_server.feed("widgets")
    env = {**with_feed_token(uv_env, feed.token), "UV_PUBLISH_TOKEN": feed.token}
    publish = ("publish", "--index", "azure-devops", "--trusted-publishing", "never")
    ok(run_uv(project, "build", env=env))
    ok(run_uv(project, *publish, env=env))
    assert feed.published_files() == {
        "contoso_widgets-0.1.0-py3-none-any.whl",
        "contoso_widgets-0.1.0.tar.gz",
    }

    feed_server.reset()
    again = ok(run_uv(project, *publish, env=env))
    assert "already exists" in again.stderr.lower() or "skipping" in again.stderr.lower()
    assert feed_server.counts()["upload"] == 0

    (project / "src/contoso_widgets/extra.py").write_text("CHANGED = True\n")
    ok(run_uv(project, "build", "--clear", env=env))
    before = {name: f.data for files in feed.packages.values() for name, f in files.items()}
    changed = run_uv(project, *publish, env=env)
    assert changed.returncode != 0
    assert troubleshooting_message("uv", "Local file and index file") in changed.stderr
    after = {name: f.data for files in feed.packages.values() for name, f in files.items()}
    assert after == before


def test_round_trip_consume_only_project_installs_the_published_package(
    project_for, feed_server, uv_env
):
    feed = feed_server.feed("shared")
    producer = project_for("producer", index_name="corp.feed", **ORG_FEED)
    env = {
        **with_feed_token(uv_env, feed.token, "UV_INDEX_CORP_FEED"),
        "UV_PUBLISH_TOKEN": feed.token,
    }
    ok(run_uv(producer, "build", env=env))
    ok(
        run_uv(
            producer, "publish", "--index", "corp.feed", "--trusted-publishing", "never", env=env
        )
    )

    consumer = project_for(
        "consumer",
        project_name="Contoso Gadgets",
        publish=False,
        index_name="corp.feed",
        **ORG_FEED,
    )
    assert "publish-url" not in (consumer / "pyproject.toml").read_text()
    ok(run_uv(consumer, "add", "contoso-widgets==0.1.0", env=env))
    imported = ok(
        run_uv(
            consumer,
            "run",
            "python",
            "-c",
            "import contoso_widgets; print(contoso_widgets.__version__)",
            env=env,
        )
    )
    assert imported.stdout.strip() == "0.1.0"


def test_without_credentials_lock_fails_and_points_at_authentication(
    project_for, feed_server, uv_env
):
    project = project_for(**PROJECT_FEED)
    env = {**uv_env, "UV_KEYRING_PROVIDER": "disabled"}
    result = run_uv(project, "lock", env=env)
    assert result.returncode != 0
    assert "401" in result.stderr
    assert feed_server.counts()["unauthorized"] > 0


def test_no_secret_in_lock_file_rendered_files_or_output(project_for, feed_server, uv_env):
    project = project_for(**PROJECT_FEED)
    feed = feed_server.feed("widgets")
    env = {**with_feed_token(uv_env, feed.token), "UV_PUBLISH_TOKEN": feed.token}
    outputs = [
        ok(run_uv(project, *args, env=env))
        for args in (
            ("lock",),
            ("sync", "--locked"),
            ("build",),
            ("publish", "--index", "azure-devops", "--trusted-publishing", "never"),
        )
    ]
    lock = (project / "uv.lock").read_text()
    assert feed.token not in lock
    assert "VssSessionToken" not in lock
    for path in project.rglob("*"):
        if path.is_file() and ".venv" not in path.parts:
            assert feed.token.encode() not in path.read_bytes(), path
    for result in outputs:
        assert feed.token not in result.stdout + result.stderr


@pytest.mark.network
def test_hook_installs_keyring_for_real_and_tells_the_truth_about_path(
    template_dir, uv_env, interpreter, tmp_path
):
    """The real `uv tool install`, into a temporary tool folder that is first off PATH, as
    on a fresh machine, then on it. The wheels come from a wheelhouse filled from PyPI on
    first use (hence the `network` mark)."""
    tool_bin = tmp_path / "bin"
    uv_bin = uv_only(tmp_path / "uv-bin")  # without the keyring of this environment
    env = {
        **uv_env,
        "PATH": f"{uv_bin}{os.pathsep}{uv_env['PATH']}",
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(tool_bin),
        "UV_OFFLINE": "1",  # `uv tool` has no UV_NO_INDEX: only the wheelhouse
        "UV_FIND_LINKS": str(tools_wheelhouse(interpreter.version)),
    }
    answers = {**EXAMPLE_ANSWERS, "install_keyring": True}

    def copy(destination: str, env: dict):
        return copier_cli(
            "copy",
            "--trust",
            "--defaults",
            *data_args(answers),
            str(template_dir),
            str(tmp_path / destination),
            env=env,
        )

    first = copy("first", env)
    assert first.returncode == 0, first.stderr
    assert f"keyring is installed in {tool_bin}, but that folder is not on PATH" in first.stderr
    assert "uv tool update-shell" in first.stderr
    assert "signs you in" not in first.stdout

    on_path = {**env, "PATH": f"{tool_bin}{os.pathsep}{env['PATH']}"}
    second = copy("second", on_path)
    assert second.returncode == 0, second.stderr
    assert "already installed" in second.stdout
    assert "the first `uv lock` signs you in" in second.stdout
