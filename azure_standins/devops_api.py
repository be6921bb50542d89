"""The part of Azure DevOps' REST API that setting up a team touches: projects, identities,
a feed's settings and roles, repositories, pipelines, branch policies, build settings,
environments, checks, service connections, agent queues and pipeline permissions.

It answers one organization (on dev.azure.com, feeds.dev.azure.com and vssps.dev.azure.com,
told apart by the Host header) or one collection of a server (`/{collection}/...`). What it
keeps is what Azure answers in these calls' shapes (MicrosoftDocs/vsts-rest-api-specs);
the rules it applies are in BEHAVIOURS.md, each with its source. Everything else is plain
storage: what a caller writes it reads back.
"""

import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote
from wsgiref.simple_server import make_server

from azure_standins import presented_secret
from azure_standins.feed_emulator import QuietHandler, ThreadingWSGIServer
from azure_standins.rest_reference import problems
from azure_standins.rules import applies

SERVICES_HOSTS = {"dev.azure.com", "feeds.dev.azure.com", "vssps.dev.azure.com"}
# Graph's subject descriptors (`vssgp.`, `aad.`, `svc.`): what `az devops security group list`
# and `az devops user show` print, and what feed permissions do not take.
SUBJECT_DESCRIPTOR = re.compile(r"^(vssgp|aad|aadgp|svc|msa)\.", re.IGNORECASE)


class Answer(Exception):
    def __init__(self, status: int, body: object = None):
        super().__init__(status)
        self.status, self.body = status, body


def _error(status: int, message: str, type_key: str = "") -> Answer:
    return Answer(status, {"$id": "1", "message": message, "typeKey": type_key})


