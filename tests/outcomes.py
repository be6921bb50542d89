"""What a test says about a command it ran."""

import subprocess


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """`result`, after checking it succeeded; its command and output if not."""
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result
