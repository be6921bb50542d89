"""The set-up a team's project wants, step by step. Each step reads what Azure has and writes
only what differs, so that a second run changes nothing; the session (sessions.py) decides
whether a write is printed, made, or reported as drift.

The calls are Microsoft's (MicrosoftDocs/vsts-rest-api-specs); the ids below are Microsoft's
too: the Build Validation policy type and the Approval check type as Microsoft's examples of
these calls send them (the specification's httpExamples); the task check type, the branch
control task (evaluatebranchProtection) and the Exclusive lock check type as Microsoft's
Terraform provider for Azure DevOps sends them (azuredevops_check_branch_control,
azuredevops_check_exclusive_lock).
"""

from team_set_up.sessions import Placeholder, Session
from team_set_up.team import PREVIEW, Hosts, Refused, Team, segment

BUILD_VALIDATION = "0609b952-1397-4640-95ec-e00a01b2c241"
APPROVAL = "8c6f20a7-a545-4486-9777-f762fafe0d4d"
TASK_CHECK = "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7"
BRANCH_CONTROL_TASK = "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b"
EXCLUSIVE_LOCK = "2ef31ad6-baa0-403a-8b45-2cbc9b4e5563"
# A feed's roles, lowest first (Feed Management - Set Feed Permissions: FeedRole).
ROLES = ["none", "reader", "collaborator", "contributor", "administrator"]
MAIN = "refs/heads/main"
PYPI = {
    "name": "PyPI",
    "protocol": "pypi",
    "location": "https://pypi.org/",
    "upstreamSourceType": "public",
}


def set_up(team: Team, session: Session) -> None:
    """Every step, in order: the feed and its roles, the repository, the pipelines and their
    policy, then (publishing projects) the release's environment, checks and permissions."""
    hosts = Hosts(team)
    project = session.get(
        hosts.api("core", f"_apis/projects/{segment(team.project)}"), planned=Placeholder("project")
    )
    if project is None:
        raise Refused(
            f"{team.organization_url} has no project {team.project!r}: create it, or name the "
            "team's project with --project."
        )
    feed(session, hosts, team)
    feed_roles(session, hosts, team)
    repository = git_repository(session, hosts, team, project)
    if not pushed(session, hosts, repository):
        session.by_hand(
            f"Push the rendered project to the repository {team.repository} "
            f"({repository.get('remoteUrl', 'its clone URL')}): `git push -u origin main`. "
            "Then run this command again: the pipelines are made from its YAML files."
        )
        return
    pipelines = session.get_all(hosts.project("core", "_apis/pipelines"))
    build, build_created = pipeline(
        session, hosts, pipelines, team.build_pipeline, "azure-pipelines.yml", repository
    )
    build_validation(session, hosts, team, repository, build)
    if team.agent_pool:
        queue = agent_queue(session, hosts, team.agent_pool, "agent_pool")
        permitted_too(session, hosts, queue, team.agent_pool, build)
    settable_variables_only(session, hosts)
    if team.container_registry_connection:
        image_registry(session, hosts, team, build)
    if team.publish:
        release(session, hosts, team, pipelines, repository)
    if build_created:
        session.queue(
            hosts.project("core", f"_apis/pipelines/{segment(build['id'])}/runs"),
            {"resources": {"repositories": {"self": {"refName": MAIN}}}},
            why=f"main's first build queued on {team.build_pipeline}"
            + (": when it succeeds, the first release starts" if team.publish else ""),
        )


def feed(session: Session, hosts: Hosts, team: Team) -> None:
    """The feed, with PyPI as its upstream source."""
    found = session.get(hosts.feed())
    if found is None:
        session.write(
            "POST",
            hosts.feeds(),
            {"name": team.feed, "upstreamEnabled": True, "upstreamSources": [PYPI]},
            why=f"no feed {team.feed}",
            label="feed",
        )  # fmt: skip
        return
    sources = found.get("upstreamSources") or []
    if not any(source.get("protocol", "").lower() == "pypi" for source in sources):
        session.write(
            "PATCH",
            hosts.feed(),
            {"upstreamEnabled": True, "upstreamSources": [*sources, PYPI]},
            why=f"the feed {team.feed} has no PyPI upstream source",
            label="feed",
        )