@dataclass
class DevOpsApi:
    """One organization's (or collection's) state, and the credentials it lets in."""

    organization: str = "contoso"
    collection: str = ""  # a server's collection path, e.g. "tfs/DefaultCollection"
    credentials: set[str] = field(default_factory=set)
    projects: dict[str, dict] = field(default_factory=dict)
    identities: list[dict] = field(default_factory=list)
    feeds: dict[str, dict] = field(default_factory=dict)
    repositories: list[dict] = field(default_factory=list)
    pipelines: list[dict] = field(default_factory=list)
    policies: list[dict] = field(default_factory=list)
    settings: dict[str, dict] = field(default_factory=dict)
    environments: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)
    queues: list[dict] = field(default_factory=list)
    permissions: dict[tuple, dict] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- what a test sets up, as an administrator would in the web UI ---------------------

    def add_project(self, name: str) -> dict:
        """A project, and its build service identity."""
        project = {"id": str(uuid.uuid4()), "name": name, "state": "wellFormed"}
        self.projects[name.lower()] = project
        self.settings[project["id"]] = {"enforceSettableVar": False}
        self.add_identity(
            f"{name} Build Service ({self.organization})",
            descriptor="Microsoft.TeamFoundation.ServiceIdentity;"
            f"{uuid.uuid4()}:Build:{project['id']}",
        )
        return project

    def add_identity(self, name: str, descriptor: str = "", group: bool = False) -> dict:
        found = {
            "id": str(uuid.uuid4()),
            "descriptor": descriptor or f"Microsoft.TeamFoundation.Identity;S-1-9-{uuid.uuid4()}",
            "subjectDescriptor": f"{'vssgp' if group else 'aad'}.{uuid.uuid4().hex}",
            "providerDisplayName": name,
            "isContainer": group,
        }
        self.identities.append(found)
        return found

    def identity(self, name: str) -> dict:
        (found,) = [i for i in self.identities if i["providerDisplayName"] == name]
        return found

    def add_endpoint(self, project: str, name: str) -> dict:
        endpoint = {"id": str(uuid.uuid4()), "name": name, "isReady": True}
        endpoint["project"] = self.projects[project.lower()]["id"]
        self.endpoints.append(endpoint)
        return endpoint

    def add_queue(self, project: str, name: str) -> dict:
        queue = {"id": next(self._ids), "name": name, "pool": {"id": next(self._ids), "name": name}}
        queue["projectId"] = self.projects[project.lower()]["id"]
        self.queues.append(queue)
        return queue

    def push(self, repository: str, *paths: str) -> None:
        """A push to main of files at `paths`."""
        (found,) = [r for r in self.repositories if r["name"] == repository]
        found["files"].update(paths)
        found["defaultBranch"] = "refs/heads/main"

    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call[0] != "GET"]

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a port of 127.0.0.1; yields the organization's (or collection's) URL."""
        server = make_server("127.0.0.1", 0, self, ThreadingWSGIServer, QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/{self.collection or self.organization}"
        finally:
            server.shutdown()
            server.server_close()

    # -- the WSGI application ------------------------------------------------------------

    def __call__(self, environ, start_response):
        try:
            status, body = 200, self.answer(environ)
        except Answer as answer:
            status, body = answer.status, answer.body
        data = json.dumps(body).encode() if body is not None else b""
        start_response(f"{status} {'OK' if status < 300 else 'Error'}",
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(data)))])  # fmt: skip
        return [data]

    def answer(self, environ) -> object:
        method = environ["REQUEST_METHOD"]
        host = environ.get("HTTP_HOST", "").lower()
        # WSGI hands the path decoded, as latin-1.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        query = environ.get("QUERY_STRING", "")
        self.calls.append((method, f"{host}{path}"))
        if presented_secret(environ.get("HTTP_AUTHORIZATION", "")) not in self.credentials:
            raise _error(401, "TF400813: The user is not authorized to access this resource.")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length)) if length else None
        if applies("devops.specification"):
            scheme = "https" if host in SERVICES_HOSTS else "http"
            url = f"{scheme}://{host}{quote(path)}?{query}"
            wrong = problems(method, url, body, self.collection)
            if wrong:
                raise _error(404 if wrong[0].startswith("no ") else 400, "; ".join(wrong))
        base = self.collection if self.collection else self.organization
        rest = path.strip("/").removeprefix(base.strip("/")).strip("/")
        return self.route(method, rest, dict(parse_qsl(query)), body)

    # -- the routes ----------------------------------------------------------------------

    def route(self, method: str, rest: str, query: dict, body: object) -> object:
        head, _, tail = rest.partition("/_apis/")
        if rest.startswith("_apis/"):
            head, tail = "", rest.removeprefix("_apis/")
        parts = tail.split("/")
        area = "/".join(parts[:2]).lower()
        if not head:
            if parts[0] == "projects" and method == "GET":
                return self._project(parts[1])
            if parts[0] == "identities":
                return self._search_identities(query)
            raise _error(404, f"No route for {rest}")
        project = self._project(head)
        handler = {
            "packaging/feeds": self._feeds,
            "git/repositories": self._repositories,
            "policy/configurations": self._policies,
            "build/generalsettings": self._general_settings,
            "distributedtask/environments": self._environments,
            "serviceendpoint/endpoints": self._endpoints,
            "distributedtask/queues": self._queues,
        }.get(area)
        if area.startswith("pipelines"):
            handler = {
                "checks": self._checks,
                "pipelinepermissions": self._permissions,
            }.get(parts[1].lower() if len(parts) > 1 else "", self._pipelines)
        if handler is None:
            raise _error(404, f"No route for {rest}")
        return handler(method, project, parts, query, body)

    def _project(self, name: str) -> dict:
        found = self.projects.get(name.lower()) or next(
            (p for p in self.projects.values() if p["id"] == name), None
        )
        if found is None:
            raise _error(404, f"TF200016: The following project does not exist: {name}.")
        return found

    def _search_identities(self, query: dict) -> dict:
        wanted = query.get("filterValue", "").lower()
        found = [i for i in self.identities if i["providerDisplayName"].lower() == wanted]
        return _listed(found)

    def _feeds(self, method, project, parts, query, body):
        name = parts[2].lower() if len(parts) > 2 else ""
        if method == "POST":
            # Feed names are unique in the whole organization, project-scoped feeds too.
            if body["name"].lower() in self.feeds and applies("devops.unique-names"):
                raise _error(409, f"A feed named '{body['name']}' already exists.",
                             "FeedNameAlreadyExistsException")  # fmt: skip
            feed = {"id": str(uuid.uuid4()), "upstreamSources": [], **body,
                    "project": {"id": project["id"]}}  # fmt: skip
            # A new feed: the project's build service reads it (Collaborator).
            feed["permissions"] = [
                {"identityDescriptor": self._build_service(project)["descriptor"],
                 "role": "collaborator"}
            ]  # fmt: skip
            self.feeds[body["name"].lower()] = feed
            return self._public(feed)
        feed = self.feeds.get(name)
        if feed is None or feed["project"]["id"] != project["id"]:
            raise _error(404, f"The feed with ID '{parts[2]}' doesn't exist.",
                         "FeedIdNotFoundException")  # fmt: skip
        if len(parts) > 3:  # /permissions
            return self._feed_permissions(method, feed, body)
        if method == "PATCH":
            feed.update(body)
        return self._public(feed)

    def _stored(self, items: list, made: dict) -> dict:
        """A created resource, with the next id."""
        made = {"id": next(self._ids), **made}
        items.append(made)
        return made

    @staticmethod
    def _public(feed: dict) -> dict:
        return {key: value for key, value in feed.items() if key != "permissions"}

    def _build_service(self, project: dict) -> dict:
        (found,) = [
            i for i in self.identities if i["descriptor"].endswith(f":Build:{project['id']}")
        ]
        return found

    def _feed_permissions(self, method, feed, body):
        if method == "PATCH":
            known = {i["descriptor"]: i for i in self.identities}
            for grant in body:
                descriptor = grant.get("identityDescriptor", "")
                if descriptor not in known and applies("devops.identity-descriptors"):
                    kind = "a Graph subject descriptor" if SUBJECT_DESCRIPTOR.match(descriptor) \
                        else "no identity's descriptor"  # fmt: skip
                    raise _error(400, f"The identity descriptor '{descriptor}' is {kind}: "
                                 "feed permissions take identity descriptors.",
                                 "IdentityNotFoundException")  # fmt: skip
            for grant in body:
                kept = [g for g in feed["permissions"]
                        if g["identityDescriptor"] != grant["identityDescriptor"]]  # fmt: skip
                feed["permissions"] = [*kept, {"identityDescriptor": grant["identityDescriptor"],
                                               "role": grant["role"]}]  # fmt: skip
        names = {i["descriptor"]: i["providerDisplayName"] for i in self.identities}
        value = [{**g, "displayName": names.get(g["identityDescriptor"], "")}
                 for g in feed["permissions"]]  # fmt: skip
        return _listed(value)

    def _repositories(self, method, project, parts, query, body):
        mine = [r for r in self.repositories if r["project"]["id"] == project["id"]]
        if method == "POST":
            if any(r["name"].lower() == body["name"].lower() for r in mine) and applies(
                "devops.unique-names"
            ):
                raise _error(409, f"TF400948: A Git repository with the name {body['name']} "
                             "already exists.")  # fmt: skip
            repository = {"id": str(uuid.uuid4()), "name": body["name"],
                          "project": {"id": project["id"], "name": project["name"]},
                          "remoteUrl": f"https://dev.azure.com/{self.organization}/"
                          f"{project['name']}/_git/{body['name']}", "files": set()}  # fmt: skip
            self.repositories.append(repository)
            return self._shown(repository)
        key = parts[2].lower()
        found = next((r for r in mine if key in (r["id"], r["name"].lower())), None)
        if found is None:
            raise _error(404, f"TF401019: The Git repository with name or identifier {parts[2]} "
                         "does not exist or you do not have permissions.")  # fmt: skip
        if len(parts) > 3:  # /items: what main holds
            if query.get("path", "").lstrip("/") not in found["files"]:
                raise _error(404, f"TF401174: The item {query.get('path')} could not be found.")
            return {"path": query["path"], "objectId": uuid.uuid4().hex}
        return self._shown(found)

    @staticmethod
    def _shown(repository: dict) -> dict:
        return {key: value for key, value in repository.items() if key != "files"}

    def _pipelines(self, method, project, parts, query, body):
        mine = [p for p in self.pipelines if p["project"] == project["id"]]
        if len(parts) > 2 and parts[2] == "runs":
            return self._stored(self.runs, {"pipeline": int(parts[1]), **(body or {})})
        if method == "POST":
            return self._stored(self.pipelines, {**body, "project": project["id"]})
        return _listed(mine)

    def _policies(self, method, project, parts, query, body):
        if method == "POST":
            return self._stored(self.policies, {**body, "project": project["id"]})
        if method == "PUT":
            (found,) = [p for p in self.policies if str(p["id"]) == parts[2]]
            found.update(body)
            return found
        value = [p for p in self.policies if p["project"] == project["id"]
                 and p["type"]["id"] == query.get("policyType", p["type"]["id"])]  # fmt: skip
        return _listed(value)

    def _general_settings(self, method, project, parts, query, body):
        if method == "PATCH":
            self.settings[project["id"]].update(body)
        return self.settings[project["id"]]

    def _environments(self, method, project, parts, query, body):
        mine = [e for e in self.environments if e["project"]["id"] == project["id"]]
        if method == "POST":
            return self._stored(self.environments, {**body, "project": {"id": project["id"]}})
        value = [e for e in mine if e["name"] == query.get("name", e["name"])]
        return _listed(value)

    def _checks(self, method, project, parts, query, body):
        if method == "POST":
            return self._stored(self.checks, {**body, "project": project["id"]})
        if method == "PATCH":
            (found,) = [c for c in self.checks if str(c["id"]) == parts[3]]
            found.update(body)
            return found
        value = [
            c for c in self.checks
            if c["project"] == project["id"]
            and c["resource"]["type"] == query.get("resourceType", c["resource"]["type"])
            and str(c["resource"]["id"]) == query.get("resourceId", str(c["resource"]["id"]))
        ]  # fmt: skip
        # A check's settings come back only when asked for ($expand=settings:
        # CheckConfigurationExpandParameter).
        if query.get("$expand") != "settings" and applies("devops.checks-expand"):
            value = [{k: v for k, v in c.items() if k != "settings"} for c in value]
        return _listed(value)

    def _endpoints(self, method, project, parts, query, body):
        return _named(self.endpoints, "project", project, query.get("endpointNames", ""))

    def _queues(self, method, project, parts, query, body):
        return _named(self.queues, "projectId", project, query.get("queueNames", ""))

    def _permissions(self, method, project, parts, query, body):
        key = (project["id"], parts[2].lower(), parts[3])
        # A new resource is permitted to no pipeline: a run that uses it waits on "Permit".
        now = self.permissions.setdefault(key, {
            "resource": {"type": parts[2], "id": parts[3]},
            "allPipelines": {"authorized": not applies("devops.pipeline-permissions")},
            "pipelines": [],
        })  # fmt: skip
        if method == "PATCH":
            if "allPipelines" in body:
                now["allPipelines"] = body["allPipelines"]
            for change in body.get("pipelines", []):
                kept = [p for p in now["pipelines"] if str(p["id"]) != str(change["id"])]
                now["pipelines"] = [*kept, change]
        return now


def _listed(value: list) -> dict:
    """A list answer, as Azure's REST API gives one."""
    return {"count": len(value), "value": value}


def _named(items: list, project_key: str, project: dict, names: str) -> dict:
    """The project's items among the comma-separated `names`."""
    wanted = names.split(",")
    return _listed([i for i in items if i[project_key] == project["id"] and i["name"] in wanted])
