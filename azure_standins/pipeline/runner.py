"""Run a rendered azure-pipelines.yml here, the way Azure Pipelines and its agent would:
triggers, stages, jobs and legs, variables and conditions, and each step on a fresh agent.
The tasks live in tasks.py, the cache service in cache_store.py.

Only the constructs the template uses are implemented; anything else raises
UnsupportedConstruct, so a pipeline the runner cannot judge fails instead of passing.
Every rule, with its public source and the test that pins it: azure_standins/BEHAVIOURS.md.

- Triggers (triggers.py): branch, tag and path filters as Azure Repos applies them, read
  from the pushed commit; a push that no trigger matches starts no run. `pr:` is ignored, as
  Azure Repos Git ignores it: a pull request runs only when a Build Validation policy on its
  target branch names it. A pipeline resource's trigger (`completed()`) starts a run when a
  run of the pipeline it names succeeds on a branch it lists, on that run's commit.
- The project's record of runs (results.Runs), which its pipelines share: run ids, each
  pipeline's definition id, the variables a run was queued with (`run(variables=...)`:
  exported into every step, read-only, never over the YAML's), and each run's artifacts,
  which a later run of another pipeline may download. "Rerun failed jobs"
  (`rerun_failed_jobs()`) continues a finished run.
- Stage output variables (`isOutput=true` from a named step) reach the conditions of later
  stages as `dependencies.<Stage>.outputs['<Job>.<step>.<NAME>']`.
- Stages run in order; `dependsOn` (default: the previous stage) and `condition` (default:
  `succeeded()` of the dependencies). Jobs likewise within a stage, in order, their
  `dependsOn` naming none by default.
- Pools: `pool: name:` (self-hosted) runs here, as an agent of that pool. `pool: vmImage:`
  (Microsoft-hosted) runs here when the image has this OS and the Pythons its
  UsePythonVersion steps ask for are on this machine; otherwise the leg is reported as not
  run, and an image of another OS has its `script:` lines checked for cmd instead (bash and
  cmd must both run them; portable_script.py).
- `strategy.matrix`: each leg gets its variables. Deployment jobs (`deployment:` on an
  `environment:`, `strategy.runOnce.deploy.steps`) check out nothing unless a step says
  `checkout: self`, and download the run's artifacts unless a step says `download: none`.
- Checkout: the run's commit (a tag's, for a tag build), fetched one commit deep unless
  `fetchDepth: 0`, which fetches every branch, as the agent does for new pipelines.
- Variables at pipeline, stage, job and leg level, and the predefined ones. Non-secret
  variables become environment variables, upper-cased with "." turned into "_".
  `System.AccessToken` is secret: a step sees it only through its own `env:` mapping (or a
  `$(System.AccessToken)` macro in its own text), and its value is masked in logs.
- `$(Name)` macros and `condition:` expressions: expressions.py.
- Every job starts on a fresh agent: an empty work directory and HOME; a self-hosted agent
  keeps its work folder (`Agent.WorkFolder`) from run to run.
- The host: the runner stands in for Azure DevOps Services or Server, as the project's
  answers say, and refuses before any job what that host lacks (hosts.py).
- Service connections are protected resources: a job that names one runs only past its
  checks (protected.py). Job and step `timeoutInMinutes` are enforced.
- A run with a leg this machine cannot run is "incomplete", never "succeeded" (results.py).
- `script:` runs in bash in System.DefaultWorkingDirectory; `template:` includes a steps file,
  with its `parameters:` (compile_time.py).

The agent's network is what the environment it is given reaches: through the tests' proxy,
only the feed's hosts. `pypi`, where given, is a wheelhouse the agent's pip reads as its
default index (PIP_NO_INDEX and PIP_FIND_LINKS), for an agent that may reach PyPI, as
Microsoft-hosted agents can; without it, pip's default index (pypi.org) is out of reach, as
on an agent in a private network, and no test reaches PyPI either way.
"""

import dataclasses
import os
import platform
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import yaml

from azure_standins.git_repo import git
from azure_standins.pipeline.cache_store import CacheStore
from azure_standins.pipeline.compile_time import (
    compile_pipeline,
    declared_variables,
    template_steps,
)
from azure_standins.pipeline.expressions import (
    UnsupportedConstruct,
    evaluate,
    expand_macros,
    lookup,
)
from azure_standins.pipeline.hosts import (
    check_pool,
    check_step,
    collection_of,
    host_name,
    release_of,
)
from azure_standins.pipeline.portable_script import cmd_problems
from azure_standins.pipeline.protected import (
    Checks,
    Pool,
    Resources,
    ServiceConnection,
    check_failures,
    connections_used,
    unresolved,
)
from azure_standins.pipeline.results import JobResult, RunResult, Runs, StepResult
from azure_standins.pipeline.tasks import TASKS, JobAgent, ToolCache, run_task, save_caches
from azure_standins.pipeline.triggers import pipeline_trigger, push_triggers
from azure_standins.rules import applies

