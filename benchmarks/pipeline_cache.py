"""How fast does a pipeline install dependencies from an Azure feed, cold and warm?

Runs three pipelines with the pipeline runner (azure_standins.pipeline) against the feed
emulator with a per-request latency (default 30 ms, like a feed across a region), for one
rendered project with a realistic dependency set (the dev group plus requests, click, rich
and attrs):

- template: the generated azure-pipelines.yml (Cache@2 on the uv cache, `cache-control` on
  the index, plain `uv cache prune`);
- seed: the pattern from uv's docs and the blog post it came from (Cache@2 on the uv cache,
  `uv cache prune --ci`, no `cache-control` on the index);
- pip: Microsoft's pip-based Python pipeline (Cache@2 on pip's cache, `pip install -r`).

Each runs twice on the same commit: cold (empty pipeline cache), then warm (the cache the
cold run saved). It prints, per run, the install step's time, the feed's requests by kind,
and the size of the saved cache.

    uv run python -m benchmarks.pipeline_cache [--latency 0.03] [--repeat 3]
"""

import argparse
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import copier
import yaml

from azure_standins import COMMAND_TIMEOUT
from azure_standins.azure_hosts import AzureHosts
from azure_standins.feed_emulator import FeedEmulator
from azure_standins.git_repo import commit_as_new_repository, git, with_git_identity
from azure_standins.pipeline import CacheStore, PipelineRunner, ToolCache
from azure_standins.template_facts import (
    EXAMPLE_ANSWERS,
    EXAMPLE_PROJECT,
    PINNED_UV,
    TEMPLATE_ROOT,
)
from azure_standins.uv_environment import (
    Interpreter,
    clean_env,
    find_interpreter,
    run_uv,
    with_feed_token,
)
from azure_standins.wheelhouse import tools_wheelhouse, upstream_wheelhouse
from tests.machine import keep_the_pythons_the_agents_have

RUNTIME_DEPENDENCIES = ["requests>=2.32", "click>=8.1", "rich>=13", "attrs>=24"]
INSTALL_STEP = "Install dependencies"
RESTORE_STEPS = {
    "template": "Restore the uv cache",
    "pool": None,  # the agents keep the uv cache on their own disk
    "pool-cache2": "Restore the uv cache",
    "seed": "Restore the cache",
    "pip": "Restore the cache",
}
POOL = "Linux Agents"
# The seed pattern's variables: the uv cache on the work disk, keyring off, the job's token.
SEED_VARIABLES = {
    "UV_CACHE_DIR": "$(Pipeline.Workspace)/uv-cache",
    "UV_KEYRING_PROVIDER": "disabled",
    "UV_INDEX_AZURE_DEVOPS_USERNAME": "VssSessionToken",
    "UV_PYTHON_DOWNLOADS": "never",
}


def agent_env(work: Path, python: Interpreter, hosts: AzureHosts) -> dict[str, str]:
    """An agent's environment: nothing of this machine's uv settings, and Azure's hosts
    reachable."""
    machine = clean_env(work / "unused", python.path, work / "config")
    return {
        **{k: v for k, v in machine.items() if not k.startswith("UV_")},
        **hosts.client_env(),
    }


def seed_pipeline(python: str) -> dict:
    """Cache@2 on the uv cache and `uv cache prune --ci`, as uv's docs suggest for CI."""
    return _pipeline(
        python,
        [
            {"script": f"python -m pip install uv=={PINNED_UV}", "displayName": "Install uv"},
            {
                "task": "Cache@2",
                "displayName": "Restore the cache",
                "inputs": {
                    "key": '"uv" | "$(Agent.OS)" | uv.lock',
                    "restoreKeys": '"uv" | "$(Agent.OS)"',
                    "path": "$(UV_CACHE_DIR)",
                },
            },
            {
                "script": "uv sync --locked",
                "displayName": INSTALL_STEP,
                "env": {"UV_INDEX_AZURE_DEVOPS_PASSWORD": "$(System.AccessToken)"},
            },
            {"script": "uv cache prune --ci", "displayName": "Prune the uv cache"},
        ],
        SEED_VARIABLES,
    )


