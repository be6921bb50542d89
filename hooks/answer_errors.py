"""Report a rejected answer as one clear line instead of a Python traceback.

Interactively, Copier shows a validator's message and asks again. With --data or
--defaults it raises a ValueError instead, which its command line prints with a full
traceback. Loaded through `_jinja_extensions`, this replaces the traceback of those
errors (and only those) with their message. Nothing has been written at that point:
Copier validates every answer before it renders a file.
"""

import sys
from types import TracebackType

from jinja2 import Environment
from jinja2.ext import Extension

# The ways Copier words a rejected answer (copier/_main.py and _user_data.py).
ANSWER_ERROR_PREFIXES = ("Validation error for question", "Invalid choice for", "Question ")


def is_answer_error(kind: type[BaseException], error: BaseException) -> bool:
    return issubclass(kind, ValueError) and str(error).startswith(ANSWER_ERROR_PREFIXES)


class AnswerErrorsWithoutTraceback(Extension):
    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        previous_hook = sys.excepthook
        if getattr(previous_hook, "reports_answer_errors", False):
            return  # Copier builds several environments in one run

        def report(
            kind: type[BaseException], error: BaseException, tb: TracebackType | None
        ) -> None:
            if not is_answer_error(kind, error):
                previous_hook(kind, error, tb)
                return
            hint = ""
            if str(error).endswith("is required"):
                hint = "\nPass it with --data NAME=VALUE, or run without --defaults to be asked."
            print(f"Error: {error}{hint}\nNothing was written.", file=sys.stderr)

        report.reports_answer_errors = True  # type: ignore[attr-defined]
        sys.excepthook = report
