"""The Build REST API: retention leases, as a release step adds them with the job's token, and
the record of a run, as a release step reads it."""

import base64
import io
import json

from azure_standins.build_api import BuildApi
from azure_standins.pipeline.results import RunResult, Runs

LEASE = {
    "definitionId": 7,
    "runId": 42,
    "ownerId": "User:x",
    "daysValid": 365,
    "protectPipeline": False,
}


def call(api: BuildApi, method: str, authorization: str = "", body: object = None, path=""):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "PATH_INFO": path or "/contoso/Widgets/_apis/build/retention/leases",
        "REQUEST_METHOD": method,
        "HTTP_AUTHORIZATION": authorization,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    status, answer = api.answer(environ)
    return int(status[:3]), json.loads(answer) if answer else None


def test_the_job_token_adds_a_lease_and_no_other_caller_does():
    api = BuildApi()
    api.accept("job-token")
    assert call(api, "POST", "", [LEASE])[0] == 401
    assert call(api, "POST", "Bearer someone-else", [LEASE])[0] == 401
    assert api.leases == []
    status, added = call(api, "POST", "Bearer job-token", [LEASE])
    assert status == 200 and added["value"][0]["runId"] == 42
    basic = "Basic " + base64.b64encode(b"x:job-token").decode()
    status, listed = call(api, "GET", basic)
    assert status == 200 and [lease["runId"] for lease in listed["value"]] == [42]
    assert call(api, "POST", "Bearer job-token", [{"runId": 1}])[0] == 400


def test_the_job_token_reads_what_azure_recorded_of_a_run_and_no_other_caller_does():
    runs = Runs()
    run = RunResult(
        triggered=True,
        pipeline="contoso-widgets",
        run_id=12,
        reason="Manual",
        source_branch="refs/heads/main",
        commit="0123abc",
        queued_with={"system.debug": "true"},
    )
    runs.add(run)
    api = BuildApi(runs=runs)
    api.accept("job-token")
    path = "/contoso/Widgets/_apis/build/builds/12"
    assert call(api, "GET", "Bearer someone-else", path=path)[0] == 401
    status, record = call(api, "GET", "Bearer job-token", path=path)
    assert status == 200
    assert record["definition"] == {"id": 1, "name": "contoso-widgets"}
    assert (record["reason"], record["status"], record["result"]) == (
        "manual",
        "completed",
        "succeeded",
    )
    assert (record["sourceBranch"], record["sourceVersion"]) == ("refs/heads/main", "0123abc")
    assert json.loads(record["parameters"]) == {"system.debug": "true"}
    assert call(api, "GET", "Bearer job-token", path=path.replace("12", "13"))[0] == 404
