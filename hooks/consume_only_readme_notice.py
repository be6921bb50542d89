"""Tell a project that has just switched to consume-only that its README still describes
releases: README.md is the team's, so updates never rewrite it.

Usage: consume_only_readme_notice.py ANSWERS_FILE README

Runs after every update, and speaks only when the answers say publish is false and the
README still has the section on releases the publishing variant's first copy wrote ("Releases",
"Publish a release" before 2026-12). It never fails the update.
"""

import re
import sys
from pathlib import Path

SECTIONS = ("## Releases", "## Publish a release")


def main(answers_file: Path, readme: Path) -> None:
    answers = answers_file.read_text(encoding="utf-8")
    if not re.search(r"^publish: false$", answers, re.MULTILINE) or not readme.is_file():
        return
    text = readme.read_text(encoding="utf-8")
    for section in (s for s in SECTIONS if re.search(f"^{s}$", text, re.MULTILINE)):
        print(
            f"NOTE: this project no longer publishes, but README.md (yours: updates never "
            f'change it) still has its "{section[3:]}" section. Remove it, and say how '
            "teams get the package instead, if they do."
        )


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]), Path(sys.argv[2]))
    except (IndexError, OSError, UnicodeError) as error:
        print(f"WARNING: could not check README.md: {error}")
