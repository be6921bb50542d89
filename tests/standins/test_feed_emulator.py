"""Each Azure Artifacts behaviour the emulator reproduces, checked over plain HTTP.

These pin the emulator to Azure (azure_standins/BEHAVIOURS.md gives each one's source): if
one of them breaks, the end-to-end tests would be passing against behaviour Azure lacks.
"""

import base64
import hashlib
import http.client
import json
import re
import secrets
from urllib.parse import urlsplit

import pytest

from azure_standins.feed_emulator import COLLABORATOR, CONTRIBUTOR, FeedEmulator
from tests.archives import distribution


def request(method: str, url: str, token: str | None = None, body: bytes = b"", headers=None):
    """One request, redirects not followed: (status, headers as a list, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(f"anyone:{token}".encode()).decode()
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request(method, target, body=body, headers=sent)
    response = connection.getresponse()
    result = (response.status, response.getheaders(), response.read())
    connection.close()
    return result


def header(headers, name: str) -> str:
    return next(value for key, value in headers if key.lower() == name.lower())


def upload_body(
    filename: str, data: bytes, sha256: str | None = None, **overrides: str | None
) -> tuple[bytes, str]:
    """A legacy-API upload as uv publish sends it: multipart/form-data. `overrides` change
    fields; None leaves one out."""
    boundary = secrets.token_hex(8)
    name, version = (filename.split("-") + [""])[:2]
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version.removesuffix(".tar.gz"),
        "sha256_digest": sha256 or hashlib.sha256(data).hexdigest(),
        **overrides,
    }
    fields = {key: value for key, value in fields.items() if value is not None}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def server(wheelhouse):
    emulator = FeedEmulator()
    emulator.add_feed("contoso", "widgets", "Widget Platform", upstream=wheelhouse, token="t-proj")
    emulator.add_feed("contoso", "shared", None, upstream=wheelhouse, token="t-org")
    emulator.add_feed("fabrikam", "widgets", None, token="t-other")
    emulator.start()
    yield emulator
    emulator.stop()


def simple(server: FeedEmulator, index: int) -> str:
    return server.index_url(server.feeds[index])


def publish(server: FeedEmulator, index: int, filename: str, data: bytes, **kwargs):
    body, content_type = upload_body(filename, data, **kwargs)
    url = simple(server, index).replace("/simple/", "/upload/")
    token = server.feeds[index].token
    return request("POST", url, token, body, {"Content-Type": content_type})


def test_project_and_organization_scoped_urls(server):
    assert simple(server, 0).endswith("/contoso/Widget%20Platform/_packaging/widgets/pypi/simple/")
    assert simple(server, 1).endswith("/contoso/_packaging/shared/pypi/simple/")
    assert request("GET", simple(server, 0) + "colorama/", "t-proj")[0] == 200
    assert request("GET", simple(server, 1) + "colorama/", "t-org")[0] == 200
    # The same feed name in another organization is another feed, with its own token.
    assert (
        request("GET", f"{server.url}/fabrikam/_packaging/widgets/pypi/simple/", "t-proj")[0] == 401
    )
    status, _, body = request("GET", f"{server.url}/contoso/_packaging/nope/pypi/simple/", "t-org")
    assert status == 404
    assert json.loads(body)["message"] == "The feed with ID 'nope' doesn't exist."


def test_unauthenticated_request_gets_azures_401(server):
    status, headers, body = request("GET", simple(server, 0) + "colorama/")
    assert status == 401
    challenges = [value for key, value in headers if key.lower() == "www-authenticate"]
    assert any(value.startswith("Bearer authorization_uri=") for value in challenges)
    assert any(value.startswith("Basic realm=") for value in challenges)
    error = json.loads(body)
    assert error["message"].startswith("TF400813")
    assert error["typeKey"] == "UnauthorizedRequestException"


def test_any_user_name_with_the_token_is_let_in_and_a_wrong_token_is_not(server):
    assert request("GET", simple(server, 0) + "colorama/", "t-proj")[0] == 200
    assert request("GET", simple(server, 0) + "colorama/", "not-the-token")[0] == 401
    assert request("GET", simple(server, 0) + "colorama/", "t-org")[0] == 401


def test_simple_page_is_pep_503_html_with_sha256_and_no_metadata_links(server, wheelhouse):
    status, headers, body = request("GET", simple(server, 0) + "colorama/", "t-proj")
    assert status == 200
    assert header(headers, "Content-Type").startswith("text/html")
    page = body.decode()
    (href,) = re.findall(r'href="([^"]+)"', page)
    wheel = next(wheelhouse.glob("colorama-*.whl"))
    assert href.endswith(f"/{wheel.name}#sha256={hashlib.sha256(wheel.read_bytes()).hexdigest()}")
    assert "data-dist-info-metadata" not in page and "data-core-metadata" not in page


def test_non_normalized_project_name_redirects(server):
    status, headers, _ = request("GET", simple(server, 0) + "Typing_Extensions/", "t-proj")
    assert status == 301
    assert header(headers, "Location") == simple(server, 0) + "typing-extensions/"


def test_download_links_are_absolute_and_outside_the_index_prefix(server):
    feed = server.feeds[0]
    page = request("GET", simple(server, 0) + "colorama/", "t-proj")[2].decode()
    (href,) = re.findall(r'href="([^"#]+)', page)
    assert href.startswith(
        f"{server.url}/contoso/{feed.project_guid}/_packaging/{feed.guid}/pypi/download/colorama/"
    )
    assert not href.startswith(simple(server, 0).rsplit("/simple/", 1)[0])


def test_download_answers_head_with_405_and_get_with_303_to_a_blob(server):
    page = request("GET", simple(server, 0) + "colorama/", "t-proj")[2].decode()
    (href,) = re.findall(r'href="([^"#]+)', page)
    assert request("GET", href)[0] == 401  # outside the prefix, but still authenticated
    assert request("HEAD", href, "t-proj")[0] == 405
    status, headers, _ = request("GET", href, "t-proj")
    assert status == 303
    blob = header(headers, "Location")
    assert urlsplit(blob).netloc != urlsplit(href).netloc  # another origin
    assert "sig=" in blob


def test_downloads_carry_no_cache_headers(server):
    page = request("GET", simple(server, 0) + "colorama/", "t-proj")[2].decode()
    (href,) = re.findall(r'href="([^"#]+)', page)
    redirect = request("GET", href, "t-proj")
    blob = request("GET", header(redirect[1], "Location"))
    for _, headers, _ in (redirect, blob):
        names = {key.lower() for key, _ in headers}
        assert names.isdisjoint({"cache-control", "expires", "etag", "last-modified"})


def test_blob_store_rejects_an_authorization_header(server, wheelhouse):
    page = request("GET", simple(server, 0) + "colorama/", "t-proj")[2].decode()
    (href,) = re.findall(r'href="([^"#]+)', page)
    blob = header(request("GET", href, "t-proj")[1], "Location")
    assert request("GET", blob, "t-proj")[0] == 400
    status, _, data = request("GET", blob)
    assert status == 200
    assert data == next(wheelhouse.glob("colorama-*.whl")).read_bytes()
    assert request("GET", blob.replace("sig=", "sig=0"))[0] == 403


def test_upload_then_conflict_with_azures_message(server):
    filename = "demo_pkg-1.0.0-py3-none-any.whl"
    assert publish(server, 0, filename, distribution(filename))[0] == 200
    page = request("GET", simple(server, 0) + "demo-pkg/", "t-proj")[2].decode()
    assert filename in page
    status, _, body = publish(server, 0, filename, distribution(filename, "second"))
    assert status == 409
    assert json.loads(body)["message"] == (
        f"The feed 'widgets' already contains file '{filename}' in package 'demo-pkg 1.0.0'."
    )


def test_upload_checks_the_sha256(server):
    sdist = distribution("demo_pkg-1.0.0.tar.gz")
    status, _, _ = publish(server, 0, "demo_pkg-1.0.0.tar.gz", sdist, sha256="0" * 64)
    assert status == 400
    assert request("GET", simple(server, 0) + "demo-pkg/", "t-proj")[0] == 404


WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"


@pytest.mark.parametrize(
    ("filename", "data", "fields", "message"),
    [
        (WHEEL, None, {"sha256_digest": None}, "Missing required field(s): sha256_digest"),
        (WHEEL, None, {"name": None, "version": None}, "Missing required field(s): name, version"),
        (WHEEL, None, {"name": "other-pkg"}, "do not match the file"),
        (WHEEL, None, {"version": "1.0.1"}, "do not match the file"),
        (WHEEL, b"not a zip", {}, "Invalid distribution file"),
        ("demo_pkg-1.0.0.tar.gz", b"not a tar", {}, "Invalid distribution file"),
        ("notes.txt", b"text", {"name": "notes", "version": "1"}, "Invalid file name"),
    ],
)
def test_uploads_the_upload_api_refuses_get_400_and_store_nothing(
    server, filename, data, fields, message
):
    data = distribution(WHEEL) if data is None else data
    status, _, body = publish(server, 0, filename, data, **fields)
    assert status == 400
    assert message in json.loads(body)["message"]
    assert server.feeds[0].published_files() == set()


def test_upload_needs_the_token(server):
    body, content_type = upload_body("demo_pkg-1.0.0.tar.gz", distribution("demo_pkg-1.0.0.tar.gz"))
    url = simple(server, 0).replace("/simple/", "/upload/")
    assert request("POST", url, None, body, {"Content-Type": content_type})[0] == 401


def test_a_deleted_version_can_never_be_published_again(server):
    filename = "demo_pkg-1.0.0-py3-none-any.whl"
    assert publish(server, 0, filename, distribution(filename))[0] == 200
    server.feeds[0].delete_version("demo-pkg", "1.0.0")
    assert request("GET", simple(server, 0) + "demo-pkg/", "t-proj")[0] == 404
    assert publish(server, 0, filename, distribution(filename))[0] == 409
    newer = "demo_pkg-1.0.1-py3-none-any.whl"
    assert publish(server, 0, newer, distribution(newer))[0] == 200


def test_upstream_packages_come_from_the_wheelhouse_and_published_ones_hide_them(server):
    assert "colorama" in request("GET", simple(server, 1), "t-org")[2].decode()
    # The feed of another organization has no upstream source.
    assert (
        request(
            "GET", f"{server.url}/fabrikam/_packaging/widgets/pypi/simple/colorama/", "t-other"
        )[0]
        == 404
    )
    ours = "colorama-99.0.0-py3-none-any.whl"
    assert publish(server, 1, ours, distribution(ours))[0] == 200
    page = request("GET", simple(server, 1) + "colorama/", "t-org")[2].decode()
    assert re.findall(r">([^<]+\.whl)<", page) == ["colorama-99.0.0-py3-none-any.whl"]


def test_requests_are_counted_by_kind(server):
    request("GET", simple(server, 0) + "colorama/")
    request("GET", simple(server, 0) + "colorama/", "t-proj")
    publish(server, 0, "demo_pkg-1.0.0.tar.gz", distribution("demo_pkg-1.0.0.tar.gz"))
    assert server.counts() == {"unauthorized": 1, "simple": 1, "upload": 1}
    server.reset()
    assert server.counts() == {}


def test_a_collaborator_reads_and_saves_from_upstream_but_may_not_publish(server):
    feed = server.feeds[0]
    build_service = feed.identity("build service", COLLABORATOR)
    assert request("GET", simple(server, 0) + "colorama/", build_service)[0] == 200
    body, content_type = upload_body(WHEEL, distribution(WHEEL))
    url = simple(server, 0).replace("/simple/", "/upload/")
    status, _, answer = request("POST", url, build_service, body, {"Content-Type": content_type})
    assert status == 403
    error = json.loads(answer)
    assert error["typeKey"] == "FeedNeedsPermissionsException"
    assert "You need to have 'AddPackage'" in error["message"]
    assert feed.published_files() == set()
    release = feed.identity("release", CONTRIBUTOR)
    assert request("POST", url, release, body, {"Content-Type": content_type})[0] == 200


def test_the_package_list_tells_published_versions_from_those_saved_from_upstream(server):
    """The Artifacts REST API's package list: what a release reads to tell its own name from
    a PyPI project's before the feed holds a version of it."""
    feed = server.feeds[0]
    api = f"{server.url}/contoso/Widget%20Platform/_apis/packaging/Feeds/widgets/packages"
    query = "?protocolType=PyPI&normalizedPackageName=colorama&includeAllVersions=true"
    assert request("GET", api + query)[0] == 401
    status, _, body = request("GET", api + query, "t-proj")
    assert (status, json.loads(body)) == (200, {"count": 0, "value": []})
    # A version installed through the feed is saved from the upstream source...
    page = request("GET", simple(server, 0) + "colorama/", "t-proj")[2].decode()
    link = re.findall(r'href="([^"#]+)', page)[0]
    assert request("GET", link, "t-proj")[0] == 303
    (package,) = json.loads(request("GET", api + query, "t-proj")[2])["value"]
    (saved,) = package["versions"]
    assert saved["directUpstreamSourceId"] == feed.upstream_id
    # ...and one published to it names no upstream source.
    ours = "colorama-99.0.0-py3-none-any.whl"
    assert publish(server, 0, ours, distribution(ours))[0] == 200
    (package,) = json.loads(request("GET", api + query, "t-proj")[2])["value"]
    local = [v["version"] for v in package["versions"] if not v.get("directUpstreamSourceId")]
    assert local == ["99.0.0"]
