"""The part of Azure DevOps' Build REST API a release uses: retention leases, which keep a run
(and its artifacts) past the project's retention policy.

`POST {collection}/{project}/_apis/build/retention/leases?api-version=7.1` with a JSON list
of leases (`definitionId`, `runId`, `ownerId`, `daysValid`, `protectPipeline`), signed in with
the job's token, as Microsoft's example step does (Microsoft Learn, "Set retention policies
for builds, releases, and tests", retention leases; REST "Leases - Add"). `GET` on the same
path lists them. Served on the collection's host: dev.azure.com (azure_repos.py) or a server
(feed_emulator.py).
"""

import base64
import json
from dataclasses import dataclass, field

from azure_standins.rules import applies

PATH = "/_apis/build/retention/leases"
FIELDS = ("definitionId", "runId", "ownerId", "daysValid", "protectPipeline")


@dataclass
class BuildApi:
    """Leases by run, and the job tokens that may add them."""

    leases: list[dict] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    def accept(self, token: str) -> None:
        """A pipeline's job token, which may add leases."""
        self.tokens.add(token)

    @staticmethod
    def handles(path: str) -> bool:
        return path.rstrip("/").endswith(PATH)

    def answer(self, environ) -> tuple[str, bytes]:
        """(status, JSON body) for a request to the leases path."""
        if not self._signed_in(environ.get("HTTP_AUTHORIZATION", "")):
            return "401 Unauthorized", b""
        if environ["REQUEST_METHOD"] == "GET":
            return "200 OK", json.dumps({"count": len(self.leases), "value": self.leases}).encode()
        if environ["REQUEST_METHOD"] != "POST":
            return "405 Method Not Allowed", b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            asked = json.loads(environ["wsgi.input"].read(length))
            new = [{key: lease[key] for key in FIELDS} for lease in asked]
        except (ValueError, TypeError, KeyError):
            return "400 Bad Request", json.dumps({"message": "Invalid leases."}).encode()
        for number, lease in enumerate(new, start=len(self.leases) + 1):
            lease["leaseId"] = number
        self.leases.extend(new)
        return "200 OK", json.dumps({"count": len(new), "value": new}).encode()

    def _signed_in(self, header: str) -> bool:
        if not applies("build.lease-auth"):
            return True
        if header.startswith("Bearer "):
            return header[7:] in self.tokens
        if header.startswith("Basic "):
            try:
                password = base64.b64decode(header[6:]).decode().partition(":")[2]
            except ValueError:
                return False
            return password in self.tokens
        return False
