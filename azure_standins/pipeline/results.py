"""What a pipeline run reports: each job's steps with their status and output; and what Azure
DevOps records of every run of a project's pipelines (Runs), which the Build REST API serves."""

from dataclasses import dataclass, field
from pathlib import Path

from azure_standins.rules import applies


@dataclass
class StepResult:
    name: str
    status: str  # succeeded, failed, canceled, skipped
    output: str = ""
    seconds: float = 0.0
    # When it started, in seconds since its job started (the checkout comes first)
    started: float = 0.0


@dataclass
class JobResult:
    stage: str
    job: str
    leg: str | None
    # succeeded, failed, canceled (ran past its timeout), skipped, or "not run": the leg
    # needs a hosted image this machine is not, so nobody knows how it would end.
    status: str
    steps: list[StepResult] = field(default_factory=list)
    note: str = ""
    # How long the job took on its agent, checkout included
    seconds: float = 0.0

    def step(self, name: str) -> StepResult:
        return next(step for step in self.steps if step.name == name)


@dataclass
class RunResult:
    triggered: bool
    jobs: list[JobResult] = field(default_factory=list)
    cache_events: list[tuple[str, str]] = field(default_factory=list)
    # Azure's errors when the compiled pipeline names a resource that does not exist or
    # is not authorized: the run fails before any job.
    refused: list[str] = field(default_factory=list)
    # The run's name (build number), as a step set it with build.updatebuildnumber
    name: str = ""
    # What Azure records of the run: its id (Build.BuildId), pipeline, why it ran
    # (Build.Reason), the ref and commit it built, the variables it was queued with
    pipeline: str = ""
    run_id: int = 0
    reason: str = ""
    source_branch: str = ""
    commit: str = ""
    queued_with: dict[str, str] = field(default_factory=dict)
    # Each stage's outputs (`<Job>.<step>.<NAME>`), for the conditions of later stages
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    # Where the run keeps its artifacts
    folder: Path | None = None
    # What a rerun of its failed jobs needs: the compiled pipeline, its plans, variables
    state: dict = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        """not triggered, failed, incomplete (no job failed, but some legs did not run
        here: the run proves nothing about them), or succeeded."""
        if not self.triggered:
            return "not triggered"
        if self.refused or any(job.status in ("failed", "canceled") for job in self.jobs):
            return "failed"
        if not applies("runner.incomplete-runs"):
            return "succeeded"
        return "incomplete" if self.not_run else "succeeded"

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def not_run(self) -> list[str]:
        """The legs this machine could not run, as "Stage/Job/Leg"."""
        return [
            f"{job.stage}/{job.job}/{job.leg or job.job}"
            for job in self.jobs
            if job.status == "not run"
        ]

    @property
    def artifacts(self) -> Path:
        assert self.folder is not None, "a run that never started has no artifacts"
        return self.folder / "artifacts"

    def job(self, job: str, leg: str | None = None) -> JobResult:
        return next(j for j in self.jobs if j.job == job and (leg is None or j.leg == leg))

    @property
    def log(self) -> str:
        steps = "\n".join(
            f"[{job.stage}/{job.job}/{job.leg or '-'}] {step.name}: {step.status}\n{step.output}"
            for job in self.jobs
            for step in job.steps
        )
        refused = "".join(f"##[error]{error}\n" for error in self.refused)
        return f"run {self.status}; not run here: {self.not_run or 'none'}\n{refused}{steps}"


@dataclass
class Runs:
    """The runs of a project's pipelines, as Azure DevOps records them: by id (Build.BuildId,
    one sequence for every pipeline of the project), with each pipeline's definition id
    (System.DefinitionId)."""

    by_id: dict[int, RunResult] = field(default_factory=dict)
    definitions: dict[str, int] = field(default_factory=dict)
    # The pull request of each source branch, by number (refs/pull/N/merge)
    pull_requests: dict[str, int] = field(default_factory=dict)

    def definition_id(self, pipeline: str) -> int:
        return self.definitions.setdefault(pipeline, len(self.definitions) + 1)

    def add(self, result: RunResult) -> None:
        self.by_id[result.run_id] = result
