"""Is a pipeline `script:` one command line that bash and cmd run the same way?

On Linux and macOS agents `script:` runs in bash, on Windows in cmd. Azure replaces
`$(Name)` macros before either shell sees the line, so those are fine; everything
else below means something different (or nothing) in one of the two shells.
"""

import re

from azure_standins.rules import applies

MACRO = re.compile(r"\$\([A-Za-z0-9_.-]+\)")
RULES = [
    (re.compile(r"\$"), "uses a shell variable or substitution ($): cmd reads it literally"),
    (re.compile(r"%[A-Za-z_]+%"), "uses a cmd variable (%VAR%): bash reads it literally"),
    (re.compile(r"^\s*export\s"), "uses export, which cmd does not have"),
    (re.compile(r"'"), "uses single quotes, which cmd does not treat as quotes"),
    (re.compile(r"[*?]"), "uses a glob, which bash expands and cmd does not"),
    (re.compile(r";"), "chains with ';', which cmd does not"),
    (re.compile(r"`"), "uses backticks, which cmd does not"),
    (re.compile(r"\\$"), "continues a line with '\\', which cmd does not"),
]


def cmd_problems(script: str) -> list[str]:
    """Reasons the script would not behave the same in bash and cmd (empty if portable)."""
    if not applies("runner.cmd-scripts"):
        return []
    lines = script.strip().splitlines()
    if len(lines) != 1:
        return [f"has {len(lines)} lines: cmd runs only the first reliably; use one line"]
    line = MACRO.sub("MACRO", lines[0])
    return [reason for pattern, reason in RULES if pattern.search(line)]