def identity(session: Session, hosts: Hosts, name: str) -> dict:
    """An identity, as feed permissions and approvals take it: the Identities API's
    descriptor (`Microsoft.TeamFoundation.…`), not Graph's subject descriptor (`vssgp.…`)."""
    found = session.get_all(
        hosts.api("identities", "_apis/identities", searchFilter="General", filterValue=name),
        planned=[Placeholder(name)],
    )
    if not found:
        raise Refused(
            f"No identity {name!r} in {hosts.team.organization_url}: give a name the "
            "organization's users or groups have (a person's sign-in address, a group's name)."
        )
    return found[0]


def feed_roles(session: Session, hosts: Hosts, team: Team) -> None:
    """The team's pipelines read the feed (Collaborator: Feed and Upstream Reader) and never
    publish to it; the release identity alone publishes (Contributor: Feed Publisher)."""
    wanted = {team.build_service: "collaborator"}
    if team.release_identity:
        wanted[team.release_identity] = "contributor"
    elif team.publish:
        session.by_hand(
            "Give the release identity Feed Publisher (Contributor) on the feed: run this "
            "command again with --release-identity <its name>, once it is in the organization."
        )
    descriptors = {identity(session, hosts, name)["descriptor"]: name for name in wanted}
    granted = {
        grant["identityDescriptor"]: grant for grant in session.get_all(hosts.feed("/permissions"))
    }
    changes, reasons = [], []
    for descriptor, name in descriptors.items():
        role = granted.get(descriptor, {}).get("role", "none")
        if role != wanted[name]:
            changes.append({"identityDescriptor": descriptor, "role": wanted[name]})
            reasons.append(f"{name} is {role} on the feed {team.feed}, not {wanted[name]}")
    for descriptor, grant in granted.items():
        above = ROLES.index(grant.get("role", "none")) > ROLES.index("collaborator")
        if descriptor not in descriptors and ":Build:" in descriptor and above:
            changes.append({"identityDescriptor": descriptor, "role": "collaborator"})
            reasons.append(
                f"{grant.get('displayName') or descriptor} is {grant['role']} on the feed "
                f"{team.feed}: a build service publishes with every pull request's token"
            )
    if changes:
        session.write(
            "PATCH", hosts.feed("/permissions"), changes, why="; ".join(reasons), label="roles"
        )


def git_repository(session: Session, hosts: Hosts, team: Team, project: dict) -> dict:
    found = session.get(hosts.project("core", f"_apis/git/repositories/{segment(team.repository)}"))
    if found is not None:
        return found
    return session.write(
        "POST",
        hosts.project("core", "_apis/git/repositories"),
        {"name": team.repository, "project": {"id": project["id"]}},
        why=f"no repository {team.repository}",
        label="repository",
    )


def pushed(session: Session, hosts: Hosts, repository: dict) -> bool:
    """Has main the pipeline's YAML? Pipelines are made from it."""
    item = session.get(
        hosts.project(
            "core",
            f"_apis/git/repositories/{segment(repository['id'])}/items",
            path="/azure-pipelines.yml",
            **{"versionDescriptor.version": "main", "versionDescriptor.versionType": "branch"},
        ),
        planned=Placeholder("azure-pipelines.yml"),
    )
    return item is not None


def pipeline(
    session: Session, hosts: Hosts, pipelines: list, name: str, yaml_path: str, repository: dict
) -> tuple[dict, bool]:
    """The pipeline `name`, from the project's `pipelines` or made (and whether this run made
    it)."""
    found = [known for known in pipelines if known.get("name") == name]
    if found:
        return found[0], False
    made = session.write(
        "POST",
        hosts.project("core", "_apis/pipelines"),
        {
            "name": name,
            "folder": "\\",
            "configuration": {
                "type": "yaml",
                "path": yaml_path,
                "repository": {"id": repository["id"], "type": "azureReposGit"},
            },
        },
        why=f"no pipeline {name} (from {yaml_path})",
        label=f"pipeline-{name}",
    )
    return made, True