HOST_OS = {"Linux": "Linux", "Windows": "Windows_NT", "Darwin": "Darwin"}[platform.system()]
HOST_ARCHITECTURE = {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64"}.get(
    platform.machine().lower(), platform.machine()
)
IMAGE_OS = {"ubuntu": "Linux", "windows": "Windows_NT", "macos": "Darwin"}
PIPELINE_KEYS = {"trigger", "pr", "resources", "variables", "stages", "name"}
STAGE_KEYS = {
    "stage",
    "displayName",
    "dependsOn",
    "condition",
    "jobs",
    "variables",
    "lockBehavior",
}
COMMON_JOB_KEYS = {
    "displayName",
    "dependsOn",
    "condition",
    "strategy",
    "pool",
    "variables",
    "timeoutInMinutes",
}
JOB_KEYS = {"job", "steps", *COMMON_JOB_KEYS}
DEPLOYMENT_KEYS = {"deployment", "environment", *COMMON_JOB_KEYS}
STEP_KEYS = {
    "script",
    "task",
    "template",
    "parameters",
    "checkout",
    "download",
    "fetchDepth",
    "displayName",
    "inputs",
    "env",
    "condition",
    "name",
    "continueOnError",
    "timeoutInMinutes",
}
CHECKOUT_KEYS = {"checkout", "fetchDepth"}
# Predefined variables a template expression cannot see (Microsoft Learn, "Predefined
# variables", column "Available in templates?"), besides every Agent.* variable and the
# pipeline resources' variables.
RUNTIME_ONLY = {"Build.BuildId"}
# New pipelines fetch shallowly, one commit deep, unless a checkout step says otherwise.
DEFAULT_FETCH_DEPTH = 1
# A job's timeout when it names none, and what `timeoutInMinutes: 0` means on
# Microsoft-hosted agents of a private project; on self-hosted agents 0 means no limit.
DEFAULT_JOB_MINUTES = 60
AGENT_NAME = "Azure Pipelines 1"
# Logging commands (Microsoft Learn, "Logging commands"), each alone on its line.
SET_VARIABLE = re.compile(
    r"^##vso\[task\.setvariable variable=([\w.]+)([^\]]*)\](.*)$", re.MULTILINE
)
BUILD_NUMBER = re.compile(r"^##vso\[build\.updatebuildnumber\](.+)$", re.MULTILINE)
PREPEND_PATH = re.compile(r"^##vso\[task\.prependpath\](.+)$", re.MULTILINE)


def _check_keys(node: dict, allowed: set, where: str) -> None:
    unknown = set(node) - allowed
    if unknown:
        raise UnsupportedConstruct(f"{where}: {sorted(unknown)}")


