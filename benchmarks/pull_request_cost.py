"""What a pull request costs: agent jobs, each job's fixed cost, and the wall time.

Runs warm pull-request builds (the second run on the same commit, as most pull requests
are) with the pipeline runner (azure_standins.pipeline) against the feed emulator with a
per-request latency (default 30 ms), for the project of benchmarks/pipeline_cache.py and
three ways to test every supported Python:

- template: the generated azure-pipelines.yml, one Linux job testing every Python and one
  Windows job testing the lowest;
- template, a job per Python: the same with `job_per_python` (the layout before);
- seed: uv's docs' pattern (pip install uv from PyPI, Cache@2, `uv sync --locked`, `uv run
  pytest`, `uv cache prune --ci`) as a job per Python;
- Microsoft: the per-version matrix of Microsoft's Python pipeline docs (UsePythonVersion,
  Cache@2 on pip's cache, `pip install -r requirements.txt`, pytest) as a job per Python.

A job's fixed cost is the time from its start (checkout included) to the start of its
first test step. The wall time with 1 and with 5 parallel jobs is the measured jobs laid
out on that many agents, longest first. This machine has CPython 3.11 to 3.13 for a
project (3.10 is past its end of life), so the template's Linux job is measured with 1, 2
and 3 Pythons and its growth fitted to a line; Windows jobs, which need a Windows image,
are counted as long as a one-Python Linux job. Azure's own per-job costs (finding an agent,
downloading the tasks) come on top of every job and are not measured here.

    uv run python -m benchmarks.pull_request_cost [--latency 0.03]
"""

import argparse
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from azure_standins.azure_hosts import AzureHosts
from azure_standins.feed_emulator import FeedEmulator
from azure_standins.git_repo import git, with_git_identity
from azure_standins.pipeline import CacheStore, PipelineRunner, ToolCache
from azure_standins.template_facts import EXAMPLE_PROJECT, PINNED_UV
from azure_standins.uv_environment import Interpreter, machine_pythons
from azure_standins.wheelhouse import tools_wheelhouse, upstream_wheelhouse
from benchmarks.pipeline_cache import SEED_VARIABLES, agent_env, prepare_project
from tests.machine import keep_the_pythons_the_agents_have

PYTHONS = ("3.11", "3.12", "3.13")  # this machine's supported ones, lowest first
PARALLEL = (1, 5)
SUPPORTED = 5  # Pythons a project supports today: 3.11 to 3.15


@dataclass
class Job:
    fixed: float  # seconds from the job's start to its first test
    seconds: float  # the whole job


def wall_time(jobs: list[float], agents: int) -> float:
    """The jobs laid out on `agents` parallel agents, longest first, each on the agent
    that is free first."""
    busy = [0.0] * agents
    for seconds in sorted(jobs, reverse=True):
        busy[busy.index(min(busy))] += seconds
    return max(busy)


def matrix_pipeline(pythons: list[str], steps: list[dict], variables: dict) -> dict:
    """A job per Python on ubuntu-latest, as uv's and Microsoft's docs lay it out."""
    legs = {f"Python_{p.replace('.', '_')}": {"PY": p} for p in pythons}
    use_python = {"task": "UsePythonVersion@0", "inputs": {"versionSpec": "$(PY)"}}
    job = {
        "job": "Test",
        "strategy": {"matrix": legs},
        "pool": {"vmImage": "ubuntu-latest"},
        "steps": [use_python, *steps],
    }
    trigger = {"branches": {"include": ["main"]}}
    return {
        "trigger": trigger,
        "variables": variables,
        "stages": [{"stage": "Test", "jobs": [job]}],
    }


def seed_pipeline(pythons: list[str]) -> dict:
    token = {"UV_INDEX_AZURE_DEVOPS_PASSWORD": "$(System.AccessToken)"}
    steps = [
        {"script": f"python -m pip install uv=={PINNED_UV}", "displayName": "Install uv"},
        {
            "task": "Cache@2",
            "displayName": "Restore the cache",
            "inputs": {
                "key": '"uv" | "$(Agent.OS)" | "$(PY)" | uv.lock',
                "restoreKeys": '"uv" | "$(Agent.OS)" | "$(PY)"',
                "path": "$(UV_CACHE_DIR)",
            },
        },
        {"script": "uv sync --locked --python $(PY)", "displayName": "Install", "env": token},
        {"script": "uv run --no-sync pytest", "displayName": "Test"},
        {"script": "uv cache prune --ci", "displayName": "Prune the cache"},
    ]
    return matrix_pipeline(pythons, steps, SEED_VARIABLES)