def build_validation(
    session: Session, hosts: Hosts, team: Team, repository: dict, build: dict
) -> None:
    """Pull requests into main are built, and cannot complete until the build passes. The
    build expires 12 hours after main moves, as the web UI's default does
    (`queueOnSourceUpdateOnly` with `validDuration`: Terraform's
    azuredevops_branch_policy_build_validation)."""
    settings = {
        "buildDefinitionId": build["id"],
        "displayName": "Build",
        "manualQueueOnly": False,
        "queueOnSourceUpdateOnly": True,
        "validDuration": 720,
        "scope": [{"repositoryId": repository["id"], "refName": MAIN, "matchKind": "Exact"}],
    }
    body = {"isEnabled": True, "isBlocking": True, "type": {"id": BUILD_VALIDATION},
            "settings": settings}  # fmt: skip
    found = [
        policy
        for policy in session.get_all(
            hosts.project("core", "_apis/policy/configurations", policyType=BUILD_VALIDATION)
        )
        if str(policy.get("settings", {}).get("buildDefinitionId")) == str(build["id"])
        and any(
            scope.get("repositoryId") == repository["id"] and scope.get("refName") == MAIN
            for scope in policy["settings"].get("scope", [])
        )
    ]
    if not found:
        session.write(
            "POST",
            hosts.project("core", "_apis/policy/configurations"),
            body,
            why=f"no Build Validation policy on main of {team.repository}",
            label="policy",
        )
        return
    policy = found[0]
    if (
        policy.get("isEnabled")
        and policy.get("isBlocking")
        and not (policy["settings"].get("manualQueueOnly"))
    ):
        return
    session.write(
        "PUT",
        hosts.project("core", f"_apis/policy/configurations/{segment(policy['id'])}"),
        {**body, "settings": {**policy["settings"], "manualQueueOnly": False}},
        why=f"the Build Validation policy on main of {team.repository} is off, optional or "
        "manual: pull requests could complete unbuilt",
        label="policy",
    )


def settable_variables_only(session: Session, hosts: Hosts) -> None:
    """ "Limit variables that can be set at queue time" (docs/security.md)."""
    url = hosts.project("core", "_apis/build/generalsettings")
    found = session.get(url) or {}
    if found.get("enforceSettableVar") is not True:
        session.write(
            "PATCH",
            url,
            {"enforceSettableVar": True},
            why=f"the project {hosts.team.project} lets anyone who queues a run set any "
            "variable (Limit variables that can be set at queue time is off)",
            label="settings",
        )


def release(session: Session, hosts: Hosts, team: Team, pipelines: list, repository: dict) -> None:
    """The release pipeline, its environment's checks (Approvals that the requester cannot
    give, Branch control with Verify branch protection, Exclusive lock), Branch control on
    its connection and pool, and those resources permitted to the release pipeline alone."""
    pipeline_, _ = pipeline(
        session, hosts, pipelines, team.release_pipeline, ".azure-pipelines/release.yml",
        repository,
    )  # fmt: skip
    environments = session.get_all(
        hosts.project("core", "_apis/distributedtask/environments", name=team.environment)
    )
    environment = environments[0] if environments else session.write(
        "POST",
        hosts.project("core", "_apis/distributedtask/environments"),
        {"name": team.environment, "description": f"Releases of {team.repository} to {team.feed}"},
        why=f"no environment {team.environment}",
        label="environment",
    )  # fmt: skip
    approvers = [identity(session, hosts, name)["id"] for name in team.approvers]
    checks(session, hosts, "environment", environment, team.environment, approvers)
    resources = [("environment", environment["id"], team.environment)]
    connections = session.get_all(
        hosts.project("core", "_apis/serviceendpoint/endpoints",
                      endpointNames=team.release_connection),
        planned=[Placeholder("connection")],
    )  # fmt: skip
    if connections:
        checks(session, hosts, "endpoint", connections[0], team.release_connection)
        resources.append(("endpoint", connections[0]["id"], team.release_connection))
    else:
        session.by_hand(connection_by_hand(team))
    if team.release_pool:
        queue = agent_queue(session, hosts, team.release_pool, "release_pool")
        checks(session, hosts, "queue", queue, team.release_pool)
        resources.append(("queue", queue["id"], team.release_pool))
    for kind, resource_id, name in resources:
        permitted_only(session, hosts, kind, resource_id, name, team.release_pipeline, pipeline_)


