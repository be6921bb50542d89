"""Microsoft's published REST specification (MicrosoftDocs/vsts-rest-api-specs), kept as data:
for the API areas the docs' REST calls use, each operation's method, host, path, api-version,
query parameters and body fields (operations.json, written by extract.py, with its source
commit and the date it was read).
"""

import json
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

DATA = Path(__file__).with_name("operations.json")


@cache
def reference() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def problems(method: str, url: str, body, collection: str = "") -> list[str]:
    """What does not match the specification (empty when the call is one it has): Azure
    DevOps Services' (7.1), or, given the `collection` path of a server's URL, Azure DevOps
    Server 2022's (7.0, on the server's own host)."""
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")
    release, host = "services", parts.netloc.lower()
    if collection:
        rest = parts.path.strip("/").removeprefix(collection.strip("/")).strip("/")
        segments = ["{collection}", *rest.split("/")]
        release, host = "server-7.0", "{instance}"
    candidates = [
        op
        for op in reference()["operations"]
        if op["method"] == method
        and op["release"] == release
        and op["host"].lower() == host
        and _same_path(op["path"].strip("/").split("/"), segments)
    ]
    if not candidates:
        return [f"no {method} {parts.netloc}{parts.path} in Microsoft's specification"]
    query = dict(parse_qsl(parts.query))
    best = []
    for op in candidates:
        found = []
        if query.get("api-version") != op["api-version"]:
            found.append(f"api-version {query.get('api-version')} (the spec: {op['api-version']})")
        unknown = set(query) - set(op["query"]) - {"api-version"}
        if unknown:
            found.append(f"query parameters {sorted(unknown)} not in {op['operation']}")
        for item in body if isinstance(body, list) else [body] if body else []:
            extra = set(item) - set(op["body"] or [])
            if extra:
                found.append(f"body fields {sorted(extra)} not in {op['operation']}")
        if not found:
            return []
        best = best or found
    return best


def _same_path(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        t.startswith("{") or t.lower() == s.lower() for t, s in zip(template, segments, strict=True)
    )
