"""Stand-in commands that record how they were called, for tests of what runs them."""

import sys
from pathlib import Path

# What a project tells a developer on Azure DevOps Services to install keyring with.
SERVICES_KEYRING_INSTALL = (
    'uv tool install --python ">=3.9,<3.14" keyring --with artifacts-keyring '
    "--no-build-package artifacts-keyring"
)


def executable(path: Path, text: str) -> None:
    """A command file at `path` (its folder made if need be) holding `text`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def fake_command(path: Path, log: Path, stdout: str = "") -> None:
    """A command that appends its arguments to `log` and prints `stdout`."""
    executable(
        path,
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"print({stdout!r})\n",
    )


ARTIFACTS_BACKEND = "artifacts_keyring.ArtifactsKeyringBackend (priority: 9.9)"


def fake_uv(
    bin_dir: Path,
    log: Path,
    *,
    tool_bin: Path,
    installed: str = "",
    install_exit: int = 0,
    backends: str = ARTIFACTS_BACKEND,
) -> None:
    """A stand-in `uv` that records its arguments. It answers `tool list` with `installed`,
    `tool dir --bin` with `tool_bin`, and `tool install` by exiting with `install_exit`
    and, on success, putting in `tool_bin` a `keyring` that lists `backends`."""
    keyring = tool_bin / "keyring"
    keyring_script = f"#!/bin/sh\necho '{backends}'\n"
    executable(
        bin_dir / "uv",
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "command = sys.argv[1:3]\n"
        "if command == ['tool', 'list']:\n"
        f"    print({installed!r})\n"
        "elif command == ['tool', 'dir']:\n"
        f"    print({str(tool_bin)!r})\n"
        f"elif command == ['tool', 'install'] and {install_exit} == 0:\n"
        f"    os.makedirs({str(tool_bin)!r}, exist_ok=True)\n"
        f"    open({str(keyring)!r}, 'w').write({keyring_script!r})\n"
        f"    os.chmod({str(keyring)!r}, 0o755)\n"
        f"sys.exit({install_exit} if command == ['tool', 'install'] else 0)\n",
    )


def calls(log: Path) -> list[str]:
    """The argument lines a fake command recorded, in order."""
    return log.read_text().splitlines() if log.exists() else []
