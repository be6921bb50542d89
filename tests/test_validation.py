"""Every question rejects bad values with a message that names it and shows what is allowed."""

from pathlib import Path

import copier
import pytest

from azure_standins.template_facts import EXAMPLE_ANSWERS
from tests.rendering import copier_cli, data_args

# (question, bad value, what the message must say where a user sees it). Asked
# interactively, Copier shows "Validation error for question '<name>': <message>" on one
# line: at 80 columns that leaves 26 to 36 characters of the message, so what is wrong and
# what is allowed come first, tersely; the example and the answer given follow.
REJECTED = [
    ("project_name", "   ", "Must not be empty"),
    ("distribution_name", "Contoso_Widgets", "a-z, 0-9 and single hyphens"),
    ("distribution_name", "contoso--widgets", "a-z, 0-9 and single hyphens"),
    ("distribution_name", "-widgets", "a-z, 0-9 and single hyphens"),
    ("package_name", "1widgets", "lower-case Python identifier"),
    ("package_name", "class", "Must not be a Python keyword"),
    ("package_name", "Widgets", "lower-case Python identifier"),
    ("package_name", "contoso-widgets", "lower-case Python identifier"),
    ("description", "two\nlines", "single line"),
    ("author_email", "not-an-email", "Email address (a@b.tld) or empty"),
    ("author_email", "ann@localhost", "Email address (a@b.tld) or empty"),
    ("license", "GPL-3.0-only", None),
    ("release_connection", " releases", "No quotes, backslashes"),
    ("release_connection", 'the "release" one', "No quotes, backslashes"),
    ("build_pipeline", "folder/contoso-widgets", "No quotes, slashes, backslashes"),
    ("build_pipeline", "it's", "No quotes, slashes, backslashes"),
    ("python_version", "3.9", None),
    ("python_version", "3.16", None),
    ("python_floor", "3.15", "At most python_version"),
    ("project_kind", "service", None),
    ("azure_host", "pkgs.dev.azure.com", "http(s) base URL only"),
    ("azure_host", "ftp://pkgs.dev.azure.com", "http(s) base URL only"),
    ("azure_host", "https://me@pkgs.dev.azure.com", "http(s) base URL only: no user name"),
    ("azure_host", "https://pkgs.dev.azure.com?x=1", "http(s) base URL only: no user name,"),
    (
        "azure_host",
        "https://dev.azure.com",
        "Use https://pkgs.dev.azure.com",
    ),
    (
        "azure_host",
        "https://dev.azure.com/contoso",
        "Use https://pkgs.dev.azure.com",
    ),
    ("azure_host", "https://dev.azure.com/contoso/Widgets/", "Use https://pkgs.dev.azure.com"),
    ("azure_host", "https://contoso.visualstudio.com", "Use https://pkgs.dev.azure.com"),
    (
        "azure_host",
        "https://contoso.visualstudio.com/DefaultCollection",
        "Use https://pkgs.dev.azure.com",
    ),
    ("azure_host", "https://contoso.pkgs.visualstudio.com", "Use https://pkgs.dev.azure.com"),
    ("azure_host", "https://pkgs.dev.azure.com/contoso", "Use https://pkgs.dev.azure.com"),
    (
        "azure_organization",
        "-contoso",
        "1-50 letters, digits, hyphen",
    ),
    ("azure_organization", "con toso", "1-50 letters, digits, hyphen"),
    ("azure_organization", "c" * 51, "1-50 letters, digits, hyphen"),
    ("azure_project", "_Platform", "Up to 64 characters"),
    ("azure_project", "Platform.", "Up to 64 characters"),
    ("azure_project", "Widgets/Platform", "Up to 64 characters, none of \\ /"),
    ("azure_project", "Widgets: Platform", "Up to 64 characters, none of"),
    ("azure_project", "Platform ", "Up to 64 characters"),
    ("azure_project", "p" * 65, "Up to 64 characters"),
    ("azure_feed", "widgets feed", '1-64 letters, digits, ".", "-", "_"'),
    ("azure_feed", ".widgets", '1-64 letters, digits, ".", "-", "_"'),
    ("azure_feed", "widgets.", '1-64 letters, digits, ".", "-", "_"'),
    ("azure_feed", "widgets..internal", '1-64 letters, digits, ".", "-", "_"'),
    ("azure_feed", "widgets/internal", '1-64 letters, digits, ".", "-", "_"'),
    ("azure_feed", "f" * 65, '1-64 letters, digits, ".", "-", "_"'),
    (
        "index_name",
        "corp feed",
        'Use letters, digits, "-", "_" or "."',
    ),
    ("index_name", "-corp", 'Use letters, digits, "-", "_" or "."'),
    ("index_name", "corp/feed", 'Use letters, digits, "-", "_" or "."'),
    ("agent_pool", 'Linux "x64"', "A pool name: no quotes, backslashes"),
    ("agent_pool", " Linux", "A pool name: no quotes, backslashes"),
]

