"""The Build REST API's retention leases, as a release step adds them with the job's token."""

import base64
import io
import json

from azure_standins.build_api import BuildApi

LEASE = {
    "definitionId": 7,
    "runId": 42,
    "ownerId": "User:x",
    "daysValid": 365,
    "protectPipeline": False,
}


def call(api: BuildApi, method: str, authorization: str = "", body: object = None):
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
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
