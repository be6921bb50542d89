"""Stand-ins for the parts of Azure DevOps the template's projects meet, run on this machine.

- feed_emulator: an Azure Artifacts feed (PyPI endpoints, blob store, upstream source,
  roles per identity); `python -m azure_standins.feed_emulator` serves one by hand.
- azure_hosts: the emulator served as Azure's own hosts over TLS, through a local proxy.
- build_api, devops_api: Azure DevOps' REST API, for a release's run records and leases, and
  for a team's set-up (scripts/set_up_team.py).
- pipeline: runs a rendered azure-pipelines.yml as Azure Pipelines and its agent would, for
  the host (Services or a server) the project was rendered for.
- keyring_tools, renovate_tool: Microsoft's and Renovate's real components, installed offline.
- rules: every stand-in rule by name, so that a test can switch one off.
- wheelhouse (with pins/), uv_environment, git_repo: what the tests and the benchmarks share:
  packages fetched from PyPI once, an isolated environment for real uv, git.
- template_facts: the template's own facts (pinned uv and mypy, choices, example answers).

BEHAVIOURS.md lists every Azure behaviour reproduced here, its rule, its public source, and
the tests that pin it.
"""

import base64

# Seconds any command the stand-ins, the tests or the benchmark run may take: a hang fails
# instead of holding CI for its whole time.
COMMAND_TIMEOUT = 600


def presented_secret(authorization: str) -> str:
    """The secret an Authorization header presents: a Bearer token, or a Basic password (Azure
    takes any user name with a PAT or a job token)."""
    if authorization.startswith("Bearer "):
        return authorization[7:]
    if authorization.startswith("Basic "):
        try:
            return base64.b64decode(authorization[6:]).decode().partition(":")[2]
        except ValueError:
            return ""
    return ""