ACCEPTED = [
    ("project_name", "X"),
    ("distribution_name", "w"),
    ("distribution_name", "widgets2-core"),
    ("package_name", "_widgets"),
    ("package_name", "w2"),
    ("description", ""),
    ("author_email", ""),
    ("author_email", "ann.o-neil+widgets@contoso.co.uk"),
    ("license", "Proprietary"),
    ("python_version", "3.11"),
    ("python_version", "3.15"),
    ("python_floor", "3.14"),
    ("project_kind", "application"),
    ("azure_host", "https://pkgs.dev.azure.com/"),
    ("azure_host", "http://tfs.contoso.local:8080/tfs"),
    ("azure_organization", "c"),
    ("azure_organization", "c" * 50),
    ("azure_organization", "Contoso-2"),
    ("azure_project", ""),
    ("azure_project", "R&D (EMEA) Platform"),
    ("azure_project", "p" * 64),
    ("azure_feed", "w"),
    ("azure_feed", "Widgets.Internal_2-x"),
    ("azure_feed", "f" * 64),
    ("index_name", "corp.feed"),
    ("index_name", "Team_Feed-2"),
    ("agent_pool", ""),
    ("agent_pool", "Linux Agents"),
    ("release_connection", "Widgets Release (WIF)"),
]


def answer(template_dir: Path, destination: Path, answers: dict) -> None:
    """A real copy (no pretend), so that "nothing was written" can fail."""
    copier.run_copy(
        str(template_dir),
        str(destination),
        data={"install_keyring": False, **answers},
        defaults=True,
        unsafe=True,
        quiet=True,
    )


def rejection(template_dir: Path, destination: Path, answers: dict) -> str:
    """The message Copier rejects `answers` with; nothing may have been written."""
    with pytest.raises(ValueError) as rejected:
        answer(template_dir, destination, {**EXAMPLE_ANSWERS, **answers})
    assert not destination.exists()
    return str(rejected.value)


@pytest.mark.parametrize(
    ("question", "value", "first"), REJECTED, ids=[f"{q}={v!r}" for q, v, _ in REJECTED]
)
def test_bad_value_is_rejected_with_what_is_allowed_first(
    template_dir, tmp_path, question, value, first
):
    message = rejection(template_dir, tmp_path / "project", {question: value})
    prefix = f"Validation error for question '{question}': "
    if first is None:  # a choice: Copier's own message lists what is allowed
        assert f"'{question}'" in message and "is not in [" in message
        return
    assert message.startswith(prefix)
    own = message.removeprefix(prefix)
    assert first in message[:80], message[:80]  # the one line an 80-column terminal shows
    assert "e.g." in own.lower()
    if value.strip() and "\n" not in value:
        assert f'(got "{value}")' in own


def test_a_python_past_its_end_of_life_is_refused_with_what_to_do(template_dir, tmp_path):
    message = rejection(template_dir, tmp_path / "project", {"python_version": "3.10"})
    assert message.startswith("Invalid choice for 'python_version': 3.10 reached end of life")
    assert "choose 3.11 or later (--data python_version=3.11)" in message


def test_a_server_needs_an_agent_pool(template_dir, tmp_path):
    server = {"azure_host": "https://devops.contoso.com/tfs", "agent_pool": ""}
    message = rejection(template_dir, tmp_path / "project", server)
    own = message.split(": ", 1)[1]
    assert "'agent_pool'" in message
    assert "Required on Azure DevOps Server" in message[:80]
    assert "no Microsoft-hosted agents" in own


