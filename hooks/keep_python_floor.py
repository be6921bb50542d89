"""Keep a library's floor through the update that brings the python_floor question.

Usage: keep_python_floor.py ANSWERS_FILE

Before python_floor, python_version set both `.python-version` and requires-python. A project
made then, a library (project_kind came with python_floor), has neither answer, and the
question's default (the oldest supported Python) would lower its requires-python. This
migration answers python_floor with python_version, so the update changes neither file.
Idempotent, and it never fails the update.
"""

import re
import sys
from pathlib import Path

VERSION = re.compile(r"^python_version: (?P<version>'?[0-9.]+'?)$", re.MULTILINE)
SINCE = re.compile(r"^(python_floor|project_kind):", re.MULTILINE)


def main(answers_file: Path) -> None:
    text = answers_file.read_text(encoding="utf-8")
    found = VERSION.search(text)
    if found is None or SINCE.search(text):
        return
    answers_file.write_text(
        f"{text.rstrip()}\npython_floor: {found['version']}\n", encoding="utf-8"
    )


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except (IndexError, OSError, UnicodeError) as error:
        print(f"WARNING: could not keep python_floor: {error}")
