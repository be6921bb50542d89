"""Tell a publishing project, at the update that brings it, what to set up before its next
release: releases now go from main, in a pipeline of their own (.azure-pipelines/release.yml),
as a release identity behind a service connection.

Usage: release_identity_notice.py ANSWERS_FILE

Runs before every update, in the project, and speaks only for a publishing project that
releases the old way: from tags (it has .azure-pipelines/check_release_tag.py), or without a
release identity (its answers predate release_connection). It never fails the update.
"""

import re
import sys
from pathlib import Path


def answer(text: str, key: str) -> str | None:
    found = re.search(rf"^{key}: '?(?P<value>[^'\n]*)'?$", text, re.MULTILINE)
    return found["value"] if found else None


def main(answers_file: Path) -> None:
    text = answers_file.read_text(encoding="utf-8")
    tags = (answers_file.parent / ".azure-pipelines/check_release_tag.py").is_file()
    if answer(text, "publish") != "true" or (answer(text, "release_connection") and not tags):
        return
    connection = (
        answer(text, "release_connection") or f"{answer(text, 'distribution_name')}-publish"
    )
    feed = answer(text, "azure_feed")
    print(
        "NOTE: releases now go from main, not from tags: a pipeline of its own "
        "(.azure-pipelines/release.yml) publishes each new version merged to main, as a "
        f'release identity behind the service connection "{connection}"; the build '
        f"pipeline's identity only reads {feed}. Before your next release: create that "
        "pipeline, the identity and the connection, give the identity Feed Publisher "
        f"(Contributor) on {feed}, add Approvals and Branch control (refs/heads/main, Verify "
        "branch protection) to the connection and the environment, and lower the build "
        "service to Feed and Upstream Reader (Collaborator). Pushed tags publish nothing any "
        "more. The template's docs/release.md has each step."
    )


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except (IndexError, OSError, UnicodeError) as error:
        print(f"WARNING: could not check the release setup: {error}")
