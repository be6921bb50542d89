"""What a pipeline run reports: each job's steps with their status and output."""

from dataclasses import dataclass, field


@dataclass
class StepResult:
    name: str
    status: str  # succeeded, failed, skipped
    output: str = ""
    seconds: float = 0.0


@dataclass
class JobResult:
    stage: str
    job: str
    leg: str | None
    status: str  # succeeded, failed, skipped, not run
    steps: list[StepResult] = field(default_factory=list)
    note: str = ""

    def step(self, name: str) -> StepResult:
        return next(step for step in self.steps if step.name == name)


@dataclass
class RunResult:
    triggered: bool
    jobs: list[JobResult] = field(default_factory=list)
    cache_events: list[tuple[str, str]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.triggered and all(job.status != "failed" for job in self.jobs)

    def job(self, job: str, leg: str | None = None) -> JobResult:
        return next(j for j in self.jobs if j.job == job and (leg is None or j.leg == leg))

    @property
    def log(self) -> str:
        return "\n".join(
            f"[{job.stage}/{job.job}/{job.leg or '-'}] {step.name}: {step.status}\n{step.output}"
            for job in self.jobs
            for step in job.steps
        )
