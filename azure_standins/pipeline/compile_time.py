"""Template expressions, expanded when Azure compiles a pipeline for a run, before any job.

Only conditional insertion is implemented: a list item or mapping key `${{ if <condition> }}:`
whose value is kept when the condition holds and dropped otherwise, and a `${{ else }}:` right
after it (Microsoft Learn, "Template expressions", conditional insertion). The condition
sees the pipeline's own variables and the predefined variables "available in templates"
(Build.SourceBranch, Build.Reason, ...), never a job's status. Any other `${{ }}` is an
UnsupportedConstruct.

Because this runs first, whatever a false `${{ if }}` drops never reaches Azure's check of the
run's resources: a service connection named only inside it need not exist.
"""

import re
from collections.abc import Mapping

from azure_standins.pipeline.expressions import InvalidExpression, UnsupportedConstruct, evaluate
from azure_standins.rules import applies

CONDITIONAL = re.compile(r"^\$\{\{\s*if\s+(.*?)\s*\}\}$")


class _NoStatus(Mapping):
    """Job status functions do not exist at compile time."""

    def __getitem__(self, name):
        raise InvalidExpression(f"{name}() is not available in template expressions")

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


def _holds(key: str, variables: Mapping[str, str], previous: bool | None) -> bool:
    """Whether an `${{ if }}` or `${{ else }}` key keeps its block; `previous` is whether
    the `${{ if }}` just before held (None when there is none)."""
    if re.fullmatch(r"\$\{\{\s*else\s*\}\}", key):
        if previous is None:
            raise UnsupportedConstruct(f"{key!r} without an `${{{{ if }}}}` before it")
        return not previous or not applies("runner.compile-time")
    match = CONDITIONAL.match(key)
    if match is None:
        raise UnsupportedConstruct(f"template expression {key!r}")
    # Without the rule, a careless double keeps every conditional block.
    return evaluate(match[1], variables, _NoStatus()) or not applies("runner.compile-time")


def _is_expression(key) -> bool:
    return str(key).startswith("${{")


def declared_variables(pipeline: dict) -> dict:
    """The variables a pipeline declares outside any `${{ }}` block: what its own
    conditions can see while it is compiled."""
    declared = pipeline.get("variables") or {}
    return {key: value for key, value in declared.items() if not _is_expression(key)}


def compile_pipeline(node, variables: Mapping[str, str]):
    """The pipeline as Azure runs it: every `${{ if }}` and `${{ else }}` resolved."""
    if isinstance(node, list):
        items, previous = [], None
        for item in node:
            if isinstance(item, dict) and len(item) == 1 and _is_expression(next(iter(item))):
                key, inserted = next(iter(item.items()))
                held = _holds(key, variables, previous)
                previous = None if "else" in key else held
                if held:
                    items.extend(compile_pipeline(inserted or [], variables))
            else:
                items.append(compile_pipeline(item, variables))
                previous = None
        return items
    if isinstance(node, dict):
        mapping, previous = {}, None
        for key, value in node.items():
            if _is_expression(key):
                held = _holds(key, variables, previous)
                previous = None if "else" in key else held
                if held:
                    mapping.update(compile_pipeline(value or {}, variables))
            else:
                mapping[key] = compile_pipeline(value, variables)
                previous = None
        return mapping
    if isinstance(node, str) and "${{" in node:
        raise UnsupportedConstruct(f"template expression in {node!r}")
    return node
