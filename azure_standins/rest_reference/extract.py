"""Write operations.json from a checkout of Microsoft's REST specification.

    python -m azure_standins.rest_reference.extract <checkout of vsts-rest-api-specs>

Each area's Swagger file, `specification/<area>/7.1/<name>.json`, lists its operations under
`paths`, with its host, each parameter (in the path, the query or the body), and the
definitions a body refers to. This keeps, for every operation of the files below, what a
request must match: its method and path, its api-version, its query parameters, and the
fields its body may have: those of its schema, and those Microsoft's own examples of it send
(`x-ms-examples`; the check configurations' `settings`, say, is in the examples only).
"""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from azure_standins.rest_reference import DATA

SERVICES_FILES = [
    "specification/artifacts/7.1/feed.json",
    "specification/approvalsAndChecks/7.1/pipelinesChecks.json",
    "specification/approvalsAndChecks/7.1/pipelinePermissions.json",
    "specification/build/7.1/build.json",
    "specification/distributedTask/7.1/taskAgent.json",
    "specification/serviceEndpoint/7.1/serviceEndpoint.json",
    "specification/pipelines/7.1/pipelines.json",
    "specification/policy/7.1/policy.json",
    "specification/git/7.1/git.json",
    "specification/core/7.1/core.json",
    "specification/ims/7.1/identities.json",
]
# The same areas as Azure DevOps Server 2022 serves them (REST api-version 7.0): each file's
# on-premises twin, whose paths start with the collection and whose host is the server's.
SERVER = "azure-devops-server-7.0"
FILES = [
    *SERVICES_FILES,
    *(
        file.replace("/7.1/", f"/{SERVER}/").replace(".json", "-onprem.json")
        for file in SERVICES_FILES
    ),
]


def resolve(spec: dict, node: dict) -> dict:
    """`node`, or what its `$ref` (`#/definitions/X`, `#/parameters/X`) points to."""
    while "$ref" in node:
        _, section, name = node["$ref"].rsplit("/", 2)
        node = spec[section][name]
    return node


def body_fields(spec: dict, schema: dict) -> list[str]:
    """The properties of a body (of its items, for an array), with those it inherits, from
    every ancestor."""
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        schema = resolve(spec, schema.get("items", {}))
    fields = set(schema.get("properties", {}))
    for parent in schema.get("allOf", []):
        fields |= set(body_fields(spec, parent))
    return sorted(fields)


def example_file(folder: Path, ref: str) -> Path | None:
    """An example's file; a few refs differ in case from the files (written on Windows)."""
    path = folder
    for part in Path(ref).parts:
        if part == ".":
            continue
        found = (
            [p for p in path.iterdir() if p.name.lower() == part.lower()] if path.is_dir() else []
        )
        if not found:
            return None
        path = found[0]
    return path


def examples(checkout: Path, file: str, operation: dict) -> list[dict]:
    """The `parameters` of Microsoft's examples of an operation."""
    found = []
    for example in operation.get("x-ms-examples", {}).values():
        path = example_file((checkout / file).parent, example["$ref"])
        if path is not None:
            found.append(json.loads(path.read_text(encoding="utf-8-sig"))["parameters"])
    return found


def example_fields(checkout: Path, file: str, operation: dict) -> set[str]:
    """The fields the bodies of Microsoft's examples of an operation have."""
    fields = set()
    for parameters in examples(checkout, file, operation):
        body = parameters.get("body")
        for item in body if isinstance(body, list) else [body]:
            fields |= set(item) if isinstance(item, dict) else set()
    return fields


def operations(spec: dict, file: str, checkout: Path) -> list[dict]:
    found = []
    # `x-ms-paths` holds the operations that share a path and differ by their query
    # (distributedtask/queues?queueNames=..., say): the path is what precedes the query.
    every = [*spec["paths"].items(), *spec.get("x-ms-paths", {}).items()]
    for key, methods in every:
        path = key.split("?")[0]
        for method, operation in methods.items():
            parameters = [resolve(spec, p) for p in operation.get("parameters", [])]
            version = next(p for p in parameters if p["name"] == "api-version")
            body = next((p for p in parameters if p["in"] == "body"), None)
            entry = {
                "file": file,
                "release": "server-7.0" if f"/{SERVER}/" in file else "services",
                "operation": operation.get("operationId", ""),
                "method": method.upper(),
                # A server's files name an example server; its host is the instance's own.
                "host": "{instance}" if f"/{SERVER}/" in file else spec["host"],
                "path": path,
                # "... This should be set to '7.1-preview.1' to use this version of the api."
                "api-version": version["description"].split("'")[1],
                "query": sorted(p["name"] for p in parameters if p["in"] == "query"),
                "body": sorted(
                    {
                        *body_fields(spec, body["schema"]),
                        *example_fields(checkout, file, operation),
                    }
                )
                if body
                else None,
            }
            found.append(entry)
            # A path that ends in a parameter Microsoft's own examples leave out (Server
            # 2022's policy configurations create, say) is also called without it.
            last = path.rstrip("/").rsplit("/", 1)[-1]
            given = examples(checkout, file, operation)
            if last.startswith("{") and any(last[1:-1] not in ex for ex in given):
                found.append({**entry, "path": path.rstrip("/").rsplit("/", 1)[0]})
    return found


def main(checkout: Path) -> None:
    commit, day = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%H %ad", "--date=short"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = []
    for file in FILES:
        text = (checkout / file).read_text(encoding="utf-8-sig")
        found += operations(json.loads(text), file, checkout)
    source = {
        "source": "https://github.com/MicrosoftDocs/vsts-rest-api-specs",
        "commit": commit,
        "commit_date": day,
        "read": date.today().isoformat(),
    }
    # One operation per line, so that a refresh's diff shows what changed.
    lines = ",\n".join(f"  {json.dumps(operation)}" for operation in found)
    head = json.dumps(source, indent=1).removesuffix("\n}")
    DATA.write_text(f'{head},\n "operations": [\n{lines}\n ]\n}}\n', encoding="utf-8")
    print(f"{len(found)} operations from {len(FILES)} files, commit {commit[:12]} ({day})")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
