"""Run a rendered azure-pipelines.yml here, the way Azure Pipelines and its agent would:
triggers, stages, jobs and legs, variables and conditions, and each step on a fresh agent.
The tasks live in tasks.py, the cache service in cache_store.py.

Only the constructs the template uses are implemented; anything else raises
UnsupportedConstruct, so a pipeline the runner cannot judge fails instead of passing.
Every rule, with its public source and the test that pins it: azure_standins/BEHAVIOURS.md.

- Triggers: `trigger` branches and tags include patterns, `pr` branches; a push that no
  trigger matches starts no run.
- Stages run in order; `dependsOn` (default: the previous stage) and `condition` (default:
  `succeeded()` of the dependencies). Jobs likewise within a stage.
- `strategy.matrix`: each leg gets its variables; a leg whose `pool.vmImage` needs another OS
  is reported as not run, and its `script:` lines are checked for cmd instead (bash and cmd
  must both run them; portable_script.py).
- Variables at pipeline, stage, job and leg level, and the predefined ones. Non-secret
  variables become environment variables, upper-cased with "." turned into "_".
  `System.AccessToken` is secret: a step sees it only through its own `env:` mapping (or a
  `$(System.AccessToken)` macro in its own text), and its value is masked in logs.
- `$(Name)` macros and `condition:` expressions: expressions.py.
- Every job starts on a fresh agent: a clean checkout (a git clone when the project is a
  repository), an empty work directory and HOME.
- `script:` runs in bash in System.DefaultWorkingDirectory; `template:` includes a steps file.

The agent's pip installs from a local wheelhouse (PIP_NO_INDEX and PIP_FIND_LINKS), as an
agent behind a package mirror would: no test reaches PyPI.
"""

import fnmatch
import platform
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from azure_standins.pipeline.cache_store import CacheStore
from azure_standins.pipeline.expressions import UnsupportedConstruct, evaluate, expand_macros
from azure_standins.pipeline.portable_script import cmd_problems
from azure_standins.pipeline.results import JobResult, RunResult, StepResult
from azure_standins.pipeline.tasks import JobAgent, ToolCache, run_task, save_caches

HOST_OS = {"Linux": "Linux", "Windows": "Windows_NT", "Darwin": "Darwin"}[platform.system()]
IMAGE_OS = {"ubuntu": "Linux", "windows": "Windows_NT", "macos": "Darwin"}
SECRET_VARIABLES = {"System.AccessToken"}
PIPELINE_KEYS = {"trigger", "pr", "variables", "stages", "name"}
STAGE_KEYS = {"stage", "displayName", "dependsOn", "condition", "jobs", "variables"}
JOB_KEYS = {
    "job",
    "displayName",
    "dependsOn",
    "condition",
    "strategy",
    "pool",
    "steps",
    "variables",
    "timeoutInMinutes",
}
STEP_KEYS = {
    "script",
    "task",
    "template",
    "displayName",
    "inputs",
    "env",
    "condition",
    "name",
    "continueOnError",
    "timeoutInMinutes",
}


def _check_keys(node: dict, allowed: set, where: str) -> None:
    unknown = set(node) - allowed
    if unknown:
        raise UnsupportedConstruct(f"{where}: {sorted(unknown)}")


