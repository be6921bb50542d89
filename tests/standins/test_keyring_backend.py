"""The keyring backend that answers like artifacts-keyring, through the real `keyring`
command."""

import subprocess

from azure_standins.keyring_backend import keyring_env


def test_keyring_backend_answers_only_for_the_feed_and_vsssessiontoken(
    feed_server, tmp_path, uv_env
):
    feed = feed_server.feed("widgets")
    env = keyring_env(uv_env, feed_server.url, feed.token, tmp_path)
    keyring = str(tmp_path / "keyring-bin" / "keyring")
    index = feed_server.index_url(feed)

    def get(url: str, user: str) -> subprocess.CompletedProcess:
        return subprocess.run([keyring, "get", url, user], env=env, capture_output=True, text=True)

    assert get(index, "VssSessionToken").stdout.strip() == feed.token
    assert get(index, "someone").returncode != 0
    assert get("https://pypi.org/simple/", "VssSessionToken").returncode != 0
