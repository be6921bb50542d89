"""Stand-in commands that record how they were called, for tests of what runs them."""

import sys
from pathlib import Path


def fake_command(path: Path, log: Path, stdout: str = "") -> None:
    """A command that appends its arguments to `log` and prints `stdout`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"print({stdout!r})\n"
    )
    path.chmod(0o755)


def fake_uv(bin_dir: Path, log: Path, *, tool_list: str = "", install_exit: int = 0) -> None:
    """A stand-in `uv` that records its arguments and answers `tool list` and `tool install`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "uv"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        "    log.write(' '.join(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1:3] == ['tool', 'list']:\n"
        f"    print({tool_list!r})\n"
        "    sys.exit(0)\n"
        f"sys.exit({install_exit})\n"
    )
    script.chmod(0o755)


def calls(log: Path) -> list[str]:
    """The argument lines a fake command recorded, in order."""
    return log.read_text().splitlines() if log.exists() else []
