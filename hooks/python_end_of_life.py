"""Move a project off a Python past its end of life, before `copier update` reads its answers.

Usage: python_end_of_life.py ANSWERS_FILE

The template offers only CPython releases that still get fixes. A project that chose one
since retired would otherwise get Copier's silent fallback to the question's default. This
migration rewrites the answer to the oldest release still supported, the smallest step, and
says so; `copier update --trust --defaults --data python_version=X.Y` chooses another.
Idempotent, and it never fails the update: a problem is reported and the update goes on.
"""

import re
import sys
from pathlib import Path

# Retired release -> the oldest one still supported.
RETIRED = {"3.8": "3.11", "3.9": "3.11", "3.10": "3.11"}
ANSWER = re.compile(r"^python_version: '?(?P<version>[0-9.]+)'?$", re.MULTILINE)


def main(answers_file: Path) -> None:
    text = answers_file.read_text(encoding="utf-8")
    found = ANSWER.search(text)
    if not found or found["version"] not in RETIRED:
        return
    old, new = found["version"], RETIRED[found["version"]]
    answers_file.write_text(
        text[: found.start()] + f"python_version: '{new}'" + text[found.end() :],
        encoding="utf-8",
    )
    print(
        f"NOTE: Python {old} has reached its end of life: this update moves the project to "
        f"{new} (requires-python, .python-version and the Pythons the pipeline tests "
        "follow). To choose "
        "another: uvx --with jinja2-time --with copier-template-extensions copier update "
        "--trust --defaults --data python_version=X.Y"
    )


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except (IndexError, OSError, UnicodeError) as error:
        print(f"WARNING: could not check python_version for end of life: {error}")
