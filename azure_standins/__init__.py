"""Stand-ins for the parts of Azure DevOps the template's projects meet, run on this machine.

- feed_emulator: an Azure Artifacts feed (PyPI endpoints, blob store, upstream source);
  `python -m azure_standins.feed_emulator` serves one by hand.
- pipeline: runs a rendered azure-pipelines.yml as Azure Pipelines and its agent would.
- keyring_backend: a keyring backend that answers the way artifacts-keyring does.
- wheelhouse, uv_environment, git_repo: what the tests and the benchmark share to drive
  them: packages fetched from PyPI once, an isolated environment for real uv, git.
- template_facts: the template's own facts (pinned uv, choices, example answers).

BEHAVIOURS.md lists every Azure behaviour reproduced here, its public source, and the test
that pins it.
"""

# Seconds any command the stand-ins, the tests or the benchmark run may take: a hang fails
# instead of holding CI for its whole time.
COMMAND_TIMEOUT = 600
