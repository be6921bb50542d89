"""Protected resources: service connections, environments and agent pools, and the checks on
them.

Microsoft Learn, "Protect resources": artifacts (feeds), pipelines, test plans and work
items are open resources, which any pipeline of the project may use with its job token;
approvals and checks exist only on protected resources (environments, service connections,
agent pools, variable groups, secure files, repositories). So the only credential that can
be kept to releases is one behind a protected resource: here, a service connection whose
identity the feed grants Feed Publisher.

Two moments, as on Azure:

- Before a run starts, Azure resolves every resource the compiled pipeline names; one that
  does not exist, or that this pipeline is not authorized to use, fails the whole run with
  "... could not be found. The ... does not exist or has not been authorized for use"
  (Microsoft Learn, "Resources", resource authorization). A runtime `condition:` does not
  help: the compiled YAML still names the resource; a `${{ if }}` that drops it does.
- Before a job that uses a resource, its checks run; a job whose checks fail runs no step
  (Microsoft Learn, "Define approvals and checks"): Branch control (the run's ref must
  match an allowed branch) and Approvals (an approver must approve the run).
"""

import fnmatch
from dataclasses import dataclass

from azure_standins.rules import applies

CONNECTION_INPUTS = (
    "azureDevOpsServiceConnection",
    "workloadIdentityServiceConnection",
    "pythonUploadServiceConnection",
)
AUTHORIZATION_PAGE = "For authorization details, refer to https://aka.ms/yamlauthz."


@dataclass(frozen=True)
class Checks:
    """The checks on a protected resource."""

    allowed_branches: tuple[str, ...] = ()  # Branch control; empty: no such check
    # Branch control's "Verify branch protection": the run's branch must have policies
    verify_branch_protection: bool = False
    approved: bool = True  # what the approvers decide for this run


@dataclass(frozen=True)
class ServiceConnection(Checks):
    """A service connection: the identity it signs in as (its token), the feed URL it is
    for (a server's "Python package upload" connection names one), and whether this
    pipeline may use it."""

    token: str = ""
    url: str = ""
    authorized: bool = True


@dataclass(frozen=True)
class Pool(Checks):
    """An agent pool's queue in the project: its checks, and the pipelines permitted to use
    it (None: open to every pipeline, the default for a queue an administrator created with
    "Grant access permission to all pipelines")."""

    pipelines: frozenset[str] | None = None


@dataclass(frozen=True)
class Resources:
    """What exists in the project, for this pipeline. `pools=None`: every pool named exists
    (the runner's agents are its agents) and is open; environments are created on first use,
    as Azure creates an environment a YAML pipeline names, without checks."""

    connections: dict[str, ServiceConnection]
    environments: dict[str, Checks]
    pools: dict[str, Pool] | None = None


def connections_used(steps: list[dict]) -> list[tuple[str, str]]:
    """(input, service connection) for each connection a job's steps name."""
    return [
        (key, str(step["inputs"][key]))
        for step in steps
        if "task" in step
        for key in CONNECTION_INPUTS
        if key in step.get("inputs", {})
    ]


def unresolved(
    job: str, steps: list[dict], pool: dict, resources: Resources, pipeline: str
) -> list[str]:
    """Azure's messages for the resources a compiled job names that do not exist or are not
    authorized for `pipeline` (empty when all resolve)."""
    if not applies("protected.resolve-before-run"):
        return []
    errors = []
    for key, name in connections_used(steps):
        connection = resources.connections.get(name)
        if connection is None or not connection.authorized:
            errors.append(
                f"Job {job}: Step input {key} references service connection {name} which "
                "could not be found. The service connection does not exist, has been disabled "
                f"or has not been authorized for use. {AUTHORIZATION_PAGE}"
            )
    named = pool.get("name")
    queue = (resources.pools or {}).get(named)
    permitted = queue is None or queue.pipelines is None or pipeline in queue.pipelines
    if not permitted and not applies("protected.pool-permissions"):
        permitted = True
    if named is not None and resources.pools is not None and (queue is None or not permitted):
        errors.append(
            f"Could not find a pool with name {named}. The pool does not exist or has not "
            f"been authorized for use. {AUTHORIZATION_PAGE}"
        )
    return errors


def check_failures(
    resources: list[tuple[str, str, Checks]], ref: str, protected_branches: frozenset[str]
) -> list[str]:
    """Why the job may not use its protected resources, as (kind, name, checks): empty when
    every check passes. `protected_branches` are the branches that have policies."""
    failures = []
    if not applies("protected.checks"):
        return failures
    for kind, name, checks in resources:
        if checks.allowed_branches and not any(
            fnmatch.fnmatchcase(ref, pattern) for pattern in checks.allowed_branches
        ):
            allowed = ", ".join(checks.allowed_branches)
            failures.append(f"Branch control on {kind} '{name}' failed: {ref} is not in {allowed}.")
        branch = ref.removeprefix("refs/heads/")
        unprotected = not ref.startswith("refs/heads/") or branch not in protected_branches
        if checks.verify_branch_protection and unprotected:
            failures.append(
                f"Branch control on {kind} '{name}' failed: {ref} is not protected by branch "
                "policies (Verify branch protection)."
            )
        if not checks.approved:
            failures.append(f"The approvers of {kind} '{name}' rejected the run.")
    return failures