def image_registry(session: Session, hosts: Hosts, team: Team, build: dict) -> None:
    """An application's Docker registry connection: Branch control for main, and permitted
    to the build pipeline alone (its main runs push the image; pull requests never name
    it)."""
    name = team.container_registry_connection
    connections = session.get_all(
        hosts.project("core", "_apis/serviceendpoint/endpoints", endpointNames=name),
        planned=[Placeholder("registry-connection")],
    )
    if not connections:
        session.by_hand(
            f"Create the service connection {name!r}: Project settings > Service connections "
            "> New > Docker Registry, for the registry the image is pushed to (for Azure "
            "Container Registry, workload identity federation). This command does not: the "
            "registry's credential is not Azure DevOps'. Then run it again: it adds the "
            "connection's checks and permissions."
        )
        return
    checks(session, hosts, "endpoint", connections[0], name)
    permitted_only(
        session, hosts, "endpoint", connections[0]["id"], name, team.build_pipeline, build
    )


def agent_queue(session: Session, hosts: Hosts, pool: str, question: str) -> dict:
    """The project's queue of an agent pool, which pipeline permissions and checks name."""
    queues = session.get_all(
        hosts.project("core", "_apis/distributedtask/queues", queueNames=pool),
        planned=[Placeholder(question.replace("_", "-"))],
    )
    if not queues:
        raise Refused(
            f"The project {hosts.team.project} has no agent pool {pool!r} ({question}): add "
            "the pool to the project (Project settings > Agent pools), then run this command "
            "again."
        )
    return queues[0]


def permitted_too(session: Session, hosts: Hosts, queue: dict, name: str, build: dict) -> None:
    """The build pipeline may use its pool (shared with other pipelines), so that its first
    run does not wait on "Permit"."""
    url = hosts.project(
        "core", f"_apis/pipelines/pipelinepermissions/queue/{segment(queue['id'])}", PREVIEW
    )
    found = session.get(url) or {}
    if (found.get("allPipelines") or {}).get("authorized") or any(
        str(known["id"]) == str(build["id"]) and known.get("authorized")
        for known in found.get("pipelines") or []
    ):
        return
    session.write(
        "PATCH",
        url,
        {"pipelines": [{"id": build["id"], "authorized": True}]},
        why=f"the queue {name} is not permitted to {hosts.team.build_pipeline}",
        label="permissions",
    )


def connection_by_hand(team: Team) -> str:
    if team.services:
        return (
            f"Create the service connection {team.release_connection!r}: Project settings > "
            "Service connections > New > Azure DevOps > Workload identity federation, for the "
            "release identity (docs/release.md). This command does not: the identity's "
            "federated credential is made in Microsoft Entra ID, which it does not sign in "
            "to. Then run it again: it adds the connection's checks and permissions."
        )
    return (
        f"Create the service connection {team.release_connection!r}: Project settings > "
        "Service connections > New > Python package upload, with the feed's upload URL, the "
        "release account and its PAT (Packaging: Read & write). This command does not: the "
        "PAT would pass through this machine. Then run it again: it adds the connection's "
        "checks and permissions."
    )


def branch_control() -> dict:
    return {
        "type": {"id": TASK_CHECK, "name": "Task Check"},
        "settings": {
            "definitionRef": {
                "id": BRANCH_CONTROL_TASK,
                "name": "evaluatebranchProtection",
                "version": "0.0.1",
            },
            "displayName": "Branch control",
            "inputs": {"allowedBranches": MAIN, "ensureProtectionOfBranch": "true"},
            "retryInterval": 5,
        },
        "timeout": 1440,
    }


def approval(approvers: list) -> dict:
    return {
        "type": {"id": APPROVAL, "name": "Approval"},
        "settings": {
            "approvers": [{"id": approver} for approver in approvers],
            "executionOrder": "anyOrder",
            "minRequiredApprovers": 1,
            "requesterCannotBeApprover": True,
            "blockedApprovers": [],
        },
        "timeout": 43200,
    }


def exclusive_lock() -> dict:
    return {"type": {"id": EXCLUSIVE_LOCK, "name": "ExclusiveLock"}, "settings": {},
            "timeout": 43200}  # fmt: skip


# What must hold of each check's settings, whatever else a team set.
REQUIRED = {
    "Approval": {"requesterCannotBeApprover": True},
    "Branch control": {"inputs": {"allowedBranches": MAIN, "ensureProtectionOfBranch": "true"}},
    "Exclusive lock": {},
}


