"""Protected resources: service connections, and the checks on them.

Microsoft Learn, "Protect resources": artifacts (feeds), pipelines, test plans and work
items are open resources, which any pipeline of the project may use with its job token;
approvals and checks exist only on protected resources (environments, service connections,
agent pools, variable groups, secure files, repositories). So the only credential that can
be kept to releases is one behind a protected resource: here, a service connection whose
identity the feed grants Feed Publisher.

Checks run before a job that uses the resource; a job whose checks fail runs no step
(Microsoft Learn, "Define approvals and checks"):

- Branch control: the run's ref must match one of the allowed branches (`refs/tags/v*`);
- Approvals: an approver must approve the run (a test says whether one does).
"""

import fnmatch
from dataclasses import dataclass

from azure_standins.rules import applies

CONNECTION_INPUTS = (
    "azureDevOpsServiceConnection",
    "workloadIdentityServiceConnection",
    "pythonUploadServiceConnection",
)


@dataclass(frozen=True)
class ServiceConnection:
    """A service connection: the identity it signs in as (its token), the feed URL it is
    for (a server's "Python package upload" connection names one), and its checks."""

    token: str
    url: str = ""
    allowed_branches: tuple[str, ...] = ()  # Branch control; empty: no such check
    approved: bool = True  # what the approvers decide for this run


def connections_used(steps: list[dict]) -> list[str]:
    """The service connections a job's steps name."""
    return [
        str(step["inputs"][key])
        for step in steps
        if "task" in step
        for key in CONNECTION_INPUTS
        if key in step.get("inputs", {})
    ]


def check_failures(
    used: list[str], connections: dict[str, ServiceConnection], ref: str
) -> list[str]:
    """Why the job may not use its service connections (empty when it may)."""
    failures = []
    for name in used:
        connection = connections.get(name)
        if connection is None:
            failures.append(f"Could not find a service connection named '{name}'.")
            continue
        if not applies("protected.checks"):
            continue
        if connection.allowed_branches and not any(
            fnmatch.fnmatchcase(ref, pattern) for pattern in connection.allowed_branches
        ):
            allowed = ", ".join(connection.allowed_branches)
            failures.append(f"Branch control on '{name}' failed: {ref} is not in {allowed}.")
        if not connection.approved:
            failures.append(f"The approvers of '{name}' rejected the run.")
    return failures