def pip_pipeline(python: str, index_url: str) -> dict:
    """Microsoft's pattern: a pip cache in Cache@2, `pip install -r requirements.txt`, the
    token in the index URL as PipAuthenticate would provide it."""
    authenticated = index_url.replace("://", "://VssSessionToken:$(System.AccessToken)@")
    return _pipeline(
        python,
        [
            {
                "task": "Cache@2",
                "displayName": "Restore the cache",
                "inputs": {
                    "key": 'pip | "$(Agent.OS)" | requirements.txt',
                    "restoreKeys": 'pip | "$(Agent.OS)"',
                    "path": "$(PIP_CACHE_DIR)",
                },
            },
            {"script": "python -m venv .venv", "displayName": "Create a virtual environment"},
            {
                "script": ".venv/bin/python -m pip install --isolated --disable-pip-version-check "
                f"--cache-dir $(PIP_CACHE_DIR) --index-url {authenticated} "
                "-r requirements.txt",
                "displayName": INSTALL_STEP,
            },
        ],
        {"PIP_CACHE_DIR": "$(Pipeline.Workspace)/.pip"},
    )


def _pipeline(python: str, steps: list, variables: dict) -> dict:
    use_python = {"task": "UsePythonVersion@0", "inputs": {"versionSpec": python}}
    return {
        "trigger": {"branches": {"include": ["main"]}},
        "variables": variables,
        "stages": [
            {
                "stage": "Test",
                "jobs": [
                    {
                        "job": "Test",
                        "pool": {"vmImage": "ubuntu-latest"},
                        "steps": [use_python, *steps],
                    }
                ],
            }
        ],
    }


@dataclass
class Measurement:
    pattern: str
    run: str
    restore_seconds: float
    seconds: float
    requests: dict
    cache_bytes: int


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def prepare_project(work: Path, hosts: AzureHosts, python: Interpreter, **answers) -> Path:
    """Render the consume-only variant (with `answers`), add runtime dependencies, lock,
    commit."""
    project = work / ("rendered-for-a-pool" if answers.get("agent_pool") else "project")
    copier.run_copy(
        str(TEMPLATE_ROOT),
        str(project),
        vcs_ref="HEAD",
        defaults=True,
        unsafe=True,
        quiet=True,
        data={
            **EXAMPLE_ANSWERS,
            "azure_project": EXAMPLE_PROJECT,
            "publish": False,
            "python_version": python.version,
            "python_floor": python.version,
            **answers,
        },
    )
    env = with_feed_token(
        {**clean_env(work / "uv-cache", python.path, work / "config"), **hosts.client_env()},
        hosts.emulator.feeds[0].token,
    )
    for command in (
        ("add", "--no-sync", *RUNTIME_DEPENDENCIES),
        ("export", "--quiet", "--no-emit-project", "--output-file", "requirements.txt"),
    ):
        result = run_uv(project, *command, env=env)
        if result.returncode != 0:
            raise SystemExit(result.stderr)
    return commit_as_new_repository(project, "Start")


