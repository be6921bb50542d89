"""Azure Pipelines macros `$(Name)` and `condition:` expressions, as an agent evaluates them.

Supported: the functions below, string/number/boolean literals, and `variables['Name']` or
`variables.Name`. Anything else (template expressions `${{ }}`, runtime expressions `$[ ]`,
unknown functions) raises UnsupportedConstruct, so a pipeline the runner cannot judge fails
loudly instead of passing.
"""

import re
from collections.abc import Callable, Mapping

MACRO = re.compile(r"\$\(([A-Za-z0-9_.-]+)\)")
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),\[\].]))"
)


class UnsupportedConstruct(Exception):
    """The pipeline uses something the runner does not implement."""


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
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value != "" and value.lower() != "false"
    return bool(value)


def evaluate(expression: str, variables: Mapping[str, str], status: Mapping[str, bool]) -> bool:
    """Evaluate a condition. `status` answers succeeded/failed/succeededOrFailed/always/canceled."""
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
    parser = _Parser(tokens, variables, status, expression)
    result = parser.expression()
    if parser.peek() != ("end", ""):
        raise UnsupportedConstruct(f"trailing text in condition {expression!r}")
    return _truthy(result)


def _compare(a, b) -> bool:
    return _as_text(a).lower() == _as_text(b).lower()


FUNCTIONS: dict[str, Callable] = {
    "and": lambda *args: all(_truthy(a) for a in args),
    "or": lambda *args: any(_truthy(a) for a in args),
    "not": lambda a: not _truthy(a),
    "eq": _compare,
    "ne": lambda a, b: not _compare(a, b),
    "startswith": lambda a, b: _as_text(a).lower().startswith(_as_text(b).lower()),
    "endswith": lambda a, b: _as_text(a).lower().endswith(_as_text(b).lower()),
    "contains": lambda a, b: _as_text(b).lower() in _as_text(a).lower(),
    "in": lambda a, *options: any(_compare(a, option) for option in options),
}
STATUS_FUNCTIONS = {"succeeded", "failed", "succeededorfailed", "always", "canceled"}


class _Parser:
    def __init__(self, tokens, variables, status, source):
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
        return FUNCTIONS[lowered](*args)

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
        return lookup(self.variables, name) or ""