class PipelineRunner:
    """One pipeline of one Azure Repos Git repository (`project`), run on this machine.

    `build_validation` names the branches whose policy builds pull requests into them: on
    Azure Repos that policy, not the YAML `pr:` block, is what starts a pull-request run.
    """

    def __init__(
        self,
        project: Path,
        work: Path,
        *,
        cache: CacheStore,
        tools: ToolCache,
        access_token: str,
        env: dict[str, str],
        pypi: Path | None = None,
        build_validation: frozenset[str] = frozenset(),
        minute: float = 60.0,
        service_connections: dict[str, ServiceConnection] | None = None,
        environments: dict[str, Checks] | None = None,
        pools: dict[str, Pool] | frozenset[str] | None = None,
        release: str | None = None,
        architecture: str = HOST_ARCHITECTURE,
        pipeline_file: str = "azure-pipelines.yml",
        name: str = "",
        runs: Runs | None = None,
        image_ca: Path | None = None,
    ) -> None:
        self.project = project
        self.work = work
        self.cache = cache
        self.tools = tools
        self.secrets = {"System.AccessToken": access_token}
        # Protected resources, with their checks (protected.py); their tokens are secrets.
        if isinstance(pools, frozenset):  # pools that exist, open to every pipeline
            pools = {pool: Pool() for pool in pools}
        self.resources = Resources(service_connections or {}, environments or {}, pools)
        self.connections = self.resources.connections
        # What logs never show: the job's token and every service connection's.
        self.masked = [access_token, *(c.token for c in self.connections.values())]
        self.base_env = env
        self.pypi = pypi
        # The agents' Docker: base images it pulled trust `image_ca` (a company's own CA);
        # what it pushes lands under `registries`, a folder per registry.
        self.image_ca = image_ca
        self.registries = work / "registries"
        # The branches with policies: a Build Validation policy protects its branch.
        self.build_validation = build_validation
        # Seconds in a pipeline minute: tests of timeouts shorten it.
        self.minute = minute
        # One pipeline of the repository: its YAML file, as the pipeline was created from.
        self.pipeline_file = pipeline_file
        # Its name in Azure DevOps (what other pipelines' `resources` name as `source`), and
        # the project's record of runs, which every pipeline of the project shares.
        self.name = name or Path(pipeline_file).stem
        self.runs = runs if runs is not None else Runs()
        self.source_ref = ""
        self.pipeline = yaml.safe_load(self._read(pipeline_file))
        _check_keys(self.pipeline, PIPELINE_KEYS, "pipeline keys")
        # The Azure DevOps release this runner stands in for (hosts.py): by default the one
        # the project was rendered for.
        self.release = release or release_of(project)
        self.host = host_name(self.release)
        # Where the project's pipelines live: System.CollectionUri and System.TeamProject.
        self.collection = collection_of(project)
        # Agent.OSArchitecture of the self-hosted pools' agents (X64 or ARM64): this
        # machine's, or one the runner stands in for (tasks.py: the tool cache's folder,
        # and what an x64-only task does there). Microsoft-hosted agents are X64.
        self.architecture = architecture

    def _read(self, path: str) -> str:
        """A file of the repository as the run's commit has it: Azure reads the pipeline's
        YAML, and the templates it includes, from the commit it builds (a folder that is not
        a git repository: as it is)."""
        if not self.source_ref or not (self.project / ".git").is_dir():
            return (self.project / path).read_text()
        if not applies("runner.yaml-from-the-commit"):
            return (self.project / path).read_text()
        return git(self.project, "show", f"{self.source_ref}:{path}")

    def compiled(self, variables: dict[str, str]) -> tuple[dict, dict]:
        """The pipeline as Azure compiles it for a run, checked as Azure checks it before
        any job (an unknown task, or what the release lacks, refuses the run), and each
        job's plan, (steps, legs), by (stage, job) name."""
        pipeline = compile_pipeline(self.pipeline, variables)
        plans = {}
        for stage in pipeline["stages"]:
            for job in stage["jobs"]:
                check_pool(self.release, job.get("pool") or {})
                # _job_plan checks each step against the release as it expands them.
                plan = plans[stage["stage"], _job_name(job)] = self._job_plan(job)
                for step in plan[0]:
                    unknown = "task" in step and step["task"] not in TASKS
                    if unknown and applies("runner.refuse-unknown"):
                        raise UnsupportedConstruct(f"task {step['task']}")
        return pipeline, plans

    # -- triggers ----------------------------------------------------------------------
    def triggered(self, source_branch: str, reason: str, pull_request_target: str = "") -> bool:
        if reason in ("Manual", "ResourceTrigger"):
            # Queued by hand, on any branch or tag (Microsoft Learn, "Run a pipeline": Run
            # pipeline, Branch/tag), or by a pipeline resource (completed()): no CI trigger
            # applies.
            return True
        if reason == "PullRequest":
            # Azure Repos Git ignores `pr:`; a Build Validation policy is the only way.
            if not applies("runner.pr-ignored"):
                return "pr" in self.pipeline
            return pull_request_target in self.build_validation
        # The trigger as the pushed commit has it: a branch that adds itself to `trigger`
        # starts a run.
        self.source_ref = source_branch
        pipeline = yaml.safe_load(self._read(self.pipeline_file))
        return push_triggers(
            pipeline.get("trigger"), source_branch, self._changed_paths(source_branch)
        )

    def completed(self, upstream: RunResult) -> RunResult:
        """A pipeline completion trigger: runs this pipeline when `upstream`, a run of
        another pipeline of the project, succeeded on a branch one of its `resources.pipelines`
        triggers on. The branch filters are read from the default branch's version of this
        pipeline; the run builds the upstream run's commit, as both live in one repository
        (Microsoft Learn, "Trigger one pipeline after another")."""
        if upstream.status == "incomplete":
            raise UnsupportedConstruct(
                f"run {upstream.run_id} of {upstream.pipeline} has legs not run here "
                f"({upstream.not_run}): whether Azure would trigger on it is unknown"
            )
        self.source_ref = "refs/heads/main"  # Default branch for manual and scheduled builds
        default = yaml.safe_load(self._read(self.pipeline_file))
        for resource in (default.get("resources") or {}).get("pipelines") or []:
            if resource.get("source") != upstream.pipeline:
                continue
            succeeded = upstream.succeeded or not applies("triggers.pipeline-completion")
            if succeeded and pipeline_trigger(resource.get("trigger"), upstream.source_branch):
                return self.run(
                    upstream.source_branch,
                    "ResourceTrigger",
                    resources={resource["pipeline"]: upstream},
                )
        return RunResult(triggered=False, pipeline=self.name)

    def _pull_request_merge(self, source: str, target: str) -> str:
        """Azure's refs/pull/N/merge: the pull request's branch merged into its target (one
        pull request, and number, per branch)."""
        number = self.runs.pull_requests.setdefault(source, len(self.runs.pull_requests) + 1)
        ref = f"refs/pull/{number}/merge"
        if not applies("runner.pull-request-merge"):
            return source
        if not (self.project / ".git").is_dir():
            return ref
        target_ref = f"refs/heads/{target}"
        tree = git(self.project, "merge-tree", "--write-tree", target_ref, source).split()[0]
        message = f"Merge pull request {number} from {source} into {target}"
        commit = git(
            self.project, "commit-tree", tree, "-p", target_ref, "-p", source, "-m", message
        ).strip()
        git(self.project, "update-ref", ref, commit)
        return ref

    def _changed_paths(self, ref: str) -> list[str]:
        """The files the push of `ref` changed: its commit against its parent (every file
        for a first commit; every file of a folder that is not a git repository)."""
        if not (self.project / ".git").is_dir():
            return [str(p.relative_to(self.project)) for p in self.project.rglob("*")]
        commit = f"{ref}^{{commit}}"
        listed = git(self.project, "show", "--name-only", "--format=", "--first-parent", commit)
        return [line for line in listed.splitlines() if line]

    # -- the run -----------------------------------------------------------------------
    def run(
        self,
        source_branch: str = "refs/heads/main",
        reason: str = "IndividualCI",
        pull_request_target: str = "main",
        *,
        variables: dict[str, str] | None = None,
        resources: dict[str, RunResult] | None = None,
    ) -> RunResult:
        """A run of `source_branch` for `reason`. `variables`: those set at queue time, which
        only a run queued by hand has; `resources`: by alias, the pipeline runs whose
        completion triggered this one."""
        if not self.triggered(source_branch, reason, pull_request_target):
            return RunResult(triggered=False, pipeline=self.name)
        if variables and reason != "Manual":
            raise UnsupportedConstruct(f"queue-time variables on a {reason} run")
        run_id = len(list(self.work.glob("run-*"))) + 1
        run_dir = self.work / f"run-{run_id}"
        (run_dir / "artifacts").mkdir(parents=True)
        pull_request = {}
        if reason == "PullRequest":
            # Azure builds a pull request's merge into its target, under refs/pull/N/merge.
            self.source_ref = self._pull_request_merge(source_branch, pull_request_target)
            pull_request = {
                "System.PullRequest.SourceBranch": source_branch,
                "System.PullRequest.TargetBranch": f"refs/heads/{pull_request_target}",
            }
        else:
            self.source_ref = source_branch
        commit = ""
        if (self.project / ".git").is_dir():
            commit = git(self.project, "rev-parse", f"{self.source_ref}^{{commit}}").strip()
            if reason == "ResourceTrigger" and applies("runner.yaml-from-the-commit"):
                # Pipelines of one repository: the triggered run builds the triggering
                # run's commit.
                (commit,) = {upstream.commit for upstream in resources.values()}
                self.source_ref = commit
        self.pipeline = yaml.safe_load(self._read(self.pipeline_file))
        _check_keys(self.pipeline, PIPELINE_KEYS, "pipeline keys")
        if resources is None:
            resources = self._latest_resources()
        predefined = {
            **self.collection,
            "Build.BuildId": str(run_id),
            "Build.SourceBranch": source_branch if reason != "PullRequest" else self.source_ref,
            "Build.SourceBranchName": source_branch.rsplit("/", 1)[-1],
            "Build.SourceVersion": commit,
            "Build.Reason": reason,
            "Build.DefinitionName": self.name,
            "System.DefinitionId": str(self.runs.definition_id(self.name)),
            **pull_request,
            **_resource_variables(
                resources or {}, self.runs, self.collection["System.TeamProjectId"]
            ),
        }
        declared = _variables(declared_variables(self.pipeline))
        # Queue-time variables: a variable the YAML declares keeps the YAML's value
        # (Microsoft Learn, "Define variables": allow at queue time); any other is added.
        queued = {
            name: value
            for name, value in (variables or {}).items()
            if not (applies("runner.queue-time-variables") and lookup(declared, name) is not None)
        }
        # Compile time sees only the predefined variables "available in templates".
        templates = {
            name: value
            for name, value in predefined.items()
            if name not in RUNTIME_ONLY and not name.startswith("resources.")
        }
        pipeline, plans = self.compiled({**declared, **queued, **templates})
        result = RunResult(
            triggered=True,
            pipeline=self.name,
            run_id=run_id,
            reason=reason,
            source_branch=predefined["Build.SourceBranch"],
            commit=commit,
            queued_with=queued,
            folder=run_dir,
        )
        self.runs.add(result)
        result.refused = [
            error
            for stage in pipeline["stages"]
            for job in stage["jobs"]
            for error in unresolved(
                _job_name(job),
                plans[stage["stage"], _job_name(job)][0],
                job.get("pool") or {},
                self.resources,
                self.name,
            )
        ]
        if result.refused:
            return result
        result.state = {
            "pipeline": pipeline,
            "plans": plans,
            # Compile time, then the run: a queue-time variable overrides none of the YAML's.
            "variables": {
                **_variables(pipeline.get("variables") or {}),
                **queued,
                **predefined,
                "Agent.OS": HOST_OS,
            },
            "source_ref": self.source_ref,
            "attempts": {},
        }
        self._run_stages(result, previous=None)
        return result

    def _latest_resources(self) -> dict[str, RunResult]:
        """A run that no pipeline's completion started takes, for each pipeline resource, the
        latest successful run of its source pipeline, on any branch (YAML schema:
        resources.pipelines.pipeline `version` and `branch`)."""
        latest = {}
        for resource in (self.pipeline.get("resources") or {}).get("pipelines") or []:
            if set(resource) - {"pipeline", "source", "trigger"}:
                raise UnsupportedConstruct(f"pipeline resource {resource}")
            succeeded = [
                run
                for run in self.runs.by_id.values()
                if run.pipeline == resource["source"] and run.succeeded
            ]
            if succeeded:
                latest[resource["pipeline"]] = max(succeeded, key=lambda run: run.run_id)
        return latest

    def rerun_failed_jobs(self, result: RunResult) -> RunResult:
        """ "Rerun failed jobs" on a finished run: the same run (its id, commit, queue-time
        variables and artifacts), where the jobs that succeeded keep their result and outputs,
        and each failed or canceled job runs again with System.JobAttempt one higher; the
        stages skipped because of a failure are evaluated again (Microsoft Learn, "Stages":
        rerun; "Predefined variables": System.JobAttempt)."""
        if not applies("runner.rerun-failed-jobs"):
            return self.run(result.source_branch, result.reason, variables=result.queued_with)
        # The same run, without what its jobs reported.
        again = dataclasses.replace(result, jobs=[], cache_events=[], refused=[], outputs={})
        self.source_ref = result.state["source_ref"]
        self.runs.add(again)
        self._run_stages(again, previous=result)
        return again

    def _run_stages(self, result: RunResult, previous: RunResult | None) -> None:
        state = result.state
        state["running"] = True
        try:
            self._stages(result, previous)
        finally:
            state["running"] = False

    def _stages(self, result: RunResult, previous: RunResult | None) -> None:
        state = result.state
        pipeline, plans, variables = state["pipeline"], state["plans"], state["variables"]
        self.artifacts = result.artifacts
        stage_status: dict[str, str] = {}
        prior = None
        for stage in pipeline["stages"]:
            _check_keys(stage, STAGE_KEYS, f"stage {stage.get('stage')}")
            if stage.get("lockBehavior", "sequential") not in ("sequential", "runLatest"):
                raise UnsupportedConstruct(f"lockBehavior {stage['lockBehavior']!r}")
            name = stage["stage"]
            depends = _as_list(stage.get("dependsOn", prior))
            prior = name
            stage_vars = {**variables, **_variables(stage.get("variables", {}))}
            # A stage after one whose legs did not all run here runs as if they had
            # succeeded; the run then stays incomplete, never "succeeded".
            statuses = [stage_status.get(d) for d in depends]
            if not applies("runner.stage-dependencies"):
                statuses = []
            status_fns = _status(
                all(s in ("succeeded", "incomplete") for s in statuses),
                failed="failed" in statuses,
            )
            # What a stage's condition knows of the stages it depends on: their results and
            # output variables (a careless double would pass none on).
            shared = applies("runner.stage-outputs")
            dependencies = {
                d: {
                    "result": _RESULTS.get(stage_status.get(d, "")),
                    "outputs": result.outputs.get(d, {}) if shared else {},
                }
                for d in depends
            }
            condition = stage.get("condition", "succeeded()")
            if not evaluate(condition, stage_vars, status_fns, dependencies):
                stage_status[name] = "skipped"
                for job in stage["jobs"]:
                    result.jobs.append(
                        JobResult(name, _job_name(job), None, "skipped", note=condition)
                    )
                continue
            # Jobs run in order; one that names others in `dependsOn` runs after them, and by
            # default only if they succeeded.
            job_status: dict[str, str] = {}
            for job in stage["jobs"]:
                depends_on = [job_status.get(d) for d in _as_list(job.get("dependsOn", []))]
                if not applies("runner.job-dependencies"):
                    depends_on = []
                legs = self._run_job(
                    name, job, plans[name, _job_name(job)], stage_vars, result, previous,
                    depends_on,
                )  # fmt: skip
                job_status[_job_name(job)] = _stage_status({leg.status for leg in legs})
            stage_status[name] = _stage_status(set(job_status.values()))

    def _run_job(
        self,
        stage: str,
        job: dict,
        plan: tuple,
        variables: dict,
        result: RunResult,
        previous: RunResult | None,
        depends_on: list[str | None],
    ) -> list[JobResult]:
        """The job's legs; on a rerun (`previous`), those that succeeded keep their result.
        `depends_on`: the statuses of the jobs it depends on."""
        name = _job_name(job)
        _check_keys(job, DEPLOYMENT_KEYS if "deployment" in job else JOB_KEYS, f"job {name}")
        dependencies = _status(
            all(s in ("succeeded", "incomplete") for s in depends_on),
            failed="failed" in depends_on,
        )
        job_vars = {**variables, **_variables(job.get("variables", {}))}
        steps, legs = plan
        runs = []
        for leg, leg_vars in legs.items():
            kept = previous and next(
                (
                    j
                    for j in previous.jobs
                    if (j.stage, j.job, j.leg) == (stage, name, leg)
                    and j.status in ("succeeded", "not run")
                ),
                None,
            )
            if kept:
                runs.append(kept)
                outputs = previous.outputs.get(stage, {})
                result.outputs.setdefault(stage, {}).update(
                    {key: value for key, value in outputs.items() if key.startswith(f"{name}.")}
                )
                continue
            attempt = result.state["attempts"][stage, name, leg] = (
                result.state["attempts"].get((stage, name, leg), 0) + 1
            )
            leg_variables = {
                **job_vars,
                **{k: str(v) for k, v in leg_vars.items()},
                "System.JobAttempt": str(attempt),
            }
            elsewhere = self._not_run_here(job, steps, leg_variables)
            if elsewhere:
                status, note = elsewhere
                runs.append(JobResult(stage, name, leg, status, note=note))
                continue
            condition = job.get("condition", "succeeded()")
            if not evaluate(condition, leg_variables, dependencies):
                runs.append(JobResult(stage, name, leg, "skipped", note=condition))
                continue
            workspace = result.folder / f"{stage}.{name}.{leg or 'job'}"
            if attempt > 1:
                workspace = workspace.with_name(f"{workspace.name}.attempt-{attempt}")
            if not applies("runner.fresh-agent"):
                workspace = result.folder / "one-agent"
            environment = job.get("environment") if "deployment" in job else None
            minutes = self._job_minutes(job)
            work_folder = self._agent_work_folder(job, workspace)
            leg_variables["Agent.WorkFolder"] = str(work_folder)
            leg_variables["Agent.ToolsDirectory"] = str(work_folder / "_tool")
            self_hosted = "name" in job["pool"] and applies("runner.agent-architecture")
            leg_variables["Agent.OSArchitecture"] = self.architecture if self_hosted else "X64"
            runs.append(
                self._execute(
                    stage,
                    name,
                    leg,
                    steps,
                    job["pool"],
                    environment,
                    leg_variables,
                    workspace,
                    result,
                    minutes,
                )
            )
        result.jobs.extend(runs)
        return runs

    def _agent_work_folder(self, job: dict, workspace: Path) -> Path:
        """A self-hosted agent keeps its work folder from run to run (each run's workspace
        inside it is cleaned); a Microsoft-hosted agent is a new machine for every job."""
        pool = job["pool"]
        if "name" in pool and applies("runner.self-hosted-agents-keep-their-disk"):
            folder = self.work / "agents" / expand_macros(str(pool["name"]), {}) / "_work"
        else:
            folder = workspace / "agent-work"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def _job_minutes(job: dict) -> float | None:
        """The job's time limit in minutes, None for none (0 on a self-hosted pool)."""
        minutes = int(job.get("timeoutInMinutes", DEFAULT_JOB_MINUTES))
        if minutes == 0:
            return None if "name" in job["pool"] else DEFAULT_JOB_MINUTES
        return minutes

    def _job_plan(self, job: dict) -> tuple[list[dict], dict]:
        """The job's steps (templates expanded) and its legs (leg name -> variables)."""
        strategy = job.get("strategy", {})
        if "deployment" in job:
            if set(strategy) != {"runOnce"} or set(strategy["runOnce"]) != {"deploy"}:
                raise UnsupportedConstruct(f"deployment strategy {strategy}")
            if not isinstance(job.get("environment"), str):
                raise UnsupportedConstruct(f"environment {job.get('environment')!r}")
            return self._steps(strategy["runOnce"]["deploy"]["steps"]), {None: {}}
        if set(strategy) - {"matrix"}:
            raise UnsupportedConstruct(f"strategy {sorted(strategy)}")
        return self._steps(job["steps"]), strategy.get("matrix") or {None: {}}

    def _not_run_here(self, job: dict, steps: list[dict], variables: dict) -> tuple | None:
        """(status, note) for a leg that needs a Microsoft-hosted image this machine is not.

        A self-hosted pool (`pool: name:`) is this machine: its legs always run here. A
        hosted image of another OS is not run: its scripts are checked for cmd instead,
        and fail the leg if cmd would not run them. A hosted image of this OS whose tool
        cache has a Python this machine lacks is not run either.
        """
        pool = job.get("pool")
        if not isinstance(pool, dict) or len(pool) != 1 or not ({"name", "vmImage"} & set(pool)):
            raise UnsupportedConstruct(f"pool {pool!r}")
        if "name" in pool or not applies("runner.hosted-images"):
            return None
        image = expand_macros(pool["vmImage"], variables)
        image_os = next((os_ for prefix, os_ in IMAGE_OS.items() if image.startswith(prefix)), None)
        if image_os is None:
            raise UnsupportedConstruct(f"pool {pool}")
        if image_os != HOST_OS:
            problems = {s["script"]: cmd_problems(s["script"]) for s in steps if "script" in s}
            problems = {script: found for script, found in problems.items() if found}
            status = "failed" if problems and image_os == "Windows_NT" else "not run"
            return status, f"needs {image}" + (f"; not cmd-safe: {problems}" if problems else "")
        for step in steps:
            if step.get("task") == "UsePythonVersion@0":
                version = expand_macros(str(step["inputs"]["versionSpec"]), variables)
                if self.tools.find(version) is None:
                    return "not run", f"needs {image} with Python {version}, not on this machine"
        return None

    def _steps(self, steps: list) -> list[dict]:
        expanded = []
        for step in steps:
            check_step(self.release, step)
            _check_keys(step, STEP_KEYS, "step keys")
            if "template" in step:
                expanded.extend(self._steps(template_steps(step, self._read)))
            elif "checkout" in step:
                if step["checkout"] not in ("self", "none") or set(step) - CHECKOUT_KEYS:
                    raise UnsupportedConstruct(f"checkout {step}")
                expanded.append(step)
            elif "download" in step:
                if step != {"download": "none"}:
                    raise UnsupportedConstruct(f"download {step}")
                expanded.append(step)
            else:
                expanded.append(step)
        return expanded

    # -- one job on a fresh agent --------------------------------------------------------
    def _execute(
        self,
        stage,
        name,
        leg,
        steps,
        job_pool,
        environment,
        variables,
        workspace: Path,
        result,
        minutes,
    ) -> JobResult:
        """Run one job; `environment` is a deployment job's environment (None otherwise)."""
        deployment = environment is not None
        job_started = time.perf_counter()
        sources, temp, home = workspace / "s", workspace / "_temp", workspace / "home"
        for directory in (workspace / "a", sources, temp, home):
            directory.mkdir(parents=True, exist_ok=not applies("runner.fresh-agent"))
        checkouts = [step for step in steps if "checkout" in step]
        if len(checkouts) > 1:
            raise UnsupportedConstruct("more than one checkout step")
        # A job checks out its repository first unless a step says otherwise; a deployment
        # job checks out nothing unless a step says `checkout: self`.
        if not applies("runner.deployment-jobs"):
            deployment, steps = False, [s for s in steps if s != {"download": "none"}]
        if not checkouts and not deployment:
            self._checkout(sources, DEFAULT_FETCH_DEPTH)
        if deployment and {"download": "none"} not in steps:
            # A deploy hook downloads every artifact of the run first, unless told not to.
            shutil.copytree(self.artifacts, workspace, dirs_exist_ok=True)
        variables = {
            **variables,
            "Pipeline.Workspace": str(workspace),
            "Build.SourcesDirectory": str(sources),
            "System.DefaultWorkingDirectory": str(sources),
            "Build.ArtifactStagingDirectory": str(workspace / "a"),
            "System.ArtifactsDirectory": str(workspace / "a"),
            "Agent.TempDirectory": str(temp),
        }
        for variable, value in list(variables.items()):
            variables[variable] = expand_macros(value, variables)
        env = {
            **self.base_env,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
        }
        if self.pypi is not None:
            env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(self.pypi))
        if applies("runner.variables-as-environment"):
            env.update({_environment_name(key): value for key, value in variables.items()})
        context = {**variables, **self.secrets}
        if not applies("runner.secrets"):  # every step sees the token, and logs show it
            env.update({_environment_name(k): v for k, v in self.secrets.items()})
        job_result = JobResult(stage, name, leg, "succeeded")
        protected = [
            ("service connection", name, self.connections[name])
            for _, name in connections_used(steps)
        ]
        pool = (self.resources.pools or {}).get(str(job_pool.get("name")))
        if pool is not None:
            protected.insert(0, ("agent pool", job_pool["name"], pool))
        if deployment:
            checks = self.resources.environments.get(environment, Checks())
            protected.insert(0, ("environment", environment, checks))
        refused = check_failures(protected, variables["Build.SourceBranch"], self.build_validation)
        if refused:
            job_result.status, job_result.note = "failed", " ".join(refused)
            return job_result
        agent = JobAgent(
            sources,
            env,
            self.artifacts,
            self.cache,
            self.tools,
            result.cache_events,
            self.host,
            tools_directory=Path(variables["Agent.ToolsDirectory"]),
            architecture=variables["Agent.OSArchitecture"],
            connections=self.connections,
            runs=self.runs,
            release=self.release,
            registries=self.registries,
            image_ca=self.image_ca,
            **self._cache_scopes(variables),
        )
        deadline = None if minutes is None else time.monotonic() + minutes * self.minute
        for step in steps:
            if "download" in step:
                continue
            if "checkout" in step:
                if step["checkout"] == "self":
                    self._checkout(sources, int(step.get("fetchDepth", DEFAULT_FETCH_DEPTH)))
                    job_result.steps.append(StepResult("Checkout self", "succeeded"))
                continue
            step_name = step.get("displayName") or step.get("task") or step["script"]
            status = _status(job_result.status == "succeeded", failed=job_result.status == "failed")
            if not evaluate(step.get("condition", "succeeded()"), variables, status):
                job_result.steps.append(StepResult(step_name, "skipped"))
                continue
            step_env = {
                **env,
                **{k: expand_macros(str(v), context) for k, v in step.get("env", {}).items()},
            }
            started = time.perf_counter()
            # Macros in a step's own text may name secrets; only `env:` puts them in the
            # environment.
            job_timed_out = False
            if "script" in step:
                script = expand_macros(step["script"], context)
                limit = self._step_limit(step, deadline)
                ok, output, timed_out = self._script(script, sources, step_env, limit)
                job_timed_out = timed_out and deadline is not None and time.monotonic() >= deadline
                if job_timed_out:
                    output += (
                        f"\n##[error]The job running on agent {AGENT_NAME} ran longer than "
                        f"the maximum time of {minutes} minutes."
                    )
                elif timed_out:
                    output += "\n##[error]The task has timed out."
            else:
                inputs = {
                    k: expand_macros(str(v), context) for k, v in step.get("inputs", {}).items()
                }
                if step["task"] not in TASKS and not applies("runner.refuse-unknown"):
                    job_result.steps.append(StepResult(step_name, "skipped"))
                    continue
                agent.step_env = step_env
                ok, output = run_task(step["task"], inputs, agent)
            seconds = time.perf_counter() - started
            if applies("runner.secrets"):
                for secret in self.masked:
                    output = output.replace(secret, "***")
            if job_timed_out:
                # The job is canceled: no later step runs, and it saves no cache.
                job_result.steps.append(
                    StepResult(step_name, "canceled", output, seconds, started - job_started)
                )
                job_result.status = "canceled"
                job_result.note = f"ran longer than its {minutes} minutes"
                break
            if applies("runner.logging-commands"):
                outputs = result.outputs.setdefault(stage, {})
                self._logging_commands(
                    output, [variables, context, env], result, step, f"{name}.", outputs
                )
            status_text = "succeeded" if ok else "failed"
            job_result.steps.append(
                StepResult(step_name, status_text, output, seconds, started - job_started)
            )
            if not ok and not step.get("continueOnError"):
                job_result.status = "failed"
        save_caches(agent, job_result.status == "succeeded")
        for leftover in agent.post_job_cleanup:  # what tasks remove after the job
            leftover.unlink(missing_ok=True)
        job_result.seconds = time.perf_counter() - job_started
        return job_result

    @staticmethod
    def _cache_scopes(variables: dict[str, str]) -> dict:
        """The cache scopes of a job: its pipeline's, for the run's branch, which it writes, and
        main's, which it reads; a pull request writes its merge ref's and also reads its source
        and target branches' (Microsoft Learn, "Pipeline caching", cache isolation)."""
        pipeline = variables["System.DefinitionId"]
        branches = [variables["Build.SourceBranch"]]
        if variables["Build.Reason"] == "PullRequest":
            branches += [
                variables["System.PullRequest.SourceBranch"],
                variables["System.PullRequest.TargetBranch"],
            ]
        branches.append("refs/heads/main")
        scopes = tuple(dict.fromkeys(f"{pipeline}:{branch}" for branch in branches))
        return {"cache_scopes": scopes, "cache_scope": scopes[0]}

    @staticmethod
    def _logging_commands(
        output: str,
        scopes: list[dict],
        result: RunResult,
        step: dict,
        job_prefix: str,
        outputs: dict[str, str],
    ) -> None:
        """The agent's logging commands a step printed: `task.setvariable` sets a variable
        for the job's later steps (their conditions, macros and environment), never one set
        at queue time (those are read-only); with `isOutput=true` it is an output variable,
        `<step>.<NAME>` in the job and `<Job>.<step>.<NAME>` for later stages;
        `build.updatebuildnumber` renames the run; `task.prependpath` puts a folder first
        on PATH for the job's later steps."""
        variables, context, env = scopes
        for name, properties, value in SET_VARIABLE.findall(output):
            value = value.strip()
            if "isoutput=true" in properties.replace(" ", "").lower():
                if "name" not in step:
                    raise UnsupportedConstruct(
                        f"an output variable from a step without name: {name}"
                    )
                name = f"{step['name']}.{name}"
                outputs[job_prefix + name] = value
            elif lookup(result.queued_with, name) is not None and applies(
                "runner.queue-time-variables"
            ):
                continue  # read-only: Azure warns and keeps the queue-time value
            variables[name] = context[name] = value
            env[_environment_name(name)] = value
        for number in BUILD_NUMBER.findall(output):
            result.name = number
        for folder in PREPEND_PATH.findall(output):
            env["PATH"] = f"{folder.strip()}{os.pathsep}{env['PATH']}"

    def _step_limit(self, step: dict, deadline: float | None) -> float | None:
        """Seconds a step may run: its own timeoutInMinutes, and what is left of the job's."""
        if not applies("runner.timeouts"):
            return None
        limits = []
        if int(step.get("timeoutInMinutes", 0)):
            limits.append(int(step["timeoutInMinutes"]) * self.minute)
        if deadline is not None:
            limits.append(max(deadline - time.monotonic(), 0.0))
        return min(limits, default=None)

    def _checkout(self, sources: Path, fetch_depth: int) -> None:
        """What the agent's checkout does: fetch the run's commit (only it, when shallow;
        every branch otherwise) from the repository, then check it out."""
        if not (self.project / ".git").is_dir():
            shutil.copytree(
                self.project,
                sources,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".venv", "dist", "__pycache__"),
            )
            return
        commit = git(self.project, "rev-parse", f"{self.source_ref}^{{commit}}").strip()
        git(sources, "init", "-q")
        git(sources, "remote", "add", "origin", self.project.resolve().as_uri())
        fetch = ["fetch", "-q", "--force", "--tags", "--prune", "origin"]
        if fetch_depth and applies("runner.shallow-checkout"):
            git(
                sources, *fetch, f"--depth={fetch_depth}", f"+{commit}:refs/remotes/origin/{commit}"
            )
        else:
            git(sources, *fetch)
        git(sources, "checkout", "-q", "--force", commit)

    def _script(
        self, script: str, cwd: Path, env: dict, timeout: float | None
    ) -> tuple[bool, str, bool]:
        """(succeeded, output, timed out): a step past its time is stopped with everything
        it started, as the agent stops a task's process tree."""
        process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return False, output, True
        return process.returncode == 0, output, False


