"""Move a project off a Python past its end of life, before `copier update` reads its answers.

Usage: python_end_of_life.py ANSWERS_FILE

The template offers only CPython releases that still get fixes. A project that chose one
since retired would otherwise get Copier's silent fallback to the question's default. This
migration rewrites the answer to the oldest release still supported, the smallest step, and
says so; `copier update --trust --defaults --data python_version=X.Y` (or python_floor, a
library's oldest Python) chooses another.
Idempotent, and it never fails the update: a problem is reported and the update goes on.
"""

import re
import sys
from pathlib import Path

# Retired release -> the oldest one still supported.
RETIRED = {"3.8": "3.11", "3.9": "3.11", "3.10": "3.11"}
# The developers' Python, and a library's floor (requires-python).
ANSWER = re.compile(
    r"^(?P<key>python_version|python_floor): '?(?P<version>[0-9.]+)'?$", re.MULTILINE
)


def main(answers_file: Path) -> None:
    text = answers_file.read_text(encoding="utf-8")
    retired = [found for found in ANSWER.finditer(text) if found["version"] in RETIRED]
    for found in reversed(retired):  # from the end, so that earlier offsets hold
        key, old, new = found["key"], found["version"], RETIRED[found["version"]]
        text = text[: found.start()] + f"{key}: '{new}'" + text[found.end() :]
        print(
            f"NOTE: Python {old} has reached its end of life: this update moves {key} to "
            f"{new} (requires-python, .python-version and the Pythons the pipeline tests "
            "follow). To choose another: uvx --with jinja2-time --with "
            "copier-template-extensions copier update --trust --defaults --data "
            f"{key}=X.Y"
        )
    if retired:
        answers_file.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except (IndexError, OSError, UnicodeError) as error:
        print(f"WARNING: could not check python_version for end of life: {error}")
