"""Azure Repos' git over HTTPS for the repositories tests make: git's own http-backend behind
the URL layout and the sign-in of Azure Repos, served as https://dev.azure.com by
azure_hosts.py.

- URLs: `/{organization}/{project}/_git/{repository}`, the clone URL Azure Repos shows
  (https://learn.microsoft.com/en-us/azure/devops/repos/git/clone).
- Sign-in: HTTP Basic, any user name, a personal access token or a pipeline's job access
  token as the password, or the token as the user name with no password
  (https://learn.microsoft.com/en-us/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate);
  or a Bearer token, as a pipeline's checkout sends the job's.
  Without credentials: 401 with a Basic challenge, so git asks its credential helper.
- Who may do what: a token reaches the repositories its identity was given, to read or to
  push. Any other repository is one it cannot see: 404 and TF401019, as Azure Repos answers
  (https://learn.microsoft.com/en-us/azure/devops/pipelines/process/access-tokens#job-authorization-scope).
"""

import base64
import secrets
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from wsgiref.simple_server import make_server

from azure_standins.feed_emulator import QuietHandler, ThreadingWSGIServer
from azure_standins.rules import applies

READ, PUSH = "read", "push"


@dataclass
class Identity:
    name: str
    token: str
    # "{organization}/{project}/{repository}" -> READ or PUSH
    access: dict[str, str] = field(default_factory=dict)


class AzureRepos:
    """Repositories by their Azure Repos path, and the identities that may reach them."""

    def __init__(self) -> None:
        self.repositories: dict[str, Path] = {}
        self.identities: list[Identity] = []
        self.url = ""
        self._server = None
        # The collection's Build REST API (build_api.py), served beside its git.
        self.build_api = None

    def add(self, organization: str, project: str, name: str, path: Path) -> str:
        """Serve the git repository at `path` (a work tree or a bare one); its clone URL."""
        key = f"{organization}/{project}/{name}"
        self.repositories[key] = path
        return f"{self.url}/{organization}/{project}/_git/{name}"

    def identity(self, name: str, **access: str) -> str:
        """A token for an identity with `access` ("org/project/repo"=READ or PUSH, given
        with "/" as "__"); returns the token."""
        token = secrets.token_urlsafe(24)
        grants = {key.replace("__", "/"): level for key, level in access.items()}
        self.identities.append(Identity(name, token, grants))
        return token

    # -- the server -----------------------------------------------------------------------
    def start(self, tls=None, url: str = "") -> "AzureRepos":
        server = make_server("127.0.0.1", 0, self.app, ThreadingWSGIServer, QuietHandler)
        server.tls = tls
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        self._server = server
        self.url = url or f"http://127.0.0.1:{server.server_port}"
        return self

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.build_api is not None and self.build_api.handles(path):
            status, body = self.build_api.answer(environ)
            return _answer(start_response, status, body)
        parts = path.strip("/").split("/", 4)
        if len(parts) < 4 or parts[2] != "_git":
            return _answer(start_response, "404 Not Found", b"")
        organization, project, _, name = parts[:4]
        service_path = parts[4] if len(parts) == 5 else ""
        key = f"{organization}/{project}/{name}"
        if key not in self.repositories:
            return _answer(start_response, "404 Not Found", b"")
        identity = self._identity(environ.get("HTTP_AUTHORIZATION", ""))
        if identity is None:
            start_response(
                "401 Unauthorized",
                [
                    ("WWW-Authenticate", 'Basic realm="https://dev.azure.com/"'),
                    ("Content-Length", "0"),
                ],
            )
            return [b""]
        pushing = "git-receive-pack" in path or "git-receive-pack" in environ.get(
            "QUERY_STRING", ""
        )
        granted = identity.access.get(key)
        if applies("repos.access") and (granted is None or (pushing and granted != PUSH)):
            message = (
                f"TF401019: The Git repository with name or identifier {name} does not exist "
                "or you do not have permissions for the operation you are attempting."
            )
            return _answer(start_response, "404 Not Found", message.encode())
        return self._http_backend(environ, start_response, self.repositories[key], service_path)

    def _identity(self, header: str) -> Identity | None:
        """Whose token the AUTHORIZATION header carries: Basic with any user name and the
        token as the password, or Bearer (a pipeline's checkout). Schemes are
        case-insensitive (RFC 9110, 11.1): Renovate sends "basic"."""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            token = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credentials).decode().partition(":")
            except ValueError:
                return None
            token = password or user  # `https://{PAT}@dev.azure.com/...` works too
        else:
            return None
        return next((i for i in self.identities if i.token == token), None)

    @staticmethod
    def _http_backend(environ, start_response, repository: Path, service_path: str):
        """git http-backend, as a CGI program, for one repository."""
        git_dir = repository / ".git" if (repository / ".git").is_dir() else repository
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        cgi = {
            "GIT_PROJECT_ROOT": str(git_dir.parent),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{git_dir.name}/{service_path}",
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "azure-repos",  # lets the backend accept pushes
            "HTTP_CONTENT_ENCODING": environ.get("HTTP_CONTENT_ENCODING", ""),
            "GIT_PROTOCOL": environ.get("HTTP_GIT_PROTOCOL", ""),
            "PATH": "/usr/bin:/bin",
        }
        ran = subprocess.run(
            ["git", "http-backend"], input=body, env=cgi, capture_output=True, timeout=600
        )
        head, _, payload = ran.stdout.partition(b"\r\n\r\n")
        headers = [
            tuple(part.strip() for part in line.split(":", 1))
            for line in head.decode("latin-1").split("\r\n")
            if ":" in line
        ]
        status = next((value for key, value in headers if key.lower() == "status"), "200 OK")
        headers = [(key, value) for key, value in headers if key.lower() != "status"]
        start_response(status, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]


def _answer(start_response, status: str, body: bytes):
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
