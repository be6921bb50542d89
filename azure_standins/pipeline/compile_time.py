"""Template expressions, expanded when Azure compiles a pipeline for a run, before any job.

Two kinds are implemented:

- a steps template's parameters: `${{ parameters.NAME }}` in its text becomes the value the
  including step gives, or the parameter's default (Microsoft Learn, "Template parameters");
- conditional insertion: a list item or mapping key `${{ if <condition> }}:` whose value is
  kept when the condition holds and dropped otherwise, and a `${{ else }}:` right after it
  (Microsoft Learn, "Template expressions", conditional insertion). The condition sees the
  pipeline's own variables and the predefined variables "available in templates"
  (Build.SourceBranch, Build.Reason, ...), never a job's status.

Any other `${{ }}` is an UnsupportedConstruct.

Because this runs first, whatever a false `${{ if }}` drops never reaches Azure's check of the
run's resources: a service connection named only inside it need not exist.
"""

import re
from collections.abc import Callable, Mapping

import yaml

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


PARAMETER = re.compile(r"\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
PARAMETER_TYPES = {"string", "boolean", "number"}


def template_steps(step: dict, read: Callable[[str], str]) -> list[dict]:
    """The steps a `- template:` step includes, its parameters in place; `read` gives the
    text of a repository file by its path."""
    if set(step) - {"template", "parameters"}:
        raise UnsupportedConstruct(f"template {sorted(step)}")
    included = yaml.safe_load(read(step["template"])) or {}
    if set(included) - {"parameters"} != {"steps"}:
        raise UnsupportedConstruct(f"template {step['template']}: {sorted(included)}")
    steps = included["steps"] or []
    if not applies("runner.template-parameters"):
        return steps
    values = template_parameters(included.get("parameters"), step.get("parameters") or {})
    return insert_parameters(steps, values)


def template_parameters(declared: list | None, given: dict) -> dict:
    """A steps template's parameter values: what the including step gives, else the
    declared default. Azure refuses a parameter the template does not declare, and a
    declared one without a value or default, before the run starts."""
    declared = declared or []
    if not all(isinstance(p, dict) and "name" in p for p in declared):
        raise UnsupportedConstruct(f"template parameters {declared!r}")
    names = {p["name"]: p for p in declared}
    unknown = set(given) - set(names)
    if unknown:
        raise InvalidExpression(f"Unexpected parameter {sorted(unknown)[0]!r}")
    values = {}
    for name, parameter in names.items():
        if parameter.get("type", "string") not in PARAMETER_TYPES:
            raise UnsupportedConstruct(f"parameter type {parameter.get('type')!r}")
        if name not in given and "default" not in parameter:
            raise InvalidExpression(f"A value for the '{name}' parameter must be provided.")
        values[name] = given.get(name, parameter.get("default"))
    return values


def insert_parameters(node, values: dict):
    """`node` with each `${{ parameters.NAME }}` replaced by its value."""
    if isinstance(node, list):
        return [insert_parameters(item, values) for item in node]
    if isinstance(node, dict):
        return {insert_parameters(k, values): insert_parameters(v, values) for k, v in node.items()}
    if isinstance(node, str):

        def value(match: re.Match) -> str:
            if match[1] not in values:
                raise InvalidExpression(f"Unrecognized value: 'parameters.{match[1]}'")
            return str(values[match[1]])

        return PARAMETER.sub(value, node)
    return node