def microsoft_pipeline(pythons: list[str], index_url: str) -> dict:
    authenticated = index_url.replace("://", "://VssSessionToken:$(System.AccessToken)@")
    steps = [
        {
            "task": "Cache@2",
            "displayName": "Restore the cache",
            "inputs": {
                "key": 'pip | "$(Agent.OS)" | "$(PY)" | requirements.txt',
                "restoreKeys": 'pip | "$(Agent.OS)" | "$(PY)"',
                "path": "$(PIP_CACHE_DIR)",
            },
        },
        {
            "script": "python -m pip install --disable-pip-version-check "
            f"--index-url {authenticated} -r requirements.txt",
            "displayName": "Install",
        },
        {
            "script": "python -m pip install --disable-pip-version-check --no-deps "
            f"--index-url {authenticated} -e .",
            "displayName": "Install the project",
        },
        {"script": "python -m pytest", "displayName": "Test"},
    ]
    return matrix_pipeline(pythons, steps, {"PIP_CACHE_DIR": "$(Pipeline.Workspace)/.pip"})


class Bench:
    def __init__(self, work: Path, hosts: AzureHosts, pythons: list[Interpreter]) -> None:
        self.work, self.hosts, self.pythons = work, hosts, pythons
        self.runs = 0

    def warm_jobs(self, project: Path, pypi: Path | None = None) -> list[Job]:
        """The jobs of a warm pull-request build of `project`'s main (hosted jobs this
        machine cannot run left out)."""
        self.runs += 1
        emulator = self.hosts.emulator
        git(project, "branch", "-f", "feature")
        runner = PipelineRunner(
            project,
            self.work / f"agent-{self.runs}",
            cache=CacheStore(self.work / f"cache-{self.runs}"),
            tools=ToolCache([p.path for p in self.pythons]),
            access_token=emulator.feeds[0].token,
            env=agent_env(self.work, self.pythons[0], self.hosts),
            pypi=pypi,
            build_validation=frozenset({"main"}),
        )
        runner.run()  # main's build fills the cache pull requests restore
        result = runner.run("refs/heads/feature", "PullRequest", "main")
        ran = [job for job in result.jobs if job.status != "not run"]
        if result.status == "failed" or not ran:
            raise SystemExit(f"{project.name} failed:\n{result.log}")
        return [Job(_first_test(job), job.seconds) for job in ran]


def _first_test(job) -> float:
    return next(step.started for step in job.steps if step.name.startswith("Test"))


