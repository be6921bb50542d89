"""How bash (and zsh), PowerShell 7, Windows PowerShell 5.1 and cmd read a line a user pastes.

PowerShell and cmd cannot be installed on these machines, so their rules are written here,
each beside the Microsoft page it comes from, and tests/test_shells.py pins each one. The
model covers only the small grammar that copyable commands keep to:

- a command: words of plain characters (letters, digits and `_ - . / : = @ + ~`) and
  double-quoted strings, which in every one of these shells pass their text unchanged as long
  as it holds none of the characters that shell expands inside quotes;
- setting an environment variable, in each shell's own form.

Anything else is refused with the rule it breaks. That is the point: a bash-only construct
(`$( )`, `&&`, `#` comments, single quotes, `export`) in a line meant for every shell, or a
line for one shell in another's syntax, fails a test.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

BASH = "bash"  # and zsh, macOS's login shell: the same rules for this grammar
PWSH = "PowerShell 7"
POWERSHELL = "Windows PowerShell 5.1"
CMD = "cmd"
SHELLS = (BASH, PWSH, POWERSHELL, CMD)

# Markdown code blocks: `sh` holds lines for every shell; a line for one shell only goes in a
# block of that shell's language, and such blocks come as a set, one for each shell.
EVERY_SHELL = "sh"
BLOCK_SHELLS = {"bash": (BASH,), "powershell": (PWSH, POWERSHELL), "bat": (CMD,)}

PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@+~")

# Characters a shell expands inside double quotes, so they never pass unchanged:
# - bash: `$`, backquote, `\` and, interactively, `!` (history expansion); see bash(1),
#   QUOTING. zsh is the same.
# - PowerShell: `$` and the backquote (escape): about_Quoting_Rules,
#   https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_quoting_rules
# - cmd: `%` (variable expansion happens before quotes are read):
#   https://learn.microsoft.com/windows-server/administration/windows-commands/set_1
#   (`!` too where delayed expansion is on, which `cmd /v` or a registry setting turns on).
EXPANDED_IN_QUOTES = {
    BASH: set("$`\\!"),
    PWSH: set("$`"),
    POWERSHELL: set("$`"),
    CMD: set("%!"),
}


class ShellError(ValueError):
    """A line this shell would not read as intended: names the shell and the rule."""


@dataclass(frozen=True)
class Run:
    """A program run with these arguments (argv[0] is the program)."""

    argv: tuple[str, ...]


@dataclass(frozen=True)
class SetVariable:
    """An environment variable set for the commands that follow, in this terminal."""

    name: str
    value: str


Statement = Run | SetVariable


def read(line: str, shell: str, home: str = "~") -> Statement:
    """What `shell` does with `line`; ShellError where the grammar above does not hold.

    `home` is what bash makes of a leading `~/` (the other shells pass it on: see
    `word_rules`)."""
    line = line.strip()
    assignment = SET_VARIABLE[shell].fullmatch(line)
    if assignment:
        quoted, bare = assignment["quoted"], assignment.groupdict().get("bare")
        if bare is not None and not set(bare) <= PLAIN:
            raise ShellError(f"{shell}: quote a value with other than plain characters: {line}")
        if quoted is not None:
            check_quoted(quoted, shell)
        return SetVariable(assignment["name"], bare if quoted is None else quoted)
    for pattern, rule in LINE_RULES[shell]:
        if re.search(pattern, line):
            raise ShellError(f"{shell}: {rule}: {line}")
    return Run(tuple(word(text, shell, home) for text in split_words(line, shell)))


def read_everywhere(line: str, home: str = "~") -> dict[str, Statement]:
    """How each shell reads a line meant for all of them; ShellError unless every shell
    reads it, and runs the same program with the same arguments (bash's `~/` expanded)."""
    statements = {shell: read(line, shell, home) for shell in SHELLS}
    literal = statements[CMD]
    for shell, statement in statements.items():
        if not isinstance(statement, Run):
            raise ShellError(f"{shell} sets a variable, which no line for every shell can: {line}")
        if shell != BASH and statement != literal:
            raise ShellError(f"{shell} and cmd pass different arguments: {line}")
    expanded = tuple(tilde(arg, home) for arg in literal.argv)
    if statements[BASH] != Run(expanded):
        raise ShellError(f"bash and cmd pass different arguments: {line}")
    return statements


def tilde(argument: str, home: str) -> str:
    return str(PurePosixPath(home) / argument[2:]) if argument.startswith("~/") else argument


# Setting a variable for the commands that follow:
# - bash: `export NAME=value` (bash(1), SHELL BUILTIN COMMANDS).
# - PowerShell: `$env:NAME = "value"`: about_Environment_Variables,
#   https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_environment_variables
# - cmd: `set "NAME=value"`; the quotes keep `<`, `>`, `&` and `|` in the value literal and
#   are not part of it: https://learn.microsoft.com/windows-server/administration/windows-commands/set_1
NAME = r"(?P<name>[A-Z][A-Z0-9_]*)"
QUOTED = r'"(?P<quoted>[^"]*)"'
SET_VARIABLE = {
    BASH: re.compile(rf"export {NAME}=(?:{QUOTED}|(?P<bare>[^ \"]+))"),
    PWSH: re.compile(rf"\$env:{NAME} = {QUOTED}"),
    POWERSHELL: re.compile(rf"\$env:{NAME} = {QUOTED}"),
    CMD: re.compile(rf'set "{NAME}=(?P<quoted>[^"]*)"'),
}

# Constructs each shell reads otherwise than a plain command (checked on the whole line).
POWERSHELL_LINE_RULES = [
    # about_Parsing: `--%` stops PowerShell's parsing for the rest of the line.
    (r"(^| )--%", "`--%` changes how PowerShell passes the rest of the line"),
    # about_Environment_Variables: a variable is set only with `$env:NAME = ...`.
    (r"^export ", '`export` is not a PowerShell command; use `$env:NAME = "value"`'),
    (r"^set ", "`set` is PowerShell's Set-Variable, not an environment variable"),
]
LINE_RULES: dict[str, list[tuple[str, str]]] = {
    BASH: [(r"^set ", "`set` in bash sets positional parameters, not a variable")],
    PWSH: POWERSHELL_LINE_RULES,
    POWERSHELL: [
        # about_Pipeline_Chain_Operators: `&&` and `||` arrived in PowerShell 7; Windows
        # PowerShell 5.1 reports "The token '&&' is not a valid statement separator".
        # https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_pipeline_chain_operators
        (r"&&|\|\|", "`&&` and `||` do not exist in Windows PowerShell 5.1"),
        *POWERSHELL_LINE_RULES,
    ],
    CMD: [
        # https://learn.microsoft.com/windows-server/administration/windows-commands/rem:
        # cmd's only comment is a `rem` command; `#` is an ordinary character, so
        # `git status  # must be clean` passes `#`, `must`, `be`, ... to git.
        (r"(^| )#", "cmd has no `#` comments: the words after `#` reach the program"),
        (r"^export ", '`export` is not a cmd command; use `set "NAME=value"`'),
        (r"^\$env:", '`$env:` is PowerShell\'s; cmd uses `set "NAME=value"`'),
        # https://learn.microsoft.com/windows-server/administration/windows-commands/cd: cd
        # changes the drive only with /d, and `cd /d` is no command in the other shells;
        # pushd changes the drive too (windows-commands/pushd), and is a command in all four.
        (
            r"^cd (?!/d )",
            "cmd's `cd` does not change the drive: use `pushd`, which every shell has",
        ),
    ],
}


def split_words(line: str, shell: str) -> list[str]:
    """Words separated by spaces outside double quotes."""
    words, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char in " \t" and not quoted:
            if current:
                words.append(current)
            current = ""
            continue
        current += char
    if quoted:
        raise ShellError(f"{shell}: a double quote is not closed: {line}")
    return [*words, current] if current else words


def word(text: str, shell: str, home: str) -> str:
    """The argument a program receives for one word."""
    for pattern, rule in WORD_RULES[shell]:
        if re.search(pattern, text):
            raise ShellError(f"{shell}: {rule}: {text}")
    parts = re.split(r'("[^"]*")', text)
    for part in parts:
        if part.startswith('"'):
            check_quoted(part[1:-1], shell)
        elif not set(part) <= PLAIN:
            odd = "".join(sorted(set(part) - PLAIN))
            raise ShellError(f"{shell}: {odd!r} outside double quotes is not plain text: {text}")
    argument = "".join(part[1:-1] if part.startswith('"') else part for part in parts)
    return tilde(argument, home) if shell == BASH and text.startswith("~/") else argument


def check_quoted(text: str, shell: str) -> None:
    expanded = set(text) & EXPANDED_IN_QUOTES[shell]
    if expanded:
        odd = "".join(sorted(expanded))
        raise ShellError(f"{shell} expands {odd!r} inside double quotes: {text}")


# Words whose meaning depends on the shell, beyond the characters PLAIN leaves out.
POWERSHELL_WORD_RULES = [
    # about_Splatting: `@name` passes a variable's contents as arguments.
    (r"^@", "a word starting with `@` is splatting"),
    # about_Parsing: in argument mode a word that starts with `-` is read as a parameter name,
    # and for a native command PowerShell splits it at a `.` (`-Dx.y` reaches the program as
    # `-Dx` and `.y`) or passes `-name:value` differently. Keep such words to letters, digits
    # and dashes.
    # https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_parsing
    (r"^-(?!-?[A-Za-z0-9-]+$)", "a word starting with `-` may hold only letters, digits, `-`"),
]
WORD_RULES: dict[str, list[tuple[str, str]]] = {
    # zsh expands a word starting with `=` to a command's path (zshexpn(1), `=` expansion),
    # and bash and zsh expand `~` only at a word's start (so `a=~/x` differs between them).
    BASH: [(r"^=", "zsh expands a word starting with `=`"), (r".~", "`~` after a word's start")],
    PWSH: POWERSHELL_WORD_RULES,
    POWERSHELL: [
        *POWERSHELL_WORD_RULES,
        # about_Parsing, "Passing empty string arguments": before PowerShell 7.3 an empty
        # string never reaches a native program, so Windows PowerShell 5.1 drops `""`.
        (r'^""$', 'Windows PowerShell 5.1 drops an empty argument (`""`)'),
    ],
    # cmd passes `~` on unchanged; Copier expands a template path that starts with `~` itself
    # (copier's vcs.get_repo), and PowerShell passes it on too, unless its experimental
    # PSNativeWindowsTildeExpansion expands it first (about_Experimental_Features), which
    # comes to the same path.
    CMD: [],
}


@dataclass(frozen=True)
class Block:
    language: str
    lines: tuple[str, ...]


def code_blocks(markdown: str) -> list[Block]:
    """The fenced blocks of a Markdown page, with their language."""
    return [
        Block(language, tuple(line.strip() for line in body.splitlines() if line.strip()))
        for language, body in re.findall(r"^ *```(\w*)\n(.*?)^ *```", markdown, re.M | re.S)
    ]


def terminal_statements(markdown: str, home: str = "~") -> list[tuple[Statement, ...]]:
    """What each line a user pastes from this page into a terminal does, in every shell.

    A `sh` block's lines must read the same in every shell. Blocks for one shell come as a
    set of `bash`, `powershell` and `bat` blocks in a row, whose lines must do the same,
    line by line, in their shells. One entry per line: its statement in each shell."""
    found: list[tuple[Statement, ...]] = []
    blocks = [block for block in code_blocks(markdown) if block.language in TERMINAL]
    while blocks:
        block = blocks.pop(0)
        if block.language == EVERY_SHELL:
            found += [tuple(read_everywhere(line, home).values()) for line in block.lines]
            continue
        group = [block]
        while blocks and blocks[0].language in BLOCK_SHELLS and len(group) < len(BLOCK_SHELLS):
            group.append(blocks.pop(0))
        languages = [member.language for member in group]
        if sorted(languages) != sorted(BLOCK_SHELLS):
            raise ShellError(f"blocks {languages} in a row: give one of each of {BLOCK_SHELLS}")
        found += same_in_each_shell(group, home)
    return found


TERMINAL = {EVERY_SHELL, *BLOCK_SHELLS}


def same_in_each_shell(group: list[Block], home: str) -> list[tuple[Statement, ...]]:
    by_shell = {
        shell: [read(line, shell, home) for line in block.lines]
        for block in group
        for shell in BLOCK_SHELLS[block.language]
    }
    rows = list(zip(*by_shell.values(), strict=False))
    if {len(statements) for statements in by_shell.values()} != {len(rows)} or any(
        len(set(row)) != 1 for row in rows
    ):
        raise ShellError(f"the {list(by_shell)} forms do not do the same: {by_shell}")
    return rows


COMMAND_WORDS = ("uv", "uvx", "git", "keyring", "copier", "cd", "python", "npm", "npx")


def inline_commands(markdown: str) -> list[str]:
    """Code spans in running text that are commands (they start with a command's name),
    with `<placeholder>`s filled in as the reader would."""
    prose = re.sub(r"^ *```.*?^ *```", "", markdown, flags=re.M | re.S)
    spans = re.findall(r"`([^`\n]+)`", prose)
    return [
        filled_in(span) for span in spans if span.split(" ", 1)[0] in COMMAND_WORDS and " " in span
    ]


def filled_in(line: str) -> str:
    """The line as a reader types it, each `<placeholder>` replaced: checked first, since
    outside double quotes a placeholder is a redirection in every shell."""
    for match in re.finditer(r"<[^<>]+>", line):
        if line[: match.start()].count('"') % 2 == 0:
            raise ShellError(f"every shell: {match[0]} outside double quotes redirects: {line}")
    return re.sub(r"<[^<>]+>", "X", line)


def message_commands(output: str) -> list[tuple[str, ...]]:
    """The commands in a message (lines of their own, seven spaces in), as every
    shell passes them to the program."""
    lines = re.findall(r"^ {7}(\S.*)$", output, re.MULTILINE)
    commands = []
    for line in lines:
        statement = read_everywhere(line)[CMD]
        if not isinstance(statement, Run):
            raise ShellError(f"a message line that is not a command: {line}")
        commands.append(statement.argv)
    return commands
