"""The part of Azure DevOps' Build REST API a release uses: the record of a run, and retention
leases, which keep a run (and its artifacts) past the project's retention policy.

- `GET {collection}/{project}/_apis/build/builds/{buildId}` (REST "Builds - Get"): what Azure
  recorded of a run: its pipeline (`definition`), `reason`, `status` and `result`, the ref and
  commit it built (`sourceBranch`, `sourceVersion`), and `parameters`, a JSON text of the
  variables it was queued with (null when none). A run in progress has no result.
- `POST {collection}/{project}/_apis/build/retention/leases?api-version=7.1` with a JSON list
  of leases (`definitionId`, `runId`, `ownerId`, `daysValid`, `protectPipeline`), as
  Microsoft's example step does (Microsoft Learn, "Set retention policies for builds, releases,
  and tests", retention leases; REST "Leases - Add"). `GET` on the same path lists them.

Each answers a caller signed in with a pipeline's job token, and nobody else. Served on the
collection's host: dev.azure.com (azure_repos.py) or a server (feed_emulator.py).
"""

import json
import re
from dataclasses import dataclass, field

from azure_standins import presented_secret
from azure_standins.pipeline.results import RunResult, Runs
from azure_standins.rules import applies

PATH = "/_apis/build/retention/leases"
BUILD = re.compile(r"/_apis/build/builds/(\d+)/?$")
FIELDS = ("definitionId", "runId", "ownerId", "daysValid", "protectPipeline")
# Build.Reason's values as the REST API's BuildReason names them.
REASONS = {
    "Manual": "manual",
    "IndividualCI": "individualCI",
    "BatchedCI": "batchedCI",
    "PullRequest": "pullRequest",
    "ResourceTrigger": "resourceTrigger",
    "Schedule": "schedule",
}
RESULTS = {"succeeded": "succeeded", "failed": "failed"}


@dataclass
class BuildApi:
    """Leases by run, the project's runs, and the job tokens that may read and add them."""

    leases: list[dict] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    runs: Runs = field(default_factory=Runs)

    def accept(self, token: str) -> None:
        """A pipeline's job token, which may add leases."""
        self.tokens.add(token)

    @staticmethod
    def handles(path: str) -> bool:
        return path.rstrip("/").endswith(PATH) or BUILD.search(path) is not None

    def answer(self, environ) -> tuple[str, bytes]:
        """(status, JSON body) for a request to the leases path or a run's record."""
        if not self._signed_in(environ.get("HTTP_AUTHORIZATION", "")):
            return "401 Unauthorized", b""
        build = BUILD.search(environ.get("PATH_INFO", ""))
        if build:
            run = self.runs.by_id.get(int(build[1]))
            if run is None or environ["REQUEST_METHOD"] != "GET":
                return "404 Not Found", json.dumps({"message": "Build not found."}).encode()
            return "200 OK", json.dumps(self.record(run)).encode()
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

    def record(self, run: RunResult) -> dict:
        """What "Builds - Get" answers for a run (the fields of the REST spec's Build)."""
        finished = not run.state.get("running")
        return {
            "id": run.run_id,
            "buildNumber": run.name or str(run.run_id),
            "definition": {"id": self.runs.definition_id(run.pipeline), "name": run.pipeline},
            "reason": REASONS.get(run.reason, run.reason),
            "status": "completed" if finished else "inProgress",
            "result": RESULTS.get(run.status, "none") if finished else None,
            "sourceBranch": run.source_branch,
            "sourceVersion": run.commit,
            "parameters": json.dumps(run.queued_with) if run.queued_with else None,
        }

    def _signed_in(self, header: str) -> bool:
        if not applies("build.lease-auth"):
            return True
        return presented_secret(header) in self.tokens
