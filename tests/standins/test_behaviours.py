"""azure_standins/BEHAVIOURS.md stays true: each rule names a public source and tests that
exist, and nothing in the project cites a file outside the repository."""

import ast
import re

from azure_standins.template_facts import TEMPLATE_ROOT

DOCUMENT = TEMPLATE_ROOT / "azure_standins/BEHAVIOURS.md"
TEST_REFERENCE = re.compile(r"`((?:std|tests)/[\w/]+\.py)::(\w+)`")
SOURCE = re.compile(r"https://\S+|\b(?:uv|[\w-]+/[\w-]+) issues? \d+")


def rows() -> list[list[str]]:
    """The cells of every behaviour row of the document's tables."""
    lines = DOCUMENT.read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| behaviour")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]


def functions_in(path: str) -> set[str]:
    tree = ast.parse((TEMPLATE_ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_behaviour_has_a_public_source_and_existing_tests():
    found = rows()
    assert len(found) > 20
    for behaviour, source, pinned_by in found:
        if "runner's own rule" not in source:
            assert SOURCE.search(source), f"no public source for: {behaviour}"
        references = TEST_REFERENCE.findall(pinned_by)
        assert references, f"no test pins: {behaviour}"
        for path, name in references:
            path = path.replace("std/", "tests/standins/", 1)
            assert name in functions_in(path), f"{path}::{name} does not exist"


def test_nothing_cites_a_file_outside_the_repository():
    files = [
        path
        for folder in ("azure_standins", "tests", "benchmarks", "hooks", "template")
        for path in (TEMPLATE_ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in {".py", ".md", ".jinja", ".yml"}
    ]
    files += [TEMPLATE_ROOT / "README.md", TEMPLATE_ROOT / "copier.yml"]
    citing = [str(p) for p in files if "FACTS" + ".md" in p.read_text(encoding="utf-8")]
    assert citing == []
