"""A keyring backend that answers the way artifacts-keyring does, for the feed emulator.

artifacts-keyring only acts for Azure's own hosts, so it cannot be pointed at 127.0.0.1.
This backend behaves the same from uv's side: it gives the feed's token for URLs of the
emulator's feeds, and only for the user name VssSessionToken; for anything else it has no
password. uv reaches it through the real `keyring` command:

    PYTHON_KEYRING_BACKEND=azure_standins.keyring_backend.EmulatedArtifactsKeyring \
        keyring get URL USER

Settings come from the environment: EMULATED_KEYRING_HOST (the emulator's URL),
EMULATED_KEYRING_TOKEN (the password to give) and, optionally, EMULATED_KEYRING_LOG (a file
that records each question, without the answer).
"""

import os
import sys
from pathlib import Path

from keyring.backend import KeyringBackend

USERNAME = "VssSessionToken"


class EmulatedArtifactsKeyring(KeyringBackend):
    priority = 9.9

    def get_password(self, service: str, username: str) -> str | None:
        log = os.environ.get("EMULATED_KEYRING_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as file:
                file.write(f"{service} {username}\n")
        host = os.environ["EMULATED_KEYRING_HOST"]
        if username != USERNAME or not service.startswith(host + "/"):
            return None
        if "/_packaging/" not in service:
            return None
        return os.environ["EMULATED_KEYRING_TOKEN"]

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("artifacts-keyring stores nothing")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError("artifacts-keyring stores nothing")


def keyring_env(env: dict[str, str], feed_url: str, token: str, work: Path) -> dict[str, str]:
    """`env` with the developer route: a real `keyring` command first on PATH (in
    work/keyring-bin) that uses this backend; each question is logged to work/keyring.log."""
    bin_dir = work / "keyring-bin"
    bin_dir.mkdir()
    (bin_dir / "keyring").symlink_to(Path(sys.prefix) / "bin" / "keyring")
    return {
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "PYTHON_KEYRING_BACKEND": f"{__name__}.{EmulatedArtifactsKeyring.__name__}",
        "EMULATED_KEYRING_HOST": feed_url,
        "EMULATED_KEYRING_TOKEN": token,
        "EMULATED_KEYRING_LOG": str(work / "keyring.log"),
    }
