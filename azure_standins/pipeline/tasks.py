"""The tasks a rendered pipeline uses, as the Azure agent runs them. Any other task is an
UnsupportedConstruct.

- UsePythonVersion@0: the newest version in the agent's tool cache that matches
  `versionSpec`; nothing is downloaded. It puts that Python, with pip, first on PATH.
- Cache@2: key segments joined by `|`; a quoted segment is a literal, a segment that looks
  like a path is a file whose contents are hashed and which must exist; restoreKeys are
  prefixes tried in order; the post-job step saves the path only after a successful job,
  and never over an existing key (an exact hit saves nothing).
- PublishTestResults@2 and PublishCodeCoverageResults@2 (and @1), with their documented
  defaults: a missing result file is only a warning unless failTaskOnMissingResultsFile /
  failIfCoverageEmpty (and, for @2, only where `dotnet` is on PATH: without it the task
  warns and succeeds on Linux and macOS); a file that is not JUnit / Cobertura
  XML fails the test task only with failTaskOnFailureToPublishResults; failed tests fail
  it only with failTaskOnFailedTests. Inputs the stand-in does not know are refused.
- PublishPipelineArtifact@1 and DownloadPipelineArtifact@2 (Services), PublishBuildArtifacts@1
  and DownloadBuildArtifacts@1 (what a server has): artifacts of the same run, or of a
  specific run of a pipeline of the project (a pipeline resource's run); one name is
  published once in a run; a build artifact downloads into downloadPath/artifactName.
  Inputs are taken by their names or their aliases (`artifact`, `path`, `runId`, ...).
- Docker@2 `build` and `push`, with buildah standing in for the agent's Docker
  (azure_standins/images.py): images are named `<registry>/<repository>:<tag>` when a
  containerRegistry connection is given, else `<repository>:<tag>`; a push sends only
  images built on the agent, to the registry the connection names (a folder here).
"""

import hashlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from azure_standins import images
from azure_standins.pipeline.cache_store import CacheStore
from azure_standins.pipeline.expressions import UnsupportedConstruct
from azure_standins.pipeline.hosts import SERVICES
from azure_standins.pipeline.results import Runs
from azure_standins.rules import applies
from azure_standins.task_reference import SERVICES as SERVICES_RELEASE
from azure_standins.task_reference import reference
from azure_standins.wheelhouse import cached_dir

CACHE_INPUTS = {"key", "restoreKeys", "path"}


class ToolCache:
    """The agent's tool cache, laid out as UsePythonVersion reads it and as Microsoft tells
    owners of self-hosted agents to fill it: `Python/{version}/x64`, a whole Python
    installation with pip, and an `x64.complete` marker beside it.

    `interpreters` are the Pythons the agent's owner installed. Each installation goes in
    whole, as installed (a venv would not do: uv skips virtual environments when it looks
    on PATH for a Python version), as a copy of its own: never hard links to this machine's
    Python, which a job that rewrites a file in place would change. An agent gets a
    hard-linked copy of that copy in its own tool directory (Agent.ToolsDirectory, inside its
    work folder), so what a job pip-installs into it stays for the next job of an agent that
    keeps its disk, as on a self-hosted agent, and goes with a Microsoft-hosted agent's
    machine. (A job that rewrites one of its Python's files in place reaches the other
    agents' copies too: the runner's own limit, which no template step does.)
    """

    # What an installation holds beyond the standard library, as a fresh one has it: pip
    # (and setuptools), never what this machine's owner added later (uv, say).
    AS_INSTALLED = ("pip", "setuptools", "_distutils_hack", "distutils-precedence", "pkg_resources")
    COMMANDS = ("python", "pip", "idle", "pydoc", "2to3")

    def __init__(self, interpreters: Iterable[str] = ()) -> None:
        self.installations = dict(_installation(path) for path in interpreters)
        layout = [*sorted(self.installations.items()), self.AS_INSTALLED, self.COMMANDS, "copies"]
        key = hashlib.sha256(repr(layout).encode()).hexdigest()[:16]
        self.root = cached_dir("toolcache", key, self._fill) / "Python"

    def _fill(self, target: Path) -> None:
        (target / "Python").mkdir()
        for version, prefix in self.installations.items():
            destination = target / "Python" / version / "x64"
            shutil.copytree(Path(prefix), destination, symlinks=True, ignore=self._as_installed)
            (target / "Python" / version / "x64.complete").touch()

    def _as_installed(self, directory: str, names: list[str]) -> list[str]:
        """The names copytree leaves out: what a fresh installation would not have."""
        folder = Path(directory)
        if folder.name == "site-packages":
            return [name for name in names if not name.lower().startswith(self.AS_INSTALLED)]
        if folder.name == "bin" and folder.parent.name != "site-packages":
            return [name for name in names if not name.startswith(self.COMMANDS)]
        return []

    def versions(self) -> list[str]:
        """The complete Python versions in the cache."""
        marked = applies("tasks.tool-cache")
        folders = [d for d in self.root.iterdir() if d.is_dir()]
        return [d.name for d in folders if (d / "x64.complete").is_file() or not marked]

    def find(self, version_spec: str) -> Path | None:
        """The newest complete version the spec matches ("3.12" is any 3.12.x)."""
        if not re.fullmatch(r"\d+(\.(\d+|x)){0,2}", version_spec):
            raise UnsupportedConstruct(f"UsePythonVersion versionSpec {version_spec!r}")
        wanted = [part for part in version_spec.split(".") if part != "x"]
        matching = [v for v in self.versions() if v.split(".")[: len(wanted)] == wanted]
        if not matching:
            return None
        pick = max if applies("tasks.tool-cache") else min
        newest = pick(matching, key=lambda v: tuple(int(part) for part in v.split(".")))
        return self.root / newest / "x64"

    def python(self, version_spec: str, tools_directory: Path, folder: str = "x64") -> Path | None:
        """The bin folder of the matching Python in an agent's tool directory, under the
        agent's architecture (`folder`: x64 or arm64)."""
        found = self.find(version_spec)
        if found is None:
            return None
        destination = tools_directory / "Python" / found.parent.name / folder
        if not destination.is_dir():
            _link_tree(found, destination)
        return destination / "bin"


