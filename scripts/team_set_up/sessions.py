"""The three ways to meet the wanted set-up, behind one interface (`get`, `write`, `by_hand`):

- `Plan` (--dry-run) connects to nothing: it prints each call, as if nothing existed yet;
- `Apply` reads what is there and writes only what differs;
- `Check` (--check) reads what is there and reports each write `Apply` would make as drift.
"""

import base64
import http.client
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from team_set_up.team import Refused

# The Entra resource id of Azure DevOps, which `az` asks tokens for (Microsoft Learn, "Manage
# personal access tokens" > "Use Microsoft Entra tokens"; Azure CLI `az account
# get-access-token --resource`).
AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
PAT_VARIABLE = "AZURE_DEVOPS_EXT_PAT"  # the PAT `az devops` itself reads


class Failed(Exception):
    """Azure refused a call: what was asked, and its answer."""


class Missing(Failed):
    """Azure has nothing at the URL (404)."""


class Placeholder(dict):
    """What a call returns before anything is known of it: `<label-id>`, `<label-descriptor>`."""

    def __init__(self, label: str):
        super().__init__()
        self.label = label

    def __missing__(self, key: str) -> str:
        return f"<{self.label}-{key}>"


def unknown(url: str) -> bool:
    """Does the URL hold an id that an earlier write has not returned yet?"""
    return "<" in url


@dataclass
class Http:
    """JSON over HTTPS, signed in. `connect` opens a connection to a URL's host (tests reach
    a stand-in through it; everything else about the request stays as Azure would see it)."""

    authorization: str
    connect: object = None

    def send(self, method: str, url: str, body: object = None) -> tuple[object, dict]:
        """Azure's answer and its headers; Missing on a 404, Failed on any other refusal."""
        parts = urlsplit(url)
        connection = (self.connect or _connection)(parts)
        headers = {
            "Host": parts.netloc,
            "Authorization": self.authorization,
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, f"{parts.path}?{parts.query}", data, headers)
            response = connection.getresponse()
            text = response.read()
        except OSError as error:
            raise Failed(f"{method} {url}: {error}") from error
        finally:
            connection.close()
        answer = _json(text)
        if response.status in (401, 403):
            raise Refused(
                f"{method} {url}: {response.status} {_message(answer) or response.reason}. "
                "Sign in as someone who administers the project (Project Administrators) and "
                "may create feeds; see --help for how this command signs in."
            )
        if response.status >= 300:
            refusal = Missing if response.status == 404 else Failed
            raise refusal(f"{method} {url}: {response.status} {_message(answer)}")
        return answer, {k.lower(): v for k, v in response.getheaders()}


def _connection(parts) -> http.client.HTTPConnection:
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return kind(parts.netloc, timeout=60)


def _json(text: bytes) -> object:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return {"message": text.decode(errors="replace")[:300]}


def _message(answer: object) -> str:
    return answer.get("message", "") if isinstance(answer, dict) else ""


def sign_in(services: bool) -> str:
    """The Authorization header: a PAT from AZURE_DEVOPS_EXT_PAT (as `az devops` reads it), or
    on Azure DevOps Services the Entra token of whoever `az login` signed in."""
    pat = os.environ.get(PAT_VARIABLE, "")
    if pat:
        return "Basic " + base64.b64encode(f":{pat}".encode()).decode()
    if not services:
        raise Refused(
            f"Azure DevOps Server takes a PAT: set {PAT_VARIABLE} to a PAT of a project "
            "administrator with the scopes Packaging (Read, write & manage), Code (Read & "
            "write), Build (Read & execute), Environment (Read & manage), Service Connections "
            "(Read, query & manage) and Agent Pools (Read & manage)."
        )
    az = shutil.which("az")
    if az is None:
        raise Refused(
            f"Sign in with the Azure CLI (az login), or set {PAT_VARIABLE} to a PAT: `az` is "
            "not on PATH."
        )
    got = subprocess.run(
        [az, "account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE,
         "--query", "accessToken", "--output", "tsv"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    token = got.stdout.strip()
    if got.returncode or not token:
        raise Refused(f"az account get-access-token failed: run az login first. {got.stderr}")
    return f"Bearer {token}"


@dataclass
class Session:
    """What the wanted set-up asks of Azure; each kind answers differently."""

    by_hand_steps: list[str] = field(default_factory=list)

    def get(self, url: str, *, planned: object = None) -> object:
        """The resource at `url`, or None where there is none (404). `planned` is what a
        --dry-run assumes is there: None for what the set-up creates."""
        raise NotImplementedError

    def get_all(self, url: str, *, planned: list | None = None) -> list:
        """Every item of a list answer (`value`), following continuation tokens."""
        raise NotImplementedError

    def write(self, method: str, url: str, body: object, *, why: str, label: str) -> dict:
        """Make a change, `why` saying what it sets right; returns Azure's answer."""
        raise NotImplementedError

    def queue(self, url: str, body: object, *, why: str) -> None:
        """Start a run: not a setting, so never a drift."""
        self.write("POST", url, body, why=why, label="run")

    def by_hand(self, step: str) -> None:
        """A step no API takes, or that needs what only a person has."""
        self.by_hand_steps.append(step)


@dataclass
class Plan(Session):
    """--dry-run: every call, printed; nothing is read, so nothing exists but what the
    set-up needs as given (the project, the identities, the connection, the pool)."""

    def get(self, url, *, planned=None):
        print(f"GET {url}")
        return planned

    def get_all(self, url, *, planned=None):
        print(f"GET {url}")
        return list(planned or [])

    def write(self, method, url, body, *, why, label):
        print(f"{method} {url}")
        print(json.dumps(body))
        return Placeholder(label)


@dataclass
class Reader(Session):
    """Reads what is there."""

    http: Http = None

    def get(self, url, *, planned=None):
        if unknown(url):
            return None
        try:
            return self.http.send("GET", url)[0]
        except Missing:
            return None

    def get_all(self, url, *, planned=None):
        if unknown(url):
            return []
        items, token = [], ""
        while True:
            page = f"{url}&continuationToken={token}" if token else url
            try:
                answer, headers = self.http.send("GET", page)
            except Missing:
                return items
            items += answer.get("value", []) if isinstance(answer, dict) else answer or []
            token = headers.get("x-ms-continuationtoken", "")
            if not token:
                return items


@dataclass
class Apply(Reader):
    """Makes each write, and says what it set right."""

    def write(self, method, url, body, *, why, label):
        answer, _ = self.http.send(method, url, body)
        print(f"done: {why}")
        return answer if isinstance(answer, dict) else {"value": answer}


@dataclass
class Check(Reader):
    """Writes nothing: each write the set-up would make is a drift from it."""

    drift: list[str] = field(default_factory=list)

    def write(self, method, url, body, *, why, label):
        self.drift.append(why)
        return Placeholder(label)

    def queue(self, url, body, *, why):
        pass
