"""An Azure Artifacts feed emulator for uv, served on 127.0.0.1 (standard library only).

It reproduces what uv can observe of a real feed; each behaviour, with its public source
and the test that pins it, is in azure_standins/BEHAVIOURS.md. In short:

- URL layout: project-scoped `/{org}/{project}/_packaging/{feed}/pypi/simple/`,
  organization-scoped `/{org}/_packaging/{feed}/pypi/simple/`, uploads on `.../pypi/upload/`,
  several feeds on one server, project names with spaces percent-encoded.
- Authentication: HTTP Basic, any user name, the feed's token as password. Anything else
  gets 401 with Azure's two WWW-Authenticate headers and its TF400813 JSON body.
- Simple API: PEP 503 HTML only, links with `#sha256=`, no PEP 658 metadata; names are
  normalized and a non-normalized project URL redirects to the normalized one.
- Downloads: absolute links under `/{org}/{projectGUID}/_packaging/{feedGUID}/pypi/download/
  {name}/{version}/{file}`, outside the index prefix. HEAD answers 405; GET answers 303 to a
  pre-signed blob URL on another origin, and the blob store rejects any request that carries
  an Authorization header.
- Uploads (the legacy API `uv publish` speaks): a file name that is not a wheel or sdist, a
  missing `name`, `version` or `sha256_digest`, fields that disagree with the file name, a
  sha256 that does not match, or a file that is not the archive its name says get 400; a
  file that exists gets 409 with Azure's message; versions are immutable, so a deleted
  version cannot come back.
- Upstream: a package the feed does not hold comes from a read-only wheelhouse, as PyPI
  packages come through a feed's upstream source; a package published to the feed hides the
  upstream one of the same name. A version downloaded through the feed is saved in it.
- The Artifacts REST API's package list (`.../_apis/packaging/Feeds/{feed}/packages`, on
  feeds.dev.azure.com or a server's collection): each version published to the feed, and
  each one saved from the upstream source, which names that source
  (`directUpstreamSourceId`).

Every request is recorded with its kind, so tests can assert what uv did.

Start one by hand; it prints the complete render command of a project that works against it:

    uv run python -m azure_standins.feed_emulator
"""

import argparse
import base64
import email.parser
import email.policy
import hashlib
import hmac
import html
import io
import json
import re
import secrets
import shlex
import ssl
import sys
import tarfile
import threading
import time
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from azure_standins.rules import applies
from azure_standins.template_facts import EXAMPLE_ANSWERS, EXAMPLE_PROJECT, TEMPLATE_ROOT
from azure_standins.wheelhouse import upstream_wheelhouse

# How the README runs Copier: with the template's two Jinja extensions.
COPIER_COMMAND = "uvx --with jinja2-time --with copier-template-extensions copier"

UNAUTHORIZED_BODY = {
    "$id": "1",
    "innerException": None,
    "message": "TF400813: Resource not available for anonymous access. "
    "Client authentication required.",
    "typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, "
    "Microsoft.TeamFoundation.Framework.Server",
    "typeKey": "UnauthorizedRequestException",
    "errorCode": 0,
    "eventId": 3000,
}
UNAUTHORIZED_HEADERS = [
    (
        "WWW-Authenticate",
        "Bearer authorization_uri=https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000",
    ),
    ("WWW-Authenticate", 'Basic realm="https://pkgsprodsu3.pkgs.visualstudio.com/"'),
    ("X-TFS-FedAuthRealm", "https://pkgsprodsu3.pkgs.visualstudio.com/"),
]
# Feed roles (Microsoft Learn, "Manage permissions" for feeds): what each may do here.
COLLABORATOR = "Feed and Upstream Reader (Collaborator)"  # read, and save from upstream
CONTRIBUTOR = "Feed Publisher (Contributor)"  # and publish
DISTRIBUTION = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-.*\.whl|\.tar\.gz|\.zip)$")


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_filename(filename: str) -> tuple[str, str]:
    """(normalized name, version) of a wheel or sdist file name."""
    match = DISTRIBUTION.match(filename)
    if not match:
        raise ValueError(f"not a distribution file name: {filename}")
    return normalize(match["name"]), match["version"]