# A stage's status as `dependencies.<Stage>.result` gives it.
_RESULTS = {
    "succeeded": "Succeeded",
    "incomplete": "Succeeded",
    "failed": "Failed",
    "skipped": "Skipped",
}


def _resource_variables(
    resources: dict[str, RunResult], runs: Runs, project_id: str
) -> dict[str, str]:
    """The predefined variables of the pipeline resources that triggered a run
    (`resources.pipeline.<alias>.runID`, ...: Microsoft Learn, "Resources: pipelines",
    pipeline resource variables)."""
    variables = {}
    for alias, upstream in resources.items():
        prefix = f"resources.pipeline.{alias}."
        variables |= {
            prefix + "projectID": project_id,
            prefix + "runID": str(upstream.run_id),
            prefix + "runName": upstream.name or str(upstream.run_id),
            prefix + "pipelineID": str(runs.definition_id(upstream.pipeline)),
            prefix + "pipelineName": upstream.pipeline,
            prefix + "sourceBranch": upstream.source_branch,
            prefix + "sourceCommit": upstream.commit,
        }
    return variables


def _stage_status(job_statuses: set[str]) -> str:
    if job_statuses & {"failed", "canceled"}:
        return "failed"
    if "not run" in job_statuses:
        return "incomplete"
    return "succeeded" if job_statuses - {"skipped"} else "skipped"


def _environment_name(variable: str) -> str:
    """A variable's environment variable: upper-cased, "." turned into "_"."""
    return variable.upper().replace(".", "_")


def _job_name(job: dict) -> str:
    return job.get("job") or job["deployment"]


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