def test_arm64_agents_are_refused_on_a_server_whose_task_lacks_arm64(template_dir, tmp_path):
    server = {"azure_host": "https://devops.contoso.com/tfs", "agent_architecture": "arm64"}
    message = rejection(template_dir, tmp_path / "project", server)
    assert message.startswith("Invalid choice for 'agent_architecture': x64 only on Azure DevOps")
    assert "(--data agent_architecture=x64)" in message
    for architecture in ("x64", "arm64"):
        pool = {"agent_pool": "Agents", "agent_architecture": architecture}
        answer(template_dir, tmp_path / architecture, {**EXAMPLE_ANSWERS, **pool})
        assert (tmp_path / architecture / "azure-pipelines.yml").is_file()


def test_a_servers_release_pool_must_not_be_the_build_pool(template_dir, tmp_path):
    server = {"azure_host": "https://devops.contoso.com/tfs", "agent_pool": "Default"}
    message = rejection(template_dir, tmp_path / "same", {**server, "release_pool": "Default"})
    assert message.startswith("Validation error for question 'release_pool': Not the build pool")
    assert 'E.g. "Releases"' in message
    quoted = rejection(template_dir, tmp_path / "quoted", {**server, "release_pool": 'a "b"'})
    assert "A pool name: no quotes" in quoted[:80]
    answer(template_dir, tmp_path / "own", {**EXAMPLE_ANSWERS, **server})
    release = (tmp_path / "own/.azure-pipelines/release.yml").read_text()
    assert 'name: "Releases"' in release


def test_on_services_a_named_build_pool_asks_for_a_release_pool_hosted_or_its_own(
    template_dir, tmp_path
):
    pools = {"agent_pool": "Linux Agents"}
    same = rejection(template_dir, tmp_path / "same", {**pools, "release_pool": "Linux Agents"})
    assert same.startswith("Validation error for question 'release_pool': Not the build pool")
    answer(template_dir, tmp_path / "hosted", {**EXAMPLE_ANSWERS, **pools})
    hosted = (tmp_path / "hosted/.azure-pipelines/release.yml").read_text()
    assert "vmImage: ubuntu-latest" in hosted and "name:" not in hosted.split("pool:")[1][:80]
    own = {**EXAMPLE_ANSWERS, **pools, "release_pool": "Releases"}
    answer(template_dir, tmp_path / "own", own)
    assert 'name: "Releases"' in (tmp_path / "own/.azure-pipelines/release.yml").read_text()


def test_a_portal_url_with_an_organization_names_the_right_host_and_where_it_goes(
    template_dir, tmp_path
):
    message = rejection(
        template_dir, tmp_path / "project", {"azure_host": "https://dev.azure.com/fabrikam"}
    )
    assert 'azure_host "https://pkgs.dev.azure.com" and azure_organization "fabrikam"' in message


@pytest.mark.parametrize(("question", "value"), ACCEPTED, ids=[f"{q}={v!r}" for q, v in ACCEPTED])
def test_edge_value_is_accepted(template_dir, tmp_path, question, value):
    answer(template_dir, tmp_path / "project", {**EXAMPLE_ANSWERS, question: value})


def test_required_question_without_answer_is_reported(template_dir, tmp_path):
    answers = {k: v for k, v in EXAMPLE_ANSWERS.items() if k != "azure_organization"}
    with pytest.raises(ValueError, match='"azure_organization" is required'):
        answer(template_dir, tmp_path / "project", answers)


def test_defaults_are_derived_from_the_project_name(render):
    project = render(project_name="Contoso Widgets & Gadgets!")
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "contoso-widgets-gadgets"' in pyproject
    assert (project / "src/contoso_widgets_gadgets/__init__.py").is_file()


@pytest.mark.parametrize(
    ("bad", "question"),
    [({"azure_feed": "widgets feed"}, "azure_feed"), ({"python_version": "3.9"}, "python_version")],
)
def test_cli_prints_the_message_without_traceback_and_writes_nothing(
    template_dir, tmp_path, bad, question
):
    destination = tmp_path / "project"
    args = data_args({**EXAMPLE_ANSWERS, **bad})
    result = copier_cli("copy", "--trust", "--defaults", *args, str(template_dir), str(destination))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"'{question}'" in result.stderr
    assert "Nothing was written." in result.stderr
    assert not destination.exists()