def kind_of(check: dict) -> str:
    """Approval, Branch control, Exclusive lock, or another check (by its type id, and a
    task check's task)."""
    type_id = check.get("type", {}).get("id")
    if type_id == APPROVAL:
        return "Approval"
    if type_id == EXCLUSIVE_LOCK:
        return "Exclusive lock"
    task = (check.get("settings") or {}).get("definitionRef", {}).get("id")
    return "Branch control" if type_id == TASK_CHECK and task == BRANCH_CONTROL_TASK else ""


def checks(
    session: Session, hosts: Hosts, kind: str, resource: dict, name: str,
    approvers: list | None = None,
) -> None:  # fmt: skip
    """An environment's Approvals, Branch control and Exclusive lock; a connection's or a
    pool's Branch control. Settings come back only with `$expand=settings`."""
    found = session.get_all(
        hosts.project("core", "_apis/pipelines/checks/configurations", PREVIEW,
                      resourceType=kind, resourceId=resource["id"], **{"$expand": "settings"})
    )  # fmt: skip
    wanted = [branch_control()]
    if kind == "environment":
        wanted = [approval(approvers or []), branch_control(), exclusive_lock()]
    target = {"type": kind, "id": resource["id"]}
    for want in wanted:
        label = kind_of(want)
        same = [check for check in found if kind_of(check) == label]
        if not same:
            if label == "Approval" and not approvers:
                session.by_hand(
                    f"Approvals on the environment {name}: run this command again with "
                    "--approver <person or group> (each one who may release)."
                )
                continue
            session.write(
                "POST",
                hosts.project("core", "_apis/pipelines/checks/configurations", PREVIEW),
                {**want, "resource": target},
                why=f"no {label} check on the {kind} {name}",
                label="check",
            )
            continue
        settings = same[0].get("settings") or {}
        if not holds(settings, REQUIRED[label]):
            session.write(
                "PATCH",
                hosts.project("core", f"_apis/pipelines/checks/configurations/"
                              f"{segment(same[0]['id'])}", PREVIEW),
                {"type": same[0]["type"], "settings": merged(settings, REQUIRED[label]),
                 "resource": target, "timeout": same[0].get("timeout", want["timeout"])},
                why=f"the {label} check on the {kind} {name} lacks {REQUIRED[label]}",
                label="check",
            )  # fmt: skip


def holds(settings: dict, required: dict) -> bool:
    return all(
        holds(settings.get(key) or {}, value) if isinstance(value, dict)
        else settings.get(key) == value
        for key, value in required.items()
    )  # fmt: skip


def merged(settings: dict, required: dict) -> dict:
    return {
        **settings,
        **{
            key: merged(settings.get(key) or {}, value) if isinstance(value, dict) else value
            for key, value in required.items()
        },
    }


def permitted_only(
    session: Session, hosts: Hosts, kind: str, resource_id: object, name: str,
    pipeline_name: str, release: dict,
) -> None:  # fmt: skip
    """The resource may be used by one pipeline (`release`, named `pipeline_name`) and no
    other: not open to all pipelines, and that pipeline's first run does not wait on
    "Permit"."""
    url = hosts.project(
        "core", f"_apis/pipelines/pipelinepermissions/{kind}/{segment(resource_id)}", PREVIEW
    )
    found = session.get(url) or {}
    release_id = str(release["id"])
    authorized = {
        str(known["id"]): known["id"]
        for known in found.get("pipelines") or []
        if known.get("authorized")
    }
    reasons = []
    if (found.get("allPipelines") or {}).get("authorized"):
        reasons.append(f"the {kind} {name} is open to all pipelines")
    others = sorted(set(authorized) - {release_id})
    if others:
        reasons.append(f"the {kind} {name} is permitted to pipelines {', '.join(others)}")
    if release_id not in authorized:
        reasons.append(f"the {kind} {name} is not permitted to {pipeline_name}")
    if reasons:
        session.write(
            "PATCH",
            url,
            {
                "allPipelines": {"authorized": False},
                "pipelines": [
                    {"id": release["id"], "authorized": True},
                    *({"id": authorized[other], "authorized": False} for other in others),
                ],
            },
            why="; ".join(reasons),
            label="permissions",
        )