def _installation(interpreter: str) -> tuple[str, str]:
    """(full version, installation prefix) of an interpreter."""
    version, prefix = subprocess.run(
        [
            interpreter,
            "-c",
            "import platform, sys; print(platform.python_version(), sys.base_prefix)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    return version, prefix


def _link_tree(source: Path, destination: Path, ignore=None) -> None:
    """Copy a tree as hard links (files are replaced, never rewritten, by pip and Python),
    falling back to plain copies across file systems."""
    try:
        shutil.copytree(source, destination, symlinks=True, copy_function=os.link, ignore=ignore)
    except (OSError, shutil.Error):
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(source, destination, symlinks=True, ignore=ignore)


@dataclass
class JobAgent:
    """What the tasks of one job touch: its checkout and environment, the run's artifacts,
    and the services the agent talks to."""

    sources: Path
    env: dict[str, str]
    artifacts: Path
    cache: CacheStore
    tools: ToolCache
    cache_events: list[tuple[str, str]]
    host: str = SERVICES
    # Agent.ToolsDirectory: where UsePythonVersion puts the Pythons this agent uses
    tools_directory: Path = Path("_tool")
    # Agent.OSArchitecture: a self-hosted agent's may be ARM64
    architecture: str = "X64"
    # Service connections the job's checks let it use (protected.py)
    connections: dict = field(default_factory=dict)
    # Files tasks remove in their post-job step
    post_job_cleanup: list[Path] = field(default_factory=list)
    # Cache@2 steps of this job, for the post-job save: (key, path, exact hit)
    caches: list[tuple[str, Path, bool]] = field(default_factory=list)
    # The project's runs, whose artifacts a download of a specific run reads
    runs: Runs = field(default_factory=Runs)
    # The Azure DevOps release (task_reference's moniker): its tasks' input aliases
    release: str = SERVICES_RELEASE
    # Cache@2's scopes: those the job reads, in order, and the one it writes (cache_store.py)
    cache_scopes: tuple[str, ...] = ("",)
    cache_scope: str = ""
    # The running step's environment (its `env:` included), which a task's child reads
    step_env: dict[str, str] = field(default_factory=dict)
    # Where pushed images land: a folder per registry host, then repository, then tag
    registries: Path = Path("_registries")
    # A certificate authority the agent's pulled base images trust (a company's own)
    image_ca: Path | None = None


Task = Callable[[dict[str, str], JobAgent], tuple[bool, str]]


def run_task(task: str, inputs: dict[str, str], agent: JobAgent) -> tuple[bool, str]:
    if task not in TASKS:
        raise UnsupportedConstruct(f"task {task}")
    return TASKS[task](inputs, agent)


USE_PYTHON_INPUTS = {
    "versionSpec": "3.x",
    "disableDownloadFromRegistry": "false",
    "allowUnstable": "false",
    "addToPath": "true",
    "architecture": "x64",
}


def use_python_version(inputs, agent: JobAgent) -> tuple[bool, str]:
    """UsePythonVersion@0: the tool cache's newest match. On Services a version the cache
    lacks is downloaded from github.com/actions/python-versions unless
    disableDownloadFromRegistry; a server's task only reads the tool cache."""
    given = _inputs("UsePythonVersion@0", inputs, USE_PYTHON_INPUTS)
    folder = given["architecture"]
    if folder not in ("x64", "arm64") or not _flag(given["addToPath"]):
        raise UnsupportedConstruct(f"UsePythonVersion@0 {given}")
    spec = given["versionSpec"]
    # The agent's tool cache holds its own architecture's Pythons only.
    matches_agent = folder == agent.architecture.lower() or not applies("runner.agent-architecture")
    tool_bin = agent.tools.python(spec, agent.tools_directory, folder) if matches_agent else None
    if tool_bin is None:
        if agent.host == SERVICES and not _flag(given["disableDownloadFromRegistry"]):
            return False, (
                f"Version spec {spec} is not in the tool cache: the task would download it "
                "from github.com/actions/python-versions, which this stand-in never reaches."
            )
        return False, (
            f"##[error]Version spec {spec} for architecture {folder} did not match any "
            "version in Agent.ToolsDirectory."
        )
    agent.env["PATH"] = f"{tool_bin}{os.pathsep}{agent.env['PATH']}"
    return True, f"Using Python from {tool_bin}"


def cache_key(text: str, sources: Path) -> str:
    """A Cache@2 key: quoted literals as they are; a segment that looks like a path (it
    contains a "." or "/") is a file whose contents are hashed, and must exist."""
    parts = []
    for segment in (s.strip() for s in text.split("|")):
        if segment.startswith('"') and segment.endswith('"'):
            parts.append(segment[1:-1])
        elif "." in segment or "/" in segment:
            file = sources / segment
            if not file.exists() and not applies("tasks.cache-key-files"):
                parts.append(segment)
                continue
            parts.append(hashlib.sha256(file.read_bytes()).hexdigest())
        else:
            parts.append(segment)
    return "|".join(parts)


def cache(inputs, agent: JobAgent) -> tuple[bool, str]:
    if set(inputs) - CACHE_INPUTS:
        raise UnsupportedConstruct(f"Cache@2 inputs {sorted(inputs)}")
    try:
        key = cache_key(inputs["key"], agent.sources)
        restore_keys = [
            cache_key(line, agent.sources)
            for line in inputs.get("restoreKeys", "").splitlines()
            if line.strip()
        ]
    except FileNotFoundError as missing:
        return False, f"Cache key file not found: {missing}"
    path = Path(inputs["path"])
    exact = agent.cache.get(key, agent.cache_scopes)
    if exact is not None:
        shutil.copytree(exact, path, symlinks=True, dirs_exist_ok=True)
        agent.cache_events.append((key, "restored: exact"))
        agent.caches.append((key, path, True))
        return True, f"Cache hit for {key}"
    for prefix in restore_keys:
        found = agent.cache.newest_with_prefix(prefix, agent.cache_scopes)
        if found:
            shutil.copytree(found[1], path, symlinks=True, dirs_exist_ok=True)
            agent.cache_events.append((key, f"restored: prefix {prefix}"))
            agent.caches.append((key, path, False))
            return True, f"Cache restored from {found[0]}"
    agent.cache_events.append((key, "miss"))
    agent.caches.append((key, path, False))
    return True, f"Cache miss for {key}"


def save_caches(agent: JobAgent, job_succeeded: bool) -> None:
    """Cache@2's post-job step."""
    for key, path, hit in agent.caches:
        if hit:
            agent.cache_events.append((key, "not saved: exact hit"))
        elif not job_succeeded and applies("tasks.cache-save-after-success"):
            agent.cache_events.append((key, "not saved: job failed"))
        elif path.is_dir() and agent.cache.save(key, path, agent.cache_scope):
            agent.cache_events.append((key, "saved"))
        else:
            agent.cache_events.append((key, "not saved: exists or no directory"))


def xml_result_file(path: Path, *roots: str) -> tuple[bool, str]:
    """Is `path` a non-empty XML file whose root is one of `roots`? (ok, what is wrong)"""
    if not path.is_file() or path.stat().st_size == 0:
        return False, f"No result file, or an empty one: {path}"
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        return False, f"{path} is not XML: {error}"
    if root.tag not in roots:
        return False, f"{path} has root <{root.tag}>, expected {roots}"
    return True, f"Published {path.name}"


def _inputs(task: str, inputs: dict[str, str], known: dict[str, str]) -> dict[str, str]:
    """The task's inputs with their documented defaults; an input the stand-in does not
    implement is refused rather than ignored."""
    unknown = set(inputs) - set(known)
    if unknown:
        raise UnsupportedConstruct(f"{task} inputs {sorted(unknown)}")
    return {**known, **inputs}


def _flag(value: str) -> bool:
    return value.strip().lower() == "true"


TEST_RESULTS_INPUTS = {
    "testResultsFormat": "JUnit",
    "testResultsFiles": "**/TEST-*.xml",
    "searchFolder": "",  # the sources folder
    "testRunTitle": "",
    "failTaskOnMissingResultsFile": "false",
    "failTaskOnFailureToPublishResults": "false",
    "failTaskOnFailedTests": "false",
}


def publish_test_results(inputs, agent: JobAgent) -> tuple[bool, str]:
    """PublishTestResults@2 with JUnit files: no matching file is a warning unless
    failTaskOnMissingResultsFile; a file it cannot read fails the task only with
    failTaskOnFailureToPublishResults; failed tests only with failTaskOnFailedTests."""
    given = _inputs("PublishTestResults@2", inputs, TEST_RESULTS_INPUTS)
    if given["testResultsFormat"] != "JUnit":
        raise UnsupportedConstruct(f"testResultsFormat {given['testResultsFormat']}")
    folder = Path(given["searchFolder"]) if given["searchFolder"] else agent.sources
    patterns = [line.strip() for line in given["testResultsFiles"].splitlines() if line.strip()]
    files = sorted({path for pattern in patterns for path in folder.glob(pattern)})
    if not applies("tasks.result-inputs"):
        return xml_result_file(folder / patterns[0], "testsuites", "testsuite")
    if not files:
        warning = f"##[warning]No test result files matching {patterns} were found."
        return not _flag(given["failTaskOnMissingResultsFile"]), warning
    failures = 0
    for path in files:
        ok, message = xml_result_file(path, "testsuites", "testsuite")
        if not ok:
            return not _flag(given["failTaskOnFailureToPublishResults"]), message
        for suite in ElementTree.parse(path).getroot().iter("testsuite"):
            failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    if failures and _flag(given["failTaskOnFailedTests"]):
        return False, f"##[error]There are {failures} failed tests."
    return True, f"Published {len(files)} test result file(s)"


def _coverage(task: str, given: dict[str, str], agent: JobAgent) -> tuple[bool, str]:
    """No coverage file is a warning unless failIfCoverageEmpty."""
    path = agent.sources / given["summaryFileLocation"]
    ok, message = xml_result_file(path, "coverage")
    if not applies("tasks.result-inputs"):
        return ok, message
    if not ok:
        if _flag(given["failIfCoverageEmpty"]):
            return False, f"##[error]{task}: no code coverage found. {message}"
        return True, f"##[warning]No coverage data found. {message}"
    return True, message


# What PublishCodeCoverageResults@2 says, and does, on a Linux or macOS agent without .NET:
# it warns and succeeds without reading the report (microsoft/azure-pipelines-tasks,
# Tasks/Common/coveragepublisher/coveragepublisher.ts). Before that, with no summary file
# found, failIfCoverageEmpty fails the task, .NET or not (Tasks/PublishCodeCoverageResultsV2/
# publishcodecoverageresults.ts, message NoCodeCoverage in its task.json).
NO_DOTNET = "##[warning]Please install dotnet core to run this task."
NO_COVERAGE = "No code coverage results were found to publish."


def publish_code_coverage_results(inputs, agent: JobAgent) -> tuple[bool, str]:
    known = {"summaryFileLocation": "", "pathToSources": "", "failIfCoverageEmpty": "false"}
    given = _inputs("PublishCodeCoverageResults@2", inputs, known)
    if not (agent.sources / given["summaryFileLocation"]).is_file():
        if _flag(given["failIfCoverageEmpty"]):
            return False, f"##[error]{NO_COVERAGE}"
        return True, f"##[warning]{NO_COVERAGE}"
    if agent.architecture != "X64" and applies("runner.agent-architecture"):
        # Its bundled linux-x64 binary (microsoft/azure-pipelines-tasks#19346).
        return False, "##[error]The coverage publisher's x64 binary cannot run on this agent."
    dotnet = shutil.which("dotnet", path=agent.env.get("PATH", ""))
    if dotnet is None and applies("tasks.coverage-needs-dotnet"):
        return True, NO_DOTNET
    return _coverage("PublishCodeCoverageResults@2", given, agent)


def publish_code_coverage_results_v1(inputs, agent: JobAgent) -> tuple[bool, str]:
    """Version 1, deprecated (the template uses @2): it names the format; Cobertura here."""
    known = {
        "codeCoverageTool": "JaCoCo",
        "summaryFileLocation": "",
        "pathToSources": "",
        "reportDirectory": "",
        "additionalCodeCoverageFiles": "",
        "failIfCoverageEmpty": "false",
    }
    given = _inputs("PublishCodeCoverageResults@1", inputs, known)
    if given["codeCoverageTool"] != "Cobertura":
        raise UnsupportedConstruct(f"codeCoverageTool {given['codeCoverageTool']}")
    return _coverage("PublishCodeCoverageResults@1", given, agent)


def _canonical(task: str, inputs: dict[str, str], release: str) -> dict[str, str]:
    """A task's inputs by their names, whether given by name or by alias (the task
    reference lists each input's alias)."""
    known = reference()["tasks"][task]["releases"].get(release) or {}
    aliases = {spec["alias"]: name for name, spec in known.items() if spec["alias"]}
    return {aliases.get(key, key): value for key, value in inputs.items()}


def publish_pipeline_artifact(inputs, agent: JobAgent) -> tuple[bool, str]:
    inputs = _canonical("PublishPipelineArtifact@1", inputs, agent.release)
    shared = agent.artifacts if applies("tasks.pipeline-artifacts") else agent.sources / ".."
    target = shared / inputs["artifact"]
    if target.exists():
        return False, f"Artifact {inputs['artifact']} already exists in this run."
    source = agent.sources / inputs["targetPath"]
    if not source.exists():
        return False, f"Path does not exist: {source}"
    shutil.copytree(source, target)
    return True, f"Published {inputs['artifact']}"


def _run_artifacts(agent: JobAgent, pipeline: str, run_id: str) -> tuple[Path | None, str]:
    """(artifacts folder, error) of run `run_id` of `pipeline` (its name or definition id)."""
    run = agent.runs.by_id.get(int(run_id)) if run_id.isdigit() else None
    if run is None:
        return None, f"##[error]Run {run_id} was not found."
    definition = str(agent.runs.definition_id(run.pipeline))
    if pipeline not in (run.pipeline, definition) and applies("tasks.pipeline-artifacts"):
        return None, f"##[error]Run {run_id} is not a run of pipeline {pipeline}."
    return run.artifacts, ""


def download_pipeline_artifact(inputs, agent: JobAgent) -> tuple[bool, str]:
    """DownloadPipelineArtifact@2: an artifact of this run, or of a specific run of a
    pipeline of the project (`source: specific`, `runVersion: specific`, `runId`)."""
    given = _inputs(
        "DownloadPipelineArtifact@2",
        _canonical("DownloadPipelineArtifact@2", inputs, agent.release),
        {
            "buildType": "current",
            "project": "",
            "definition": "",
            "buildVersionToDownload": "latest",
            "pipelineId": "",
            "artifactName": "",
            "targetPath": "",
        },
    )
    folder = agent.artifacts
    if given["buildType"] == "specific":
        if given["buildVersionToDownload"] != "specific":
            raise UnsupportedConstruct(f"DownloadPipelineArtifact@2 {given}")
        folder, error = _run_artifacts(agent, given["definition"], given["pipelineId"])
        if folder is None:
            return False, error
    source = folder / given["artifactName"]
    if not source.exists():
        return False, f"Artifact {given['artifactName']} was not found in this run."
    # A relative path is the sources folder's (System.DefaultWorkingDirectory).
    shutil.copytree(source, agent.sources / given["targetPath"], dirs_exist_ok=True)
    return True, f"Downloaded {given['artifactName']}"


def publish_build_artifacts(inputs, agent: JobAgent) -> tuple[bool, str]:
    """PublishBuildArtifacts@1 to the run's container: Azure DevOps Server's artifacts."""
    given = _inputs(
        "PublishBuildArtifacts@1",
        inputs,
        {"PathtoPublish": "", "ArtifactName": "drop", "publishLocation": "Container"},
    )
    if given["publishLocation"] != "Container":
        raise UnsupportedConstruct(f"publishLocation {given['publishLocation']}")
    return publish_pipeline_artifact(
        {"targetPath": given["PathtoPublish"], "artifact": given["ArtifactName"]}, agent
    )


def download_build_artifacts(inputs, agent: JobAgent) -> tuple[bool, str]:
    """DownloadBuildArtifacts@1 of the current run, or of a specific run of a pipeline of
    the project (`buildType: specific`, `buildVersionToDownload: specific`, `buildId`): into
    downloadPath/artifactName."""
    given = _inputs(
        "DownloadBuildArtifacts@1",
        _canonical("DownloadBuildArtifacts@1", inputs, agent.release),
        {
            "buildType": "current",
            "project": "",
            "pipeline": "",
            "buildVersionToDownload": "latest",
            "buildId": "",
            "downloadType": "single",
            "artifactName": "",
            "downloadPath": "",
        },
    )
    if given["downloadType"] != "single":
        raise UnsupportedConstruct(f"DownloadBuildArtifacts@1 {given}")
    folder = Path(given["downloadPath"] or agent.env["SYSTEM_ARTIFACTSDIRECTORY"])
    name = given["artifactName"]
    specific = {}
    if given["buildType"] == "specific":
        if given["buildVersionToDownload"] != "specific":
            raise UnsupportedConstruct(f"DownloadBuildArtifacts@1 {given}")
        specific = {
            "buildType": "specific",
            "definition": given["pipeline"],
            "buildVersionToDownload": "specific",
            "pipelineId": given["buildId"],
        }
    return download_pipeline_artifact(
        {"artifactName": name, "targetPath": str(folder / name), **specific}, agent
    )


def twine_authenticate(inputs, agent: JobAgent) -> tuple[bool, str]:
    """TwineAuthenticate@1: a .pypirc holding a service connection's credential, at the path
    it puts in PYPIRC_PATH; its post-job step deletes the file. On Services a workload
    identity connection (azureDevOpsServiceConnection) with the feed's upload URL; a server's
    task has only pythonUploadServiceConnection, whose connection names the URL."""
    known = {
        "azureDevOpsServiceConnection": "",
        "workloadIdentityServiceConnection": "",
        "feedUrl": "",
        "pythonUploadServiceConnection": "",
    }
    given = _inputs("TwineAuthenticate@1", inputs, known)
    federated = given["azureDevOpsServiceConnection"] or given["workloadIdentityServiceConnection"]
    if federated and agent.host != SERVICES:
        raise UnsupportedConstruct("TwineAuthenticate@1 has no workload identity input on a server")
    name = federated or given["pythonUploadServiceConnection"]
    if not name:
        raise UnsupportedConstruct(f"TwineAuthenticate@1 {given}")
    connection = agent.connections[name]
    url = given["feedUrl"] if federated else connection.url
    if federated and not url.startswith("https://"):
        return False, "##[error]feedUrl must be an https URL of the feed's upload endpoint."
    # The section is the feed's name for a federated connection, else the endpoint's.
    section = url.rstrip("/").split("/")[-3] if federated else name
    folder = Path(agent.env["AGENT_TEMPDIRECTORY"]) / "twineAuthenticate" / secrets.token_hex(4)
    folder.mkdir(parents=True)
    pypirc = folder / ".pypirc"
    pypirc.write_text(
        f"[distutils]\nindex-servers={section}\n\n[{section}]\nrepository={url}\n"
        f"username={name}\npassword={connection.token}"
    )
    agent.env["PYPIRC_PATH"] = str(pypirc)
    agent.post_job_cleanup.append(pypirc)
    return True, f"Successfully added auth for {section}. PYPIRC_PATH is set."


DOCKER_INPUTS = {
    "containerRegistry": "",
    "repository": "",
    "command": "buildAndPush",
    "Dockerfile": "**/Dockerfile",
    "buildContext": "**",
    "tags": "$(Build.BuildId)",
    "arguments": "",
    "addPipelineData": "true",
    "addBaseImageData": "true",
    "container": "",
}


def docker(inputs, agent: JobAgent) -> tuple[bool, str]:
    """Docker@2 `build` (`docker build -f Dockerfile -t <name>... <arguments> <context>`)
    and `push` (each tag of the repository)."""
    given = _inputs("Docker@2", inputs, DOCKER_INPUTS)
    build = given["command"] == "build"
    if given["command"] not in ("build", "push") or (
        build and "*" in given["Dockerfile"] + given["buildContext"]
    ):
        raise UnsupportedConstruct(f"Docker@2 {given}")
    registry = ""
    if given["containerRegistry"]:
        registry = agent.connections[given["containerRegistry"]].url
    # With a registry connection the repository is qualified with its login server
    # (microsoft/azure-pipelines-tasks, common-npm-packages/docker-common,
    # containerconnection.ts: getQualifiedImageName).
    if registry and applies("tasks.docker-registry-names"):
        repository = f"{registry}/{given['repository']}"
    else:
        repository = given["repository"]
    names = [f"{repository}:{tag}" for tag in given["tags"].split()]
    if build:
        return _docker_build(given, names, agent)
    return _docker_push(names, registry, agent)


def _docker_build(given: dict[str, str], names: list[str], agent: JobAgent) -> tuple[bool, str]:
    arguments = shlex.split(given["arguments"])
    secrets_folder = Path(agent.env["AGENT_TEMPDIRECTORY"]) / f"docker-{secrets.token_hex(4)}"
    secrets_folder.mkdir(parents=True)
    try:
        # `--secret id=X,env=VAR`: Docker reads the secret from the step's variable VAR;
        # buildah 1.28 takes a file (src=), written here for the build and removed after.
        for index, argument in enumerate(arguments):
            found = re.fullmatch(r"id=([\w.-]+),env=(\w+)", argument)
            if found and index and arguments[index - 1] == "--secret":
                path = secrets_folder / found[1]
                path.write_text(agent.step_env.get(found[2], ""))
                arguments[index] = f"id={found[1]},src={path}"
        # The agent's Docker passes its proxy settings as build arguments (Docker's
        # predefined ARGs: docs.docker.com, "Use a proxy server with the Docker CLI").
        proxies = [
            item
            for key in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")
            if key in agent.env
            for item in ("--build-arg", f"{key}={agent.env[key]}")
        ]
        tags = [item for name in names for item in ("--tag", name)]
        command = ["buildah", "bud", "--file", given["Dockerfile"], *tags, *proxies,
                   *arguments, given["buildContext"]]  # fmt: skip
        built = images.build(command, agent.sources, names[0], agent.image_ca)
    finally:
        shutil.rmtree(secrets_folder)
    return built.returncode == 0, built.stdout + built.stderr


def _docker_push(names: list[str], registry: str, agent: JobAgent) -> tuple[bool, str]:
    if not registry:
        raise UnsupportedConstruct("Docker@2 push without containerRegistry (Docker Hub)")
    output = []
    for name in names:
        repository, _, tag = name.rpartition(":")
        local = images.buildah("inspect", "--type", "image", name, check=False)
        if local.returncode != 0 and applies("tasks.docker-push-local-images"):
            return False, f"An image does not exist locally with the tag: {repository}"
        pushed = images.push(name, agent.registries / repository / tag)
        if pushed.returncode != 0:
            return False, pushed.stderr
        output.append(f"The push refers to repository [{repository}]\n{tag}: pushed")
    return True, "\n".join(output)


TASKS: dict[str, Task] = {
    "UsePythonVersion@0": use_python_version,
    "Cache@2": cache,
    "PublishTestResults@2": publish_test_results,
    "PublishCodeCoverageResults@1": publish_code_coverage_results_v1,
    "PublishCodeCoverageResults@2": publish_code_coverage_results,
    "PublishPipelineArtifact@1": publish_pipeline_artifact,
    "DownloadPipelineArtifact@2": download_pipeline_artifact,
    "PublishBuildArtifacts@1": publish_build_artifacts,
    "DownloadBuildArtifacts@1": download_build_artifacts,
    "TwineAuthenticate@1": twine_authenticate,
    "Docker@2": docker,
}
