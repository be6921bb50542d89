"""A keyring backend that answers the way artifacts-keyring does, for the feed emulator.

artifacts-keyring only acts for Azure's own hosts, so it cannot be pointed at 127.0.0.1.
This backend behaves the same from uv's side: it gives the feed's token for URLs of the
emulator's feeds, and only for the user name VssSessionToken; for anything else it has no
password. uv reaches it through the real `keyring` command:

    PYTHON_KEYRING_BACKEND=tests.keyring_backend.EmulatedArtifactsKeyring keyring get URL USER

Settings come from the environment: EMULATED_KEYRING_HOST (the emulator's URL),
EMULATED_KEYRING_TOKEN (the password to give) and, optionally, EMULATED_KEYRING_LOG (a file
that records each question, without the answer).
"""

import os

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