class PipelineRunner:
    def __init__(
        self,
        project: Path,
        work: Path,
        *,
        cache: CacheStore,
        tools: ToolCache,
        access_token: str,
        env: dict[str, str],
        pip_wheelhouse: Path,
    ) -> None:
        self.project = project
        self.work = work
        self.cache = cache
        self.tools = tools
        self.secrets = {"System.AccessToken": access_token}
        self.base_env = env
        self.pip_wheelhouse = pip_wheelhouse
        self.pipeline = yaml.safe_load((project / "azure-pipelines.yml").read_text())
        _check_keys(self.pipeline, PIPELINE_KEYS, "pipeline keys")

    # -- triggers ----------------------------------------------------------------------
    def triggered(self, source_branch: str, reason: str) -> bool:
        if reason == "PullRequest":
            patterns = self.pipeline.get("pr", {}).get("branches", {}).get("include", [])
            return any(fnmatch.fnmatch(source_branch, f"refs/heads/{p}") for p in patterns)
        trigger = self.pipeline.get("trigger", {})
        kind = "tags" if source_branch.startswith("refs/tags/") else "branches"
        prefix = "refs/tags/" if kind == "tags" else "refs/heads/"
        patterns = trigger.get(kind, {}).get("include", [])
        return any(fnmatch.fnmatch(source_branch, prefix + pattern) for pattern in patterns)

    # -- the run -----------------------------------------------------------------------
    def run(
        self,
        source_branch: str = "refs/heads/main",
        reason: str = "IndividualCI",
        pull_request_target: str = "main",
    ) -> RunResult:
        check_branch = (
            f"refs/heads/{pull_request_target}" if reason == "PullRequest" else source_branch
        )
        if not self.triggered(check_branch, reason):
            return RunResult(triggered=False)
        result = RunResult(triggered=True)
        run_dir = self.work / f"run-{len(list(self.work.glob('run-*'))) + 1}"
        self.artifacts = run_dir / "artifacts"
        self.artifacts.mkdir(parents=True)
        variables = {
            **_variables(self.pipeline.get("variables", {})),
            "Build.SourceBranch": source_branch,
            "Build.SourceBranchName": source_branch.rsplit("/", 1)[-1],
            "Build.Reason": reason,
            "Agent.OS": HOST_OS,
        }
        stage_status: dict[str, str] = {}
        previous = None
        for stage in self.pipeline["stages"]:
            _check_keys(stage, STAGE_KEYS, f"stage {stage.get('stage')}")
            name = stage["stage"]
            depends = _as_list(stage.get("dependsOn", previous))
            previous = name
            stage_vars = {**variables, **_variables(stage.get("variables", {}))}
            deps_ok = all(stage_status.get(d) == "succeeded" for d in depends)
            status_fns = _status(
                deps_ok, failed=any(stage_status.get(d) == "failed" for d in depends)
            )
            condition = stage.get("condition", "succeeded()")
            if not evaluate(condition, stage_vars, status_fns):
                stage_status[name] = "skipped"
                for job in stage["jobs"]:
                    result.jobs.append(JobResult(name, job["job"], None, "skipped", note=condition))
                continue
            jobs = [self._run_job(name, job, stage_vars, run_dir, result) for job in stage["jobs"]]
            statuses = {job.status for group in jobs for job in group}
            stage_status[name] = "failed" if "failed" in statuses else "succeeded"
        return result

    def _run_job(
        self, stage: str, job: dict, variables: dict, run_dir: Path, result: RunResult
    ) -> list[JobResult]:
        _check_keys(job, JOB_KEYS, f"job {job.get('job')}")
        if "dependsOn" in job:
            raise UnsupportedConstruct("job dependsOn")
        job_vars = {**variables, **_variables(job.get("variables", {}))}
        legs = job.get("strategy", {}).get("matrix")
        if set(job.get("strategy", {})) - {"matrix"}:
            raise UnsupportedConstruct(f"strategy {sorted(job['strategy'])}")
        runs = []
        for leg, leg_vars in (legs or {None: {}}).items():
            leg_variables = {**job_vars, **{k: str(v) for k, v in leg_vars.items()}}
            image = expand_macros(job.get("pool", {}).get("vmImage", ""), leg_variables)
            image_os = next(
                (os_ for prefix, os_ in IMAGE_OS.items() if image.startswith(prefix)), None
            )
            if image_os is None:
                raise UnsupportedConstruct(f"pool {job.get('pool')}")
            if image_os != HOST_OS:
                problems = {
                    s["script"]: cmd_problems(s["script"])
                    for s in self._steps(job["steps"], self.project)
                    if "script" in s
                }
                problems = {script: found for script, found in problems.items() if found}
                status = "failed" if problems and image_os == "Windows_NT" else "not run"
                note = f"needs {image}" + (f"; not cmd-safe: {problems}" if problems else "")
                runs.append(JobResult(stage, job["job"], leg, status, note=note))
                continue
            condition = job.get("condition", "succeeded()")
            if not evaluate(condition, leg_variables, _status(True, failed=False)):
                runs.append(JobResult(stage, job["job"], leg, "skipped", note=condition))
                continue
            workspace = run_dir / f"{stage}.{job['job']}.{leg or 'job'}"
            runs.append(self._execute(stage, job, leg, leg_variables, workspace, result))
        result.jobs.extend(runs)
        return runs

    def _steps(self, steps: list, base: Path) -> list[dict]:
        expanded = []
        for step in steps:
            _check_keys(step, STEP_KEYS, "step keys")
            if "template" in step:
                if set(step) != {"template"}:
                    raise UnsupportedConstruct("template parameters")
                included = yaml.safe_load((base / step["template"]).read_text()) or {}
                if set(included) != {"steps"}:
                    raise UnsupportedConstruct(f"template {step['template']}: {sorted(included)}")
                expanded.extend(self._steps(included["steps"] or [], base))
            else:
                expanded.append(step)
        return expanded

    # -- one job on a fresh agent --------------------------------------------------------
    def _execute(self, stage, job, leg, variables, workspace: Path, result: RunResult) -> JobResult:
        sources, temp, home = workspace / "s", workspace / "_temp", workspace / "home"
        for directory in (workspace / "a", temp, home):
            directory.mkdir(parents=True)
        self._checkout(sources)
        variables = {
            **variables,
            "Pipeline.Workspace": str(workspace),
            "Build.SourcesDirectory": str(sources),
            "System.DefaultWorkingDirectory": str(sources),
            "Build.ArtifactStagingDirectory": str(workspace / "a"),
            "Agent.TempDirectory": str(temp),
        }
        for name, value in list(variables.items()):
            variables[name] = expand_macros(value, variables)
        env = {
            **self.base_env,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.pip_wheelhouse),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        env.update({name.upper().replace(".", "_"): value for name, value in variables.items()})
        context = {**variables, **self.secrets}
        job_result = JobResult(stage, job["job"], leg, "succeeded")
        agent = JobAgent(sources, env, self.artifacts, self.cache, self.tools, result.cache_events)
        for step in self._steps(job["steps"], self.project):
            name = step.get("displayName") or step.get("task") or step["script"]
            status = _status(job_result.status == "succeeded", failed=job_result.status == "failed")
            if not evaluate(step.get("condition", "succeeded()"), variables, status):
                job_result.steps.append(StepResult(name, "skipped"))
                continue
            step_env = {
                **env,
                **{k: expand_macros(str(v), context) for k, v in step.get("env", {}).items()},
            }
            started = time.perf_counter()
            # Macros in a step's own text may name secrets; only `env:` puts them in the
            # environment.
            if "script" in step:
                script = expand_macros(step["script"], context)
                ok, output = self._script(script, sources, step_env)
            else:
                inputs = {
                    k: expand_macros(str(v), context) for k, v in step.get("inputs", {}).items()
                }
                ok, output = run_task(step["task"], inputs, agent)
            seconds = time.perf_counter() - started
            for secret in self.secrets.values():
                output = output.replace(secret, "***")
            status_text = "succeeded" if ok else "failed"
            job_result.steps.append(StepResult(name, status_text, output, seconds))
            if not ok and not step.get("continueOnError"):
                job_result.status = "failed"
        save_caches(agent, job_result.status == "succeeded")
        return job_result

    def _checkout(self, sources: Path) -> None:
        if (self.project / ".git").is_dir():
            subprocess.run(["git", "clone", "--quiet", str(self.project), str(sources)], check=True)
        else:
            shutil.copytree(
                self.project, sources, ignore=shutil.ignore_patterns(".venv", "dist", "__pycache__")
            )

    def _script(self, script: str, cwd: Path, env: dict) -> tuple[bool, str]:
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
        )
        return completed.returncode == 0, completed.stdout + completed.stderr


def _variables(node) -> dict[str, str]:
    if isinstance(node, dict):
        return {str(k): str(v) for k, v in node.items()}
    if isinstance(node, list) and all(
        isinstance(i, dict) and set(i) == {"name", "value"} for i in node
    ):
        return {str(i["name"]): str(i["value"]) for i in node}
    raise UnsupportedConstruct(f"variables {node!r}")


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _status(all_succeeded: bool, failed: bool) -> dict[str, bool]:
    return {
        "succeeded": all_succeeded and not failed,
        "failed": failed,
        "succeededorfailed": True,
        "always": True,
        "canceled": False,
    }
