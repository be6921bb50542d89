"""Every question rejects bad values with a message that names it and shows what is allowed."""

from pathlib import Path

import copier
import pytest

from azure_standins.template_facts import EXAMPLE_ANSWERS
from tests.rendering import copier_cli, data_args

REJECTED = [
    ("project_name", "   "),
    ("distribution_name", "Contoso_Widgets"),
    ("distribution_name", "contoso--widgets"),
    ("distribution_name", "-widgets"),
    ("package_name", "1widgets"),
    ("package_name", "class"),
    ("package_name", "Widgets"),
    ("package_name", "contoso-widgets"),
    ("description", "two\nlines"),
    ("author_email", "not-an-email"),
    ("author_email", "ann@localhost"),
    ("license", "GPL-3.0-only"),
    ("python_version", "3.9"),
    ("python_version", "3.15"),
    ("azure_host", "pkgs.dev.azure.com"),
    ("azure_host", "ftp://pkgs.dev.azure.com"),
    ("azure_host", "https://me@pkgs.dev.azure.com"),
    ("azure_host", "https://pkgs.dev.azure.com?x=1"),
    ("azure_host", "https://dev.azure.com"),
    ("azure_host", "https://contoso.visualstudio.com"),
    ("azure_host", "https://pkgs.dev.azure.com/contoso"),
    ("azure_organization", "-contoso"),
    ("azure_organization", "con toso"),
    ("azure_organization", "c" * 51),
    ("azure_project", "_Platform"),
    ("azure_project", "Platform."),
    ("azure_project", "Widgets/Platform"),
    ("azure_project", "Widgets: Platform"),
    ("azure_project", "Platform "),
    ("azure_project", "p" * 65),
    ("azure_feed", "widgets feed"),
    ("azure_feed", ".widgets"),
    ("azure_feed", "widgets."),
    ("azure_feed", "widgets..internal"),
    ("azure_feed", "widgets/internal"),
    ("azure_feed", "f" * 65),
    ("index_name", "corp feed"),
    ("index_name", "-corp"),
    ("index_name", "corp/feed"),
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
    ("python_version", "3.10"),
    ("python_version", "3.14"),
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
]


def answer(template_dir: Path, destination: Path, answers: dict) -> None:
    copier.run_copy(
        str(template_dir),
        str(destination),
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        pretend=True,
    )


@pytest.mark.parametrize(("question", "value"), REJECTED, ids=[f"{q}={v!r}" for q, v in REJECTED])
def test_bad_value_is_rejected_with_a_helpful_message(template_dir, tmp_path, question, value):
    with pytest.raises(ValueError) as rejected:
        answer(template_dir, tmp_path / "project", {**EXAMPLE_ANSWERS, question: value})
    message = str(rejected.value)
    assert f"'{question}'" in message
    # Either the validator's own text (which gives an example) or Copier's list of choices.
    assert "e.g." in message or "is not in [" in message
    assert not (tmp_path / "project").exists()


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