def pipeline_project(project: Path, name: str, pipeline: dict) -> Path:
    copy = project.parent / name
    shutil.copytree(project, copy)
    (copy / "azure-pipelines.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    git(copy, "commit", "-q", "-am", f"The {name} pipeline")
    return copy


def rendered(bench: Bench, lowest: Interpreter, name: str, **answers) -> Path:
    project = prepare_project(bench.work / name, bench.hosts, lowest, **answers)
    keep_the_pythons_the_agents_have(project, PYTHONS)
    git(project, "commit", "-q", "-am", "The Pythons this machine has")
    return project


def main() -> None:
    with_git_identity()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per request")
    args = parser.parse_args()
    interpreters = [
        Interpreter(path, v)
        for path, v in zip(machine_pythons(list(PYTHONS)), PYTHONS, strict=True)
    ]
    with tempfile.TemporaryDirectory(prefix="pull-request-bench-") as tmp:
        work = Path(tmp)
        emulator = FeedEmulator(latency=args.latency)
        emulator.add_feed(
            "contoso", "widgets", EXAMPLE_PROJECT, upstream=upstream_wheelhouse(*PYTHONS)
        )
        hosts = AzureHosts(emulator, work / "azure-hosts")
        bench = Bench(work, hosts, interpreters)
        try:
            report(bench, interpreters, args.latency)
        finally:
            hosts.stop()


def report(bench: Bench, interpreters: list[Interpreter], latency: float) -> None:
    # The template's Linux job with 1, 2 and 3 Pythons (the project's lowest going down).
    linux = {}
    for count in (1, 2, 3):
        lowest = interpreters[-count]
        project = rendered(bench, lowest, f"template-{count}")
        (job,) = bench.warm_jobs(project)
        linux[count] = job
    windows = linux[1].seconds  # counted as long as a one-Python Linux job
    three = interpreters[0]
    per_python = bench.warm_jobs(rendered(bench, three, "per-python", job_per_python=True))
    base = rendered(bench, three, "patterns")
    index_url = bench.hosts.emulator.index_url(bench.hosts.emulator.feeds[0])
    seed = bench.warm_jobs(
        pipeline_project(base, "seed", seed_pipeline(list(PYTHONS))),
        pypi=tools_wheelhouse(PYTHONS[0]),  # uv's wheel fits every Python
    )
    microsoft = bench.warm_jobs(
        pipeline_project(base, "microsoft", microsoft_pipeline(list(PYTHONS), index_url))
    )
    print(f"\nA warm pull request, feed latency {latency * 1000:.0f} ms per request, 3 Pythons\n")
    header = (
        f"{'pipeline':<28} {'jobs':>4} {'fixed s/job':>11} {'job s':>6} "
        f"{'agent s':>7} {'wall s, 1 agent':>15} {'wall s, 5 agents':>16}"
    )
    print(header)
    print("-" * len(header))
    rows = {
        "template": ([linux[3].seconds, windows], [linux[3].fixed]),
        "template, a job per Python": (
            [job.seconds for job in per_python] + [windows],
            [job.fixed for job in per_python],
        ),
        "seed (uv's docs)": ([job.seconds for job in seed], [job.fixed for job in seed]),
        "Microsoft's matrix": (
            [job.seconds for job in microsoft],
            [job.fixed for job in microsoft],
        ),
    }
    for name, (jobs, fixed) in rows.items():
        print(
            f"{name:<28} {len(jobs):>4} {statistics.median(fixed):>11.2f} "
            f"{statistics.median(jobs):>6.2f} {sum(jobs):>7.2f} "
            f"{wall_time(jobs, 1):>15.2f} {wall_time(jobs, 5):>16.2f}"
        )
    growth(linux, windows, rows)


def growth(linux: dict[int, Job], windows: float, rows: dict) -> None:
    """How the figures grow with the number of supported Pythons, N: the template's Linux
    job fitted to a line over N = 1..3; a job-per-Python pattern adds one median job."""
    counts = sorted(linux)
    mean_n = statistics.mean(counts)
    mean_s = statistics.mean(linux[n].seconds for n in counts)
    slope = sum((n - mean_n) * (linux[n].seconds - mean_s) for n in counts) / sum(
        (n - mean_n) ** 2 for n in counts
    )
    intercept = mean_s - slope * mean_n
    print(
        f"\nThe template's Linux job: {intercept:.2f} s + {slope:.2f} s per Python "
        f"(measured: {', '.join(f'{n}: {linux[n].seconds:.2f} s' for n in counts)}); its "
        f"fixed cost stays {statistics.median(linux[n].fixed for n in counts):.2f} s."
    )
    per_job = {name: statistics.median(jobs) for name, (jobs, _) in rows.items()}
    print(
        "\nWith N supported Pythons (N > 3 extrapolated): agent jobs / agent s / "
        "wall s on 1 agent / on 5 agents\n"
    )
    print(f"{'N':>2}  " + "  ".join(f"{name:<30}" for name in per_job))
    for n in range(1, SUPPORTED + 1):
        cells = []
        for name, job in per_job.items():
            if name == "template":
                jobs = [intercept + slope * n, windows]
            elif name.startswith("template"):
                jobs = [job] * n + [windows]
            else:
                jobs = [job] * n
            cells.append(
                f"{len(jobs)} / {sum(jobs):6.1f} / {wall_time(jobs, 1):5.1f} / "
                f"{wall_time(jobs, 5):4.1f}"
            )
        print(f"{n:>2}  " + "  ".join(f"{cell:<30}" for cell in cells))


if __name__ == "__main__":
    main()
