"""The shell rules tests/shells.py writes down, one test each: what bash, PowerShell 7,
Windows PowerShell 5.1 and cmd do with the lines our pages and messages give."""

import pytest

from tests.shells import (
    BASH,
    CMD,
    POWERSHELL,
    PWSH,
    SHELLS,
    Run,
    SetVariable,
    ShellError,
    inline_commands,
    read,
    read_everywhere,
    terminal_statements,
)


def refused_by(line: str) -> set[str]:
    refused = set()
    for shell in SHELLS:
        try:
            read(line, shell)
        except ShellError:
            refused.add(shell)
    return refused


def test_plain_words_and_double_quotes_reach_the_program_unchanged_in_every_shell():
    line = 'uvx copier copy --trust --data project_name="Contoso Widgets" ~/t ../p'
    statements = read_everywhere(line, home="/home/me")
    argv = ("uvx", "copier", "copy", "--trust", "--data", "project_name=Contoso Widgets")
    assert statements[CMD] == Run((*argv, "~/t", "../p"))
    assert statements[PWSH] == statements[POWERSHELL] == statements[CMD]
    # bash expands `~/` itself; Copier does the same with the path the others pass on.
    assert statements[BASH].argv[-2] == "/home/me/t"


@pytest.mark.parametrize(
    "line, refused",
    [
        # Command substitution: cmd has none, and passes `$(uv` to git as it is.
        ("git tag v$(uv version --short)", set(SHELLS)),
        # `#` starts a comment in bash and PowerShell; cmd passes the words on to git.
        ("git status  # must be clean", set(SHELLS)),
        # Single quotes are ordinary characters in cmd.
        ("git diff '#'", set(SHELLS)),
        # `&&` arrived in PowerShell 7.
        ("git add . && git commit", set(SHELLS)),
        # A variable: expanded by bash and PowerShell, passed as it is by cmd.
        ('echo "$HOME"', {BASH, PWSH, POWERSHELL}),
        ('echo "100%"', {CMD}),
        ('echo "Hello!"', {BASH, CMD}),
        # Parameters, splatting and stop-parsing are PowerShell's alone.
        ("mvn -Dmaven.test.skip=true", {PWSH, POWERSHELL}),
        ("cmd @args", {PWSH, POWERSHELL}),
        ("icacls x --% /grant", set(SHELLS)),
        # zsh's `=` expansion.
        ("ls =python", {BASH}),
        # cmd's cd stays on its drive without /d; pushd changes it, in every shell.
        ('cd "D:/projects/contoso-widgets"', {CMD}),
        # Windows PowerShell 5.1 drops an empty argument.
        ('git commit -m ""', {POWERSHELL}),
        ('echo "open', set(SHELLS)),
    ],
)
def test_constructs_a_shell_reads_otherwise_are_refused_for_that_shell(line, refused):
    assert refused_by(line) == refused
    with pytest.raises(ShellError):
        read_everywhere(line)


@pytest.mark.parametrize(
    "shell, line",
    [
        (BASH, 'export UV_INDEX_A_PASSWORD="<your PAT>"'),
        (PWSH, '$env:UV_INDEX_A_PASSWORD = "<your PAT>"'),
        (POWERSHELL, '$env:UV_INDEX_A_PASSWORD = "<your PAT>"'),
        (CMD, 'set "UV_INDEX_A_PASSWORD=<your PAT>"'),
    ],
)
def test_each_shell_sets_a_variable_its_own_way_and_no_other(shell, line):
    assert read(line, shell) == SetVariable("UV_INDEX_A_PASSWORD", "<your PAT>")
    readers = {PWSH, POWERSHELL} if shell in (PWSH, POWERSHELL) else {shell}
    assert refused_by(line) == set(SHELLS) - readers


def test_unquoted_placeholder_is_a_redirection():
    assert refused_by("export A=<your PAT>") == set(SHELLS)
    # Placeholders in running text are checked before they are filled in.
    assert inline_commands('Run `git remote add origin "<clone URL>"`.') == [
        'git remote add origin "X"'
    ]
    with pytest.raises(ShellError, match="outside double quotes"):
        inline_commands("Run `git remote add origin <clone URL>`.")


def test_pushd_changes_the_folder_in_every_shell():
    assert {read(line, shell) for shell in SHELLS for line in ['pushd "D:/p"']} == {
        Run(("pushd", "D:/p"))
    }


def fenced(language: str, *lines: str) -> str:
    return f"```{language}\n" + "\n".join(lines) + "\n```\n"


def test_a_page_gives_one_block_per_shell_that_do_the_same():
    page = (
        fenced("sh", "uv lock")
        + "Then:\n\n"
        + fenced("bash", "export A=VssSessionToken", 'export B="<PAT>"')
        + fenced("powershell", '$env:A = "VssSessionToken"', '$env:B = "<PAT>"')
        + fenced("bat", 'set "A=VssSessionToken"', 'set "B=<PAT>"')
        + fenced("yaml", "steps: []")
    )
    rows = terminal_statements(page)
    assert [row[0] for row in rows] == [
        Run(("uv", "lock")),
        SetVariable("A", "VssSessionToken"),
        SetVariable("B", "<PAT>"),
    ]


@pytest.mark.parametrize(
    "page",
    [
        # PowerShell's form sets one variable of two (the generated README's old line).
        fenced("bash", "export A=x", "export B=y")
        + fenced("powershell", '$env:B = "y"')
        + fenced("bat", 'set "A=x"', 'set "B=y"'),
        # No form for cmd.
        fenced("bash", "export A=x") + fenced("powershell", '$env:A = "x"'),
        # bash syntax in a block for every shell.
        fenced("sh", "export A=x"),
    ],
    ids=["one-variable-short", "no-cmd-form", "bash-in-sh"],
)
def test_a_page_missing_a_shell_or_a_step_is_refused(page):
    with pytest.raises(ShellError):
        terminal_statements(page)
