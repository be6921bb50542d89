"""What a test says about a command it ran."""

import subprocess


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """`result`, after checking it succeeded; its command and output if not."""
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def passed_where_it_ran(run, not_run: list[str]) -> None:
    """Every job that ran here passed, and the run names exactly `not_run` as the legs it
    could not run (so it is incomplete, never "succeeded", when there are any)."""
    assert run.status == ("incomplete" if not_run else "succeeded"), run.log
    assert sorted(run.not_run) == sorted(not_run), run.log
