"""azure_standins/BEHAVIOURS.md stays true: each rule names a public source and tests that
exist, every rule the stand-ins can switch off has its row, and each test a row pins the rule
with fails, in its call phase, when the rule is switched off, so that no test claims a rule it
does not exercise. A test marked "(control)" only exercises the rule and is not run here.
"""

import ast
import re

import pytest

from azure_standins.template_facts import TEMPLATE_ROOT

DOCUMENT = TEMPLATE_ROOT / "azure_standins/BEHAVIOURS.md"
TEST_REFERENCE = re.compile(r"`((?:std|tests)/[\w/]+\.py)::(\w+)`( \(control\))?")
SOURCE = re.compile(r"https://\S+|\b(?:uv|[\w-]+/[\w-]+) issues? \d+")
RULE = re.compile(r"`([a-z0-9-]+\.[a-z0-9-]+)`")
SWITCH = re.compile(r"""applies\(\s*"([a-z0-9-]+\.[a-z0-9-]+)"\s*\)""")


def rows() -> list[list[str]]:
    """The cells of every behaviour row of the document's tables: rule, behaviour, source,
    tests."""
    lines = DOCUMENT.read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("| ") and not line.startswith("| rule")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in table]


def row_tests(pinned_by: str, controls: bool = True) -> list[str]:
    """The row's tests as pytest node ids (without its controls, unless asked)."""
    return [
        f"{path.replace('std/', 'tests/standins/', 1)}::{name}"
        for path, name, control in TEST_REFERENCE.findall(pinned_by)
        if controls or not control
    ]


def functions_in(path: str) -> set[str]:
    tree = ast.parse((TEMPLATE_ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_behaviour_has_a_public_source_and_existing_tests():
    found = rows()
    assert len(found) > 30
    for rule, behaviour, source, pinned_by in found:
        assert RULE.findall(rule), f"no rule name for: {behaviour}"
        if "runner's own rule" not in source:
            assert SOURCE.search(source), f"no public source for: {behaviour}"
        assert row_tests(pinned_by), f"no test pins: {behaviour}"
        for node in row_tests(pinned_by):
            path, name = node.split("::")
            assert name in functions_in(path), f"{node} does not exist"


def test_every_rule_the_stand_ins_can_switch_off_has_one_row():
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (TEMPLATE_ROOT / "azure_standins").rglob("*.py")
    )
    switches = set(SWITCH.findall(code))
    documented = [rule for row in rows() for rule in RULE.findall(row[0])]
    assert sorted(documented) == sorted(set(documented)), "a rule has two rows"
    assert set(documented) == switches


MUTANTS = [
    pytest.param(rule, row_tests(row[3], controls=False), id=rule)
    for row in rows()
    for rule in RULE.findall(row[0])
]


@pytest.mark.parametrize(("rule", "tests"), MUTANTS)
def test_each_test_of_a_row_fails_without_its_rule(rule, tests, pytester, monkeypatch):
    """Switch the rule off and run every test the row pins it with, in this process
    (pytester: no interpreter start-up per row): each must fail in its call phase; a
    collection or setup error, or a skip, proves nothing."""
    assert tests, f"{rule}: a row needs at least one test that is not a control"
    monkeypatch.setenv("AZURE_STANDINS_WITHOUT", rule)
    monkeypatch.chdir(TEMPLATE_ROOT)
    result = pytester.inline_run(
        "-p", "no:cacheprovider", "-p", "no:timeout", "-q", "-n", "0",
        "--rootdir", str(TEMPLATE_ROOT), "-o", "addopts=",
        *(str(TEMPLATE_ROOT / node.split("::")[0]) + "::" + node.split("::")[1] for node in tests),
    )  # fmt: skip
    failed_calls = {
        report.nodeid.split("[")[0]
        for report in result.getreports("pytest_runtest_logreport")
        if report.when == "call" and report.failed
    }
    not_failed = [node for node in tests if node not in failed_calls]
    assert not not_failed, f"with {rule} switched off, these still pass or cannot run: {not_failed}"


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
