"""The Azure DevOps REST stand-in (azure_standins/devops_api.py) answers as Azure does the
calls of a team's set-up: only the specification's calls, identity descriptors in feed
roles, one feed or repository of a name, checks' settings when asked, resources permitted to
no pipeline until permitted."""

import base64
import io
import json

import pytest

from azure_standins.devops_api import DevOpsApi

PAT = "set-up-pat"
FEEDS = "feeds.dev.azure.com"
CORE = "dev.azure.com"


@pytest.fixture
def api() -> DevOpsApi:
    api = DevOpsApi(credentials={PAT})
    api.add_project("Widget Platform")
    return api


def call(api: DevOpsApi, method: str, host: str, path: str, body=None, version="7.1"):
    """(status, JSON answer) of one request, signed in with the PAT."""
    data = json.dumps(body).encode() if body is not None else b""
    route, _, query = path.partition("?")
    query = f"{query}&api-version={version}".lstrip("&")
    environ = {
        "REQUEST_METHOD": method,
        "HTTP_HOST": host,
        "PATH_INFO": route.encode().decode("latin-1"),
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f":{PAT}".encode()).decode(),
    }
    status = []
    body = b"".join(api(environ, lambda line, headers: status.append(int(line.split()[0]))))
    return status[0], json.loads(body) if body else None


def new_feed(api: DevOpsApi, name: str = "widgets"):
    return call(api, "POST", FEEDS, "/contoso/Widget Platform/_apis/packaging/feeds",
                {"name": name})  # fmt: skip


def test_only_the_specifications_calls_are_answered(api):
    assert call(api, "GET", CORE, "/contoso/_apis/projects/Widget Platform")[0] == 200
    assert (
        call(api, "GET", CORE, "/contoso/_apis/projects/Widget Platform", version="5.0")[0] == 400
    )
    # The feeds' API lives on feeds.dev.azure.com, not on the portal's host.
    assert call(api, "POST", CORE, "/contoso/Widget Platform/_apis/packaging/feeds",
                {"name": "widgets"})[0] == 404  # fmt: skip
    assert new_feed(api)[0] == 200


def test_feed_roles_take_identity_descriptors_not_graph_subject_descriptors(api):
    new_feed(api)
    service = api.identity("Widget Platform Build Service (contoso)")
    roles = "/contoso/Widget Platform/_apis/packaging/Feeds/widgets/permissions"
    subject = [{"identityDescriptor": service["subjectDescriptor"], "role": "contributor"}]
    status, answer = call(api, "PATCH", FEEDS, roles, subject)
    assert status == 400 and "subject descriptor" in answer["message"]
    granted = [{"identityDescriptor": service["descriptor"], "role": "reader"}]
    assert call(api, "PATCH", FEEDS, roles, granted)[0] == 200
    assert call(api, "GET", FEEDS, roles)[1]["value"][0]["role"] == "reader"


def test_a_feed_or_repository_name_is_taken_once(api):
    assert new_feed(api)[0] == 200
    status, answer = new_feed(api, "Widgets")
    assert status == 409 and "already exists" in answer["message"]
    repositories = "/contoso/Widget Platform/_apis/git/repositories"
    project = {"id": api.projects["widget platform"]["id"]}
    assert call(api, "POST", CORE, repositories, {"name": "w", "project": project})[0] == 200
    status, answer = call(api, "POST", CORE, repositories, {"name": "w", "project": project})
    assert status == 409 and answer["message"].startswith("TF400948")


def test_checks_come_back_with_their_settings_only_when_asked(api):
    checks = "/contoso/Widget Platform/_apis/pipelines/checks/configurations"
    made = {"type": {"id": "x"}, "settings": {"requesterCannotBeApprover": True},
            "resource": {"type": "environment", "id": "1"}}  # fmt: skip
    assert call(api, "POST", CORE, checks, made, version="7.1-preview.1")[0] == 200
    listed = f"{checks}?resourceType=environment&resourceId=1"
    plain = call(api, "GET", CORE, listed, version="7.1-preview.1")[1]["value"]
    expanded = call(api, "GET", CORE, f"{listed}&$expand=settings", version="7.1-preview.1")
    assert "settings" not in plain[0]
    assert expanded[1]["value"][0]["settings"] == {"requesterCannotBeApprover": True}


def test_a_new_resource_is_permitted_to_no_pipeline(api):
    path = "/contoso/Widget Platform/_apis/pipelines/pipelinepermissions/environment/7"
    status, now = call(api, "GET", CORE, path, version="7.1-preview.1")
    assert status == 200
    assert now["allPipelines"]["authorized"] is False and now["pipelines"] == []
