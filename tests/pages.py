"""The repository's pages (README.md, CONTRIBUTING.md, docs/), and what tests read in them:
every command a page gives is run by a test as written (CONTRIBUTING.md has the map)."""

import re
from pathlib import Path

from azure_standins.template_facts import TEMPLATE_ROOT
from tests.shells import EVERY_SHELL, code_blocks

PAGES: list[Path] = [
    TEMPLATE_ROOT / "README.md",
    TEMPLATE_ROOT / "CONTRIBUTING.md",
    *sorted((TEMPLATE_ROOT / "docs").rglob("*.md")),
]
RENDER_PREFIX = "uvx --with jinja2-time --with copier-template-extensions copier "


def page(name: str) -> str:
    """A page's text, by its path from the repository's root."""
    return (TEMPLATE_ROOT / name).read_text(encoding="utf-8")


def commands() -> list[str]:
    """Every line of every page's `sh` blocks, each once, in page order."""
    found: dict[str, None] = {}
    for path in PAGES:
        for block in code_blocks(path.read_text()):
            if block.language == EVERY_SHELL:
                found.update(dict.fromkeys(block.lines))
    return list(found)


def command(containing: str) -> str:
    """The one command of the pages that contains `containing`."""
    (found,) = [line for line in commands() if containing in line]
    return found


def yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", page(name), re.DOTALL)


def troubleshooting_message(printed_by: str, starting: str) -> str:
    """The message of the generated troubleshooting table's row that `printed_by` prints and
    that starts with `starting`: its first quoted text."""
    table = (TEMPLATE_ROOT / "template/docs/troubleshooting.md").read_text()
    for row in table.splitlines():
        cells = row.split(" | ")
        if len(cells) == 4 and cells[1] == printed_by and cells[0].startswith(f"| `{starting}"):
            return re.search(r"`([^`]+)`", cells[0])[1]
    raise AssertionError(f"no row of {printed_by} starting {starting!r}")
