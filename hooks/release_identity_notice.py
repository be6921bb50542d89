"""Tell a publishing project, at the update that brings it, what to set up before its next
release: releases now upload as a release identity behind a service connection.

Usage: release_identity_notice.py ANSWERS_FILE

Runs before every update and speaks only when the answers file predates the
release_connection question (that update fills the answer with its default). It
never fails the update.
"""

import re
import sys
from pathlib import Path


def answer(text: str, key: str) -> str | None:
    found = re.search(rf"^{key}: '?(?P<value>[^'\n]*)'?$", text, re.MULTILINE)
    return found["value"] if found else None


def main(answers_file: Path) -> None:
    text = answers_file.read_text(encoding="utf-8")
    if answer(text, "publish") != "true" or answer(text, "release_connection"):
        return
    connection = f"{answer(text, 'distribution_name')}-publish"
    feed = answer(text, "azure_feed")
    print(
        f"NOTE: releases now upload as a release identity behind the service connection "
        f'"{connection}"; the pipeline\'s own identity only reads {feed}. Before your next '
        f"release: create the identity and the connection, give the identity Feed Publisher "
        f"(Contributor) on {feed}, add Approvals and Branch control (refs/tags/v*) to the "
        f"connection, and lower the build service to Feed and Upstream Reader "
        "(Collaborator). The template's docs/release.md has each step."
    )


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except (IndexError, OSError, UnicodeError) as error:
        print(f"WARNING: could not check the release setup: {error}")