@dataclass
class StoredFile:
    filename: str
    version: str
    data: bytes

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Feed:
    organization: str
    project: str | None
    name: str
    token: str
    upstream: Path | None = None
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    project_guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    # normalized name -> filename -> file; only what was published to this feed
    packages: dict[str, dict[str, StoredFile]] = field(default_factory=dict)
    deleted_versions: set[tuple[str, str]] = field(default_factory=set)
    # (normalized name, version) of the upstream source's versions saved in the feed
    saved: set[tuple[str, str]] = field(default_factory=set)
    upstream_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Who may do what: token -> role. The feed's own token is a developer's PAT with
    # Feed Publisher; identity() adds others, such as a pipeline's build service, by name.
    roles: dict[str, str] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)  # name -> token

    def __post_init__(self) -> None:
        self.roles.setdefault(self.token, CONTRIBUTOR)

    def identity(self, name: str, role: str) -> str:
        """The token of the identity `name`, which holds `role` on this feed (COLLABORATOR:
        Feed and Upstream Reader; CONTRIBUTOR: Feed Publisher); made on first use."""
        if name not in self.identities:
            self.identities[name] = secrets.token_urlsafe(24)
            self.roles[self.identities[name]] = role
        return self.identities[name]

    def _path(self, project_segment: str | None, feed_segment: str) -> str:
        scope = f"/{quote(self.organization)}"
        if self.project:
            scope += f"/{project_segment}"
        return f"{scope}/_packaging/{feed_segment}/pypi"

    @property
    def prefix(self) -> str:
        """Path of the feed's PyPI endpoints, percent-encoded as a client sends it."""
        if not applies("feed.url-layout"):
            return self._path(self.project or "", self.name)
        return self._path(quote(self.project or ""), quote(self.name))

    @property
    def api_prefix(self) -> str:
        """Path of the feed in the Artifacts REST API (Feeds/{name} or Feeds/{id})."""
        scope = self._path(quote(self.project or ""), "").removesuffix("/_packaging//pypi")
        return f"{scope}/_apis/packaging/feeds/"

    @property
    def download_prefix(self) -> str:
        """Where files are served: GUIDs instead of names, outside the index prefix."""
        if not applies("feed.download-links"):
            return self.prefix + "/download"
        return self._path(self.project_guid, self.guid) + "/download"

    @cached_property
    def _upstream(self) -> dict[str, list[StoredFile]]:
        """The upstream source's files by project, read once: the wheelhouse never changes."""
        by_project: dict[str, list[StoredFile]] = {}
        for path in sorted(self.upstream.glob("*") if self.upstream else []):
            try:
                name, version = parse_filename(path.name)
            except ValueError:
                continue
            by_project.setdefault(name, []).append(
                StoredFile(path.name, version, path.read_bytes())
            )
        return by_project

    def files(self, project: str) -> list[StoredFile]:
        """Files of a project: published ones first; else those from the upstream source."""
        if project in self.packages:
            published = list(self.packages[project].values())
            if not applies("feed.lookup-order"):
                return published + self._upstream.get(project, [])
            return published
        return self._upstream.get(project, [])

    def published_files(self) -> set[str]:
        """Names of the files published to this feed (not those from upstream)."""
        return {name for files in self.packages.values() for name in files}

    def project_names(self) -> list[str]:
        return sorted(set(self.packages) | set(self._upstream))

    def find(self, project: str, version: str, filename: str) -> StoredFile | None:
        for stored in self.files(project):
            if stored.version == version and stored.filename == filename:
                return stored
        return None

    def delete_version(self, project: str, version: str) -> None:
        """What deleting a version in the Azure DevOps UI does: it can never come back."""
        files = self.packages.get(normalize(project), {})
        for filename in [f for f, stored in files.items() if stored.version == version]:
            del files[filename]
        if not files:
            self.packages.pop(normalize(project), None)
        self.deleted_versions.add((normalize(project), version))


@dataclass
class Request:
    kind: str
    method: str
    path: str
    status: int


