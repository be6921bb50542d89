"""Azure Pipelines macros `$(Name)` and `condition:` expressions, as an agent evaluates them.

Supported: the functions below, string/number/boolean literals, `variables['Name']` or
`variables.Name`, and, in a stage's condition, `dependencies.<Stage>.result` and
`dependencies.<Stage>.outputs['<Job>.<step>.<NAME>']` (the output variables of the stages it
depends on: Microsoft Learn, "Define variables", use outputs in a different stage). Anything
else (template expressions `${{ }}`, runtime expressions `$[ ]`, unknown functions) raises
UnsupportedConstruct, so a pipeline the runner cannot judge fails loudly instead of passing.
"""

import re
from collections.abc import Callable, Mapping

from azure_standins.rules import applies

MACRO = re.compile(r"\$\(([A-Za-z0-9_.-]+)\)")
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),\[\].]))"
)


class UnsupportedConstruct(Exception):
    """The pipeline uses something the runner does not implement."""


class InvalidExpression(Exception):
    """An expression Azure refuses when it reads the pipeline (a function given too few or
    too many parameters): the run never starts."""


def lookup(variables: Mapping[str, str], name: str) -> str | None:
    """Variable names are case-insensitive on Azure."""
    wanted = name.lower()
    return next((value for key, value in variables.items() if key.lower() == wanted), None)


def expand_macros(text: str, variables: Mapping[str, str]) -> str:
    """Replace `$(Name)`; like Azure, leave an undefined macro as it is."""
    if "${{" in text or "$[" in text:
        raise UnsupportedConstruct(f"template or runtime expression in {text!r}")

    def replace(match: re.Match) -> str:
        value = lookup(variables, match[1])
        return match[0] if value is None else value

    return MACRO.sub(replace, text)


def _as_text(value) -> str:
    """Azure's cast to String: null is '', booleans 'true' and 'false', numbers without
    a decimal point when they have no fraction."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _truthy(value) -> bool:
    """Azure's cast to Boolean: null, false, 0 and the empty string are false; any other
    string is true, 'false' included (the expressions page, "Type casting")."""
    if value is None:
        return False
    if isinstance(value, str):
        return value != "" and (applies("expressions.casts") or value.lower() != "false")
    return bool(value)


def evaluate(
    expression: str,
    variables: Mapping[str, str],
    status: Mapping[str, bool],
    dependencies: Mapping[str, dict] | None = None,
) -> bool:
    """Evaluate a condition. `status` answers succeeded/failed/succeededOrFailed/always/canceled;
    `dependencies` (a stage's condition only) holds, by stage name, each dependency's `result`
    and `outputs`."""
    tokens = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnsupportedConstruct(f"cannot read condition {expression!r} at {position}")
        kind = match.lastgroup
        tokens.append((kind, match[kind]))
        position = match.end()
    tokens.append(("end", ""))
    parser = _Parser(tokens, variables, status, expression, dependencies)
    result = parser.expression()
    if parser.peek() != ("end", ""):
        raise UnsupportedConstruct(f"trailing text in condition {expression!r}")
    return _truthy(result)


def _compare(a, b) -> bool:
    """eq: the right parameter is converted to the left one's type; a failed conversion
    compares unequal; strings compare ignoring case."""
    if isinstance(a, bool):
        return a == _truthy(b)
    if isinstance(a, float):
        try:
            return a == (float(b) if not isinstance(b, str) else float(b.strip() or 0))
        except ValueError:
            return False
    if not applies("expressions.ignore-case"):
        return _as_text(a) == _as_text(b)
    return _as_text(a).lower() == _as_text(b).lower()


# name: (function, fewest parameters, most parameters or None for any number), as the
# expressions page lists them.
FUNCTIONS: dict[str, tuple[Callable, int, int | None]] = {
    "and": (lambda *args: all(_truthy(a) for a in args), 2, None),
    "or": (lambda *args: any(_truthy(a) for a in args), 2, None),
    "not": (lambda a: not _truthy(a), 1, 1),
    "eq": (_compare, 2, 2),
    "ne": (lambda a, b: not _compare(a, b), 2, 2),
    "startswith": (lambda a, b: _as_text(a).lower().startswith(_as_text(b).lower()), 2, 2),
    "endswith": (lambda a, b: _as_text(a).lower().endswith(_as_text(b).lower()), 2, 2),
    "contains": (lambda a, b: _as_text(b).lower() in _as_text(a).lower(), 2, 2),
    "in": (lambda a, *options: any(_compare(a, option) for option in options), 1, None),
}
STATUS_FUNCTIONS = {"succeeded", "failed", "succeededorfailed", "always", "canceled"}


class _Parser:
    def __init__(self, tokens, variables, status, source, dependencies=None):
        self.dependencies = dependencies
        self.tokens = tokens
        self.index = 0
        self.variables = variables
        self.status = status
        self.source = source

    def peek(self):
        return self.tokens[self.index]

    def take(self, kind=None, value=None):
        token = self.tokens[self.index]
        if (kind and token[0] != kind) or (value and token[1] != value):
            raise UnsupportedConstruct(f"unexpected {token[1]!r} in condition {self.source!r}")
        self.index += 1
        return token

    def expression(self):
        kind, value = self.take()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "number":
            return float(value)
        if kind != "name":
            raise UnsupportedConstruct(f"unexpected {value!r} in condition {self.source!r}")
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "variables":
            return self.variable()
        if lowered == "dependencies" and self.dependencies is not None:
            return self.dependency()
        self.take("punct", "(")
        args = []
        if self.peek() != ("punct", ")"):
            args.append(self.expression())
            while self.peek() == ("punct", ","):
                self.take()
                args.append(self.expression())
        self.take("punct", ")")
        if lowered in STATUS_FUNCTIONS:
            if args:
                raise UnsupportedConstruct(f"{value}() with job names in {self.source!r}")
            return self.status[lowered]
        if lowered not in FUNCTIONS:
            raise UnsupportedConstruct(f"function {value}() in condition {self.source!r}")
        function, fewest, most = FUNCTIONS[lowered]
        counted = len(args) >= fewest and (most is None or len(args) <= most)
        if not counted and applies("expressions.parameter-counts"):
            allowed = f"{fewest} or more" if most is None else f"{fewest} to {most}"
            raise InvalidExpression(
                f"{value}() takes {allowed} parameters, not {len(args)}: {self.source!r}"
            )
        return function(*args)

    def dependency(self):
        """`dependencies.<Stage>.result` or `dependencies.<Stage>.outputs['<key>']`: a stage
        the condition's stage does not depend on is null, as is an output it never set."""
        self.take("punct", ".")
        stage = self.dependencies.get(self.take("name")[1]) or {}
        self.take("punct", ".")
        part = self.take("name")[1]
        if part == "result":
            return stage.get("result")
        if part != "outputs":
            raise UnsupportedConstruct(f"dependencies ... {part} in {self.source!r}")
        self.take("punct", "[")
        key = self.take("string")[1][1:-1]
        self.take("punct", "]")
        return lookup(stage.get("outputs") or {}, key)

    def variable(self):
        if self.peek() == ("punct", "["):
            self.take()
            name = self.take("string")[1][1:-1]
            self.take("punct", "]")
        else:
            self.take("punct", ".")
            parts = [self.take("name")[1]]
            while self.peek() == ("punct", "."):
                self.take()
                parts.append(self.take("name")[1])
            name = ".".join(parts)
        # A dictionary miss is null, which casts to false and to ''.
        return lookup(self.variables, name)