def variant(project: Path, work: Path, pattern: str, python: str, index_url: str) -> Path:
    """The project as a team using `pattern` would have it, testing this machine's Python:
    `pool` is the template rendered for a named pool (the uv cache on the agents), and
    `pool-cache2` the hosted render's Linux job moved to that pool, keeping Cache@2."""
    copy = work / f"project-{pattern}"
    subprocess.run(
        ["git", "clone", "-q", str(project), str(copy)], check=True, timeout=COMMAND_TIMEOUT
    )
    if pattern in ("template", "pool", "pool-cache2"):
        keep_the_pythons_the_agents_have(copy, [python])
        pipeline = yaml.safe_load((copy / "azure-pipelines.yml").read_text())
        if pattern == "pool-cache2":
            jobs = pipeline["stages"][0]["jobs"]
            jobs[:] = jobs[:1]  # the Linux job
            jobs[0]["pool"] = {"name": POOL}
    elif pattern == "seed":
        pipeline = seed_pipeline(python)
    else:
        pipeline = pip_pipeline(python, index_url)
    (copy / "azure-pipelines.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    if pattern == "seed":
        pyproject = copy / "pyproject.toml"
        lines = pyproject.read_text().splitlines(keepends=True)
        pyproject.write_text(
            "".join(line for line in lines if not line.startswith("cache-control"))
        )
    git(copy, "commit", "-q", "-am", f"Use the {pattern} pipeline")
    return copy


def measure(pattern, project, hosts: AzureHosts, work, python, repeat) -> list[Measurement]:
    emulator = hosts.emulator
    # The job that installs the dependencies (the template's Windows job needs a Windows
    # image, which this machine is not).
    job_name = {"template": "Linux", "pool-cache2": "Linux"}.get(pattern, "Test")
    results = []
    for attempt in range(repeat):
        cache = CacheStore(work / f"cache-{pattern}-{attempt}")
        runner = PipelineRunner(
            project,
            work / f"agent-{pattern}-{attempt}",
            cache=cache,
            tools=ToolCache([python.path]),
            access_token=emulator.feeds[0].token,
            env=agent_env(work, python, hosts),
            # The seed pattern installs uv from PyPI, which Microsoft-hosted agents reach;
            # the template's pipelines install it from the feed.
            pypi=tools_wheelhouse(python.version) if pattern == "seed" else None,
        )
        for run in ("cold", "warm"):
            emulator.reset()
            result = runner.run()
            job = result.job(job_name)
            if result.status == "failed" or job.status != "succeeded":
                raise SystemExit(f"{pattern} {run} run failed:\n{result.log}")
            restore = RESTORE_STEPS[pattern]
            # The pipeline cache service's entries, or what the pool's agents keep.
            kept = (
                runner.work / "agents" / POOL / "_work" / "uv-cache"
                if pattern == "pool"
                else cache.root
            )
            results.append(
                Measurement(
                    pattern,
                    run,
                    job.step(restore).seconds if restore else 0.0,
                    job.step(INSTALL_STEP).seconds,
                    dict(emulator.counts()),
                    directory_size(kept),
                )
            )
    return results


def summarize(results: list[Measurement]) -> dict:
    table = {}
    for m in results:
        row = table.setdefault(
            (m.pattern, m.run),
            {"seconds": [], "restore": [], "requests": m.requests, "cache_bytes": m.cache_bytes},
        )
        row["seconds"].append(m.seconds)
        row["restore"].append(m.restore_seconds)
    return table


def print_table(table: dict, latency: float) -> None:
    print(
        f"\nDependency install step, feed latency {latency * 1000:.0f} ms per request "
        f"(median of {len(next(iter(table.values()))['seconds'])} runs)\n"
    )
    header = (
        f"{'pipeline':<11} {'run':<5} {'restore s':>9} {'install s':>9} {'index':>6} "
        f"{'downloads':>9} {'blobs':>6} {'401s':>5} {'all':>5} {'saved cache':>12}"
    )
    print(header)
    print("-" * len(header))
    for (pattern, run), row in table.items():
        r = row["requests"]
        print(
            f"{pattern:<11} {run:<5} {statistics.median(row['restore']):>9.2f} "
            f"{statistics.median(row['seconds']):>9.2f} "
            f"{r.get('simple', 0):>6} {r.get('download', 0):>9} {r.get('blob', 0):>6} "
            f"{r.get('unauthorized', 0):>5} {sum(r.values()):>5} "
            f"{row['cache_bytes'] / 1e6:>9.2f} MB"
        )
    ours = statistics.median(table[("template", "warm")]["seconds"])
    print()
    for other in ("seed", "pip"):
        theirs = statistics.median(table[(other, "warm")]["seconds"])
        print(f"warm install: {other} / template = {theirs / ours:.1f}x")
    pool = statistics.median(table[("pool", "warm")]["seconds"])
    pool_cache2 = statistics.median(table[("pool-cache2", "warm")]["seconds"])
    pool_restore = statistics.median(table[("pool-cache2", "warm")]["restore"])
    print(
        f"warm on a named pool: Cache@2 restore {pool_restore:.2f} s + install "
        f"{pool_cache2:.2f} s against the agents' cache, install {pool:.2f} s"
    )
    cold_ours = statistics.median(table[("template", "cold")]["seconds"])
    for other in ("seed", "pip"):
        theirs = statistics.median(table[(other, "cold")]["seconds"])
        print(f"cold install: {other} / template = {theirs / cold_ours:.1f}x")


def main() -> None:
    with_git_identity()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per request")
    parser.add_argument("--repeat", type=int, default=3, help="cold+warm pairs per pipeline")
    args = parser.parse_args()
    python = find_interpreter()
    with tempfile.TemporaryDirectory(prefix="pipeline-cache-bench-") as tmp:
        work = Path(tmp)
        emulator = FeedEmulator(latency=args.latency)
        feed = emulator.add_feed(
            "contoso", "widgets", EXAMPLE_PROJECT, upstream=upstream_wheelhouse(python.version)
        )
        hosts = AzureHosts(emulator, work / "azure-hosts")
        try:
            project = prepare_project(work, hosts, python)
            pool_project = prepare_project(work, hosts, python, agent_pool=POOL)
            index_url = emulator.index_url(feed)
            results = []
            for pattern in ("template", "pool", "pool-cache2", "seed", "pip"):
                source = pool_project if pattern == "pool" else project
                copy = variant(source, work, pattern, python.version, index_url)
                results += measure(pattern, copy, hosts, work, python, args.repeat)
            print_table(summarize(results), args.latency)
        finally:
            hosts.stop()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