class Response(Exception):
    """Raised by a handler to answer at once."""

    def __init__(self, status: str, body: bytes = b"", headers: list | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or []


def json_response(status: str, body: dict, headers: list | None = None) -> Response:
    content = json.dumps(body).encode()
    return Response(
        status, content, [("Content-Type", "application/json; charset=utf-8"), *(headers or [])]
    )


class FeedEmulator:
    """One server holding any number of feeds, plus a blob store on a second port."""

    def __init__(self, latency: float = 0.0) -> None:
        self.feeds: list[Feed] = []
        self.requests: list[Request] = []
        self.latency = latency
        # A server's Build REST API (build_api.py), where AzureHosts serves one.
        self.build_api = None
        self._lock = threading.Lock()
        self._blob_key = secrets.token_bytes(16)
        self._servers: list[WSGIServer] = []
        self.url = ""
        self.blob_url = ""

    # -- setup ------------------------------------------------------------------------
    def add_feed(
        self,
        organization: str,
        name: str,
        project: str | None = None,
        upstream: Path | None = None,
        token: str | None = None,
    ) -> Feed:
        feed = Feed(organization, project, name, token or secrets.token_urlsafe(24), upstream)
        self.feeds.append(feed)
        return feed

    def start(self, tls=None, url: str = "", blob_url: str = "") -> "FeedEmulator":
        """Serve on two local ports. With `tls` (an ssl.SSLContext) both speak HTTPS, and
        `url` and `blob_url` name the hosts clients reach them by (azure_hosts.py)."""
        for app in (self.feed_app, self.blob_app):
            server = make_server("127.0.0.1", 0, app, ThreadingWSGIServer, QuietHandler)
            server.tls = tls
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            self._servers.append(server)
        feed_port, blob_port = self.ports
        self.url = url or f"http://127.0.0.1:{feed_port}"
        self.blob_url = blob_url or f"http://127.0.0.1:{blob_port}"
        return self

    @property
    def ports(self) -> tuple[int, int]:
        """The local ports of the feed and of the blob store."""
        return tuple(server.server_port for server in self._servers)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def feed(self, name: str) -> Feed:
        return next(feed for feed in self.feeds if feed.name == name)

    def index_url(self, feed: Feed, username: str | None = None) -> str:
        user = f"{username}@" if username else ""
        return f"{self.url.replace('://', '://' + user)}{feed.prefix}/simple/"

    # -- what happened -----------------------------------------------------------------
    def counts(self) -> Counter:
        with self._lock:
            return Counter(request.kind for request in self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, kind: str, environ: dict, status: str) -> None:
        with self._lock:
            self.requests.append(
                Request(
                    kind, environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), int(status[:3])
                )
            )

    # -- the feed ----------------------------------------------------------------------
    def feed_app(self, environ, start_response):
        environ["emulator.tls"] = self._servers[0].tls is not None
        if self.latency:
            time.sleep(self.latency)
        try:
            response = self._route(environ)
        except Response as answer:
            response = answer
        kind = environ.get("emulator.kind", "other")
        if response.status.startswith("401"):
            kind = "unauthorized"
        self._record(kind, environ, response.status)
        start_response(
            response.status, [("Content-Length", str(len(response.body))), *response.headers]
        )
        return [response.body]

    def _route(self, environ) -> Response:
        path = _raw_path(environ)
        if self.build_api is not None and self.build_api.handles(path):
            # A server serves its collections' REST API beside their feeds (build_api.py).
            environ["emulator.kind"] = "build-api"
            status, body = self.build_api.answer(environ)
            return Response(status, body, [("Content-Type", "application/json")])
        for feed in self.feeds:
            if path.startswith(feed.prefix + "/"):
                rest = path[len(feed.prefix) + 1 :]
                if rest in ("simple", "simple/"):
                    environ["emulator.kind"] = "simple"
                    self._authenticate(feed, environ)
                    return self._root_page(feed)
                if rest.startswith("simple/"):
                    environ["emulator.kind"] = "simple"
                    self._authenticate(feed, environ)
                    return self._project_page(feed, rest[len("simple/") :], _origin(environ))
                if rest.rstrip("/") == ("upload" if applies("feed.upload-path") else "legacy"):
                    environ["emulator.kind"] = "upload"
                    role = self._authenticate(feed, environ) if applies("feed.upload-auth") else ""
                    if role == COLLABORATOR and applies("feed.roles"):
                        raise json_response("403 Forbidden", _needs_permission("AddPackage"))
                    return self._upload(feed, environ)
            if path.lower().startswith(feed.api_prefix.lower()) and applies("feed.packages-api"):
                rest = path[len(feed.api_prefix) :]
                if rest.split("/")[0] in (feed.name, feed.guid) and rest.endswith("/packages"):
                    environ["emulator.kind"] = "packages"
                    self._authenticate(feed, environ)
                    return self._packages(feed, environ)
            if path.startswith(feed.download_prefix + "/"):
                environ["emulator.kind"] = "download"
                self._authenticate(feed, environ)
                return self._download(feed, environ, path[len(feed.download_prefix) + 1 :])
        # Azure's words for a feed it does not have (microsoft/azure-pipelines-artifact-
        # caching-tasks issues 36 and 42).
        feed_name = path.split("/_packaging/", 1)[-1].split("/", 1)[0]
        raise json_response(
            "404 Not Found", {"message": f"The feed with ID '{feed_name}' doesn't exist."}
        )

    def _authenticate(self, feed: Feed, environ) -> str:
        """The role of the identity the request signs in as; 401 for none."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            try:
                _, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                password = ""
            for token, role in feed.roles.items():
                if hmac.compare_digest(password, token):
                    return role
            if not applies("feed.basic-auth"):
                return CONTRIBUTOR
        if not applies("feed.401-challenge"):
            raise Response("401 Unauthorized")
        raise json_response("401 Unauthorized", UNAUTHORIZED_BODY, UNAUTHORIZED_HEADERS)

    def _root_page(self, feed: Feed) -> Response:
        links = "".join(f'<a href="{name}/">{name}</a><br/>\n' for name in feed.project_names())
        return _html(f"<html><body>\n{links}</body></html>")

    def _project_page(self, feed: Feed, rest: str, origin: str) -> Response:
        name = rest.rstrip("/")
        if not applies("feed.normalized-names"):
            name = normalize(name)
        elif normalize(name) != name or not rest.endswith("/"):
            location = f"{origin}{feed.prefix}/simple/{normalize(name)}/"
            raise Response("301 Moved Permanently", b"", [("Location", location)])
        files = feed.files(name)
        if not files:
            raise json_response(
                "404 Not Found",
                {"message": f"The package '{name}' wasn't found in the feed '{feed.name}'."},
            )
        links = "".join(
            f'<a href="{origin}{feed.download_prefix}/{name}/{stored.version}/{stored.filename}'
            f'{"#sha256=" + stored.sha256 if applies("feed.pep503-page") else ""}">'
            f"{html.escape(stored.filename)}</a><br/>\n"
            for stored in files
        )
        return _html(
            f"<html><head><title>Links for {name}</title></head><body>\n{links}</body></html>"
        )

    def _packages(self, feed: Feed, environ) -> Response:
        """REST "Artifact Details - Get Packages" (protocolType, normalizedPackageName): the
        versions published to the feed, and those saved from its upstream source, which
        name it as their directUpstreamSourceId."""
        query = dict(
            part.split("=", 1) for part in environ.get("QUERY_STRING", "").split("&") if "=" in part
        )
        if query.get("protocolType", "PyPI").lower() != "pypi":
            raise json_response("200 OK", {"count": 0, "value": []})
        wanted = query.get("normalizedPackageName")
        names = {name for name, _ in feed.saved} | set(feed.packages)
        packages = []
        for name in sorted(names if wanted is None else names & {normalize(wanted)}):
            local = {stored.version for stored in feed.packages.get(name, {}).values()}
            saved = {version for saved_name, version in feed.saved if saved_name == name}
            versions = [{"version": v, "normalizedVersion": v} for v in sorted(local)]
            versions += [
                {"version": v, "normalizedVersion": v, "directUpstreamSourceId": feed.upstream_id}
                for v in sorted(saved - local)
            ]
            packages.append(
                {"name": name, "normalizedName": name, "protocolType": "PyPI", "versions": versions}
            )
        raise json_response("200 OK", {"count": len(packages), "value": packages})

    def _download(self, feed: Feed, environ, rest: str) -> Response:
        if environ["REQUEST_METHOD"] == "HEAD" and applies("feed.download-redirect"):
            raise Response("405 Method Not Allowed", b"", [("Allow", "GET")])
        project, version, filename = rest.split("/", 2)
        stored = feed.find(project, version, filename)
        if stored is None:
            raise json_response("404 Not Found", {"message": f"{filename} not found"})
        if filename not in feed.packages.get(project, {}):
            feed.saved.add((project, version))  # an upstream version, saved on first use
        if not applies("feed.download-redirect"):
            raise Response("200 OK", stored.data, [("Content-Type", "application/octet-stream")])
        blob = f"/{feed.guid}/{project}/{version}/{filename}"
        signature = hmac.new(self._blob_key, blob.encode(), "sha256").hexdigest()
        location = f"{self.blob_url}{blob}?sv=2019-07-07&se=2099-01-01&sp=r&sig={signature}"
        headers = [("Location", location)]
        if not applies("feed.no-cache-headers"):
            headers.append(("Cache-Control", "max-age=31536000, immutable"))
        return Response("303 See Other", b"", headers)

    def _upload(self, feed: Feed, environ) -> Response:
        if environ["REQUEST_METHOD"] != "POST":
            raise Response("405 Method Not Allowed", b"", [("Allow", "POST")])
        form = _multipart(environ)
        content = form.get("content")
        if not isinstance(content, tuple):
            raise json_response("400 Bad Request", {"message": "No file in the upload."})
        filename, data = content
        project, version = _check_upload(form, filename, data)
        if (project, version) in feed.deleted_versions and applies("feed.immutable-versions"):
            raise json_response(
                "409 Conflict",
                {
                    "message": f"The version {version} of package '{project}' has been deleted "
                    f"from the feed '{feed.name}' and cannot be published again."
                },
            )
        existing = feed.packages.get(project, {})
        if filename in existing and applies("feed.conflict"):
            raise json_response(
                "409 Conflict",
                {
                    "message": f"The feed '{feed.name}' already contains file '{filename}' "
                    f"in package '{project} {version}'.",
                    "typeKey": "PackageExistsException",
                },
            )
        feed.packages.setdefault(project, {})[filename] = StoredFile(filename, version, data)
        return Response("200 OK", b"OK", [("Content-Type", "text/plain")])

    # -- the blob store ----------------------------------------------------------------
    def blob_app(self, environ, start_response):
        if self.latency:
            time.sleep(self.latency)
        response = self._blob(environ)
        self._record("blob", environ, response.status)
        start_response(
            response.status, [("Content-Length", str(len(response.body))), *response.headers]
        )
        return [response.body]

    def _blob(self, environ) -> Response:
        if environ.get("HTTP_AUTHORIZATION") and applies("feed.blob-refuses-authorization"):
            body = (
                b'<?xml version="1.0" encoding="utf-8"?><Error>'
                b"<Code>InvalidAuthenticationInfo</Code><Message>Authentication information "
                b"is not given in the correct format.</Message></Error>"
            )
            return Response(
                "400 Authentication information is not given in the correct format",
                body,
                [("Content-Type", "application/xml")],
            )
        path = _raw_path(environ)
        query = dict(
            p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p
        )
        expected = hmac.new(self._blob_key, path.encode(), "sha256").hexdigest()
        if not hmac.compare_digest(query.get("sig", ""), expected):
            return Response("403 Server failed to authenticate the request", b"")
        feed_guid, project, version, filename = path.lstrip("/").split("/", 3)
        for feed in self.feeds:
            if feed.guid == feed_guid and (stored := feed.find(project, version, filename)):
                return Response(
                    "200 OK", stored.data, [("Content-Type", "application/octet-stream")]
                )
        return Response("404 The specified blob does not exist.", b"")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False  # stopping never waits for a client's open connection
    tls = None

    def finish_request(self, request, client_address) -> None:
        # The TLS handshake happens here, in the request's own thread.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        # A client that drops its connection mid-request is no fault of the feed's.
        if not isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
            super().handle_error(request, client_address)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        pass


def _needs_permission(permission: str) -> dict:
    """Azure's refusal of an identity whose role lacks `permission`."""
    return {
        "$id": "1",
        "innerException": None,
        "message": f"User '{uuid.uuid4()}' lacks permission to complete this action. "
        f"You need to have '{permission}'.",
        "typeName": "Microsoft.VisualStudio.Services.Feed.WebApi.FeedNeedsPermissionsException,"
        " Microsoft.VisualStudio.Services.Feed.WebApi",
        "typeKey": "FeedNeedsPermissionsException",
        "errorCode": 0,
        "eventId": 3000,
    }


def _origin(environ) -> str:
    """Scheme and host the client asked for: Azure's links are absolute, on that host."""
    scheme = "https" if environ.get("emulator.tls") else "http"
    return f"{scheme}://{environ['HTTP_HOST']}"


def _raw_path(environ) -> str:
    """The path as the client sent it (WSGI decodes %20; Azure routes on the encoded form)."""
    return quote(environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8"))


def _html(text: str) -> Response:
    return Response("200 OK", text.encode(), [("Content-Type", "text/html; charset=utf-8")])


def _multipart(environ) -> dict:
    """Fields of a multipart/form-data body: text values, and (filename, bytes) for files."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    head = f"Content-Type: {environ.get('CONTENT_TYPE', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[name] = (filename, payload) if filename else payload.decode()
    return fields


REQUIRED_UPLOAD_FIELDS = ("name", "version", "sha256_digest")


def _bad_upload(message: str) -> Response:
    return json_response("400 Bad Request", {"message": message})


def _check_upload(form: dict, filename: str, data: bytes) -> tuple[str, str]:
    """(project, version) of an upload the legacy upload API accepts; 400 otherwise.

    The fields and checks are the upload API's (docs.pypi.org/api/upload).
    """
    try:
        project, version = parse_filename(filename)
    except ValueError:
        raise _bad_upload(f"Invalid file name: {filename} is not a wheel or an sdist.") from None
    if not applies("feed.upload-fields"):
        return project, version
    missing = [name for name in REQUIRED_UPLOAD_FIELDS if not form.get(name)]
    if missing:
        raise _bad_upload(f"Missing required field(s): {', '.join(missing)}.")
    if normalize(form["name"]) != project or form["version"] != version:
        raise _bad_upload(
            f"The name and version fields ({form['name']} {form['version']}) do not match "
            f"the file {filename}."
        )
    if form["sha256_digest"] != hashlib.sha256(data).hexdigest() and applies("feed.upload-sha256"):
        raise _bad_upload("The sha256 digest does not match the file.")
    if not _is_archive(filename, data):
        raise _bad_upload(f"Invalid distribution file: {filename} is not a valid archive.")
    # Core Metadata versions and local versions: no public source shows what today's Azure
    # refuses (it named 1.0 to 2.1 when it refused 2.3 in March 2024, uv issue 2414, and took
    # 2.3 later), so the emulator refuses none; the template's check_upload.py keeps its own
    # caution about them.
    return project, version


def _is_archive(filename: str, data: bytes) -> bool:
    """A wheel is a zip holding .dist-info/METADATA; an sdist a gzipped tar (or a zip)."""
    try:
        if filename.endswith(".whl"):
            with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                return any(n.endswith(".dist-info/METADATA") for n in wheel.namelist())
        if filename.endswith(".zip"):
            return zipfile.is_zipfile(io.BytesIO(data))
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as sdist:
            return bool(sdist.getnames())
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError):
        return False


def render_command(emulator: "FeedEmulator", feed: Feed, python_version: str) -> str:
    """The complete `copier copy` of a project that works against `feed` on `emulator`."""
    answers = {
        **EXAMPLE_ANSWERS,
        "azure_host": emulator.url,
        "azure_organization": feed.organization,
        "azure_project": feed.project or "",
        "azure_feed": feed.name,
        "python_version": python_version,
        "python_floor": python_version,
    }
    data = " ".join(
        f"--data {shlex.quote(f'{key}={str(value).lower() if isinstance(value, bool) else value}')}"
        for key, value in answers.items()
    )
    return f"{COPIER_COMMAND} copy --trust --defaults {data} {shlex.quote(str(TEMPLATE_ROOT))}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve an emulated Azure Artifacts feed.")
    parser.add_argument("--organization", default=EXAMPLE_ANSWERS["azure_organization"])
    parser.add_argument(
        "--project", default=EXAMPLE_PROJECT, help='"" for an organization-scoped feed'
    )
    parser.add_argument("--feed", default=EXAMPLE_ANSWERS["azure_feed"])
    parser.add_argument("--token", default=None, help="the PAT to accept (default: random)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()
    # The upstream holds platform wheels for the Python running this command, so the
    # project must be rendered for that Python.
    python_version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    emulator = FeedEmulator(latency=args.latency)
    feed = emulator.add_feed(
        args.organization,
        args.feed,
        args.project or None,
        upstream_wheelhouse(python_version),
        args.token,
    )
    emulator.start()
    env_prefix = "UV_INDEX_AZURE_DEVOPS"
    print(
        f"Azure Artifacts feed emulator at {emulator.url} (Ctrl-C stops)\n"
        f"  index URL: {emulator.index_url(feed, 'VssSessionToken')}\n"
        f"  upstream:  wheels for Python {python_version} from {feed.upstream}\n\n"
        "Render a project that works against it:\n"
        f"  {render_command(emulator, feed, python_version)} ../contoso-widgets\n\n"
        "In the project, give uv the feed's token the way the pipeline does, then lock:\n"
        f"  export UV_KEYRING_PROVIDER=disabled {env_prefix}_USERNAME=VssSessionToken "
        f"{env_prefix}_PASSWORD={feed.token}\n"
        "  uv lock && uv sync && uv run pytest",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
