"""The generated azure-pipelines.yml, read as a reviewer would read it."""

import itertools
import tomllib
from pathlib import Path

import pytest
import yaml

from azure_standins.pipeline.hosts import SERVER_FLOOR, SUPPORTED_RELEASES, NotOnThisHost
from azure_standins.pipeline.portable_script import cmd_problems
from azure_standins.task_reference import RELEASES, SERVER_RELEASES
from azure_standins.template_facts import EXAMPLE_SERVER_ANSWERS, PINNED_UV, PYTHON_VERSIONS
from tests.schema import compiled, job_step_list, jobs, read_pipeline, steps
from tests.variants import MATRIX, variant_answers, variant_id


def answers_of(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def pythons_of(project: Path) -> list[str]:
    """The Pythons the project's pipeline tests: every supported one from its own up."""
    return list(PYTHON_VERSIONS[PYTHON_VERSIONS.index(answers_of(project)["python_floor"]) :])


def cache_keys(pythons: str) -> tuple[str, list[str]]:
    """The uv cache's key and restore keys for a job testing `pythons` ("python 3.12 3.13")."""
    prefix = f'"uv-cache" | "$(Agent.OS)" | "{pythons}"'
    return f"{prefix} | .python-version | uv.lock", [f"{prefix} | .python-version", prefix]


def job(pipeline: dict, name: str) -> dict:
    (found,) = [j for j in jobs(pipeline) if name in (j.get("job"), j.get("deployment"))]
    return found


def job_steps(pipeline: dict, name: str) -> list[dict]:
    return job_step_list(job(pipeline, name))


def scripts_of_test_job(project: Path) -> list[str]:
    """The scripts of the job that lints, tests every Python and builds."""
    (first, *_) = jobs(read_pipeline(project))
    return [s["script"] for s in job_step_list(first) if "script" in s]


@pytest.fixture(scope="module", params=[True, False], ids=["publish", "consume"])
def project(request, render) -> Path:
    return render(publish=request.param)


@pytest.mark.parametrize("variant", MATRIX, ids=[variant_id(*v) for v in MATRIX])
def test_every_script_works_in_bash_and_cmd(render, variant):
    pipeline = read_pipeline(render(**variant_answers(*variant)))
    problems = {s["script"]: cmd_problems(s["script"]) for s in steps(pipeline) if "script" in s}
    assert {script: found for script, found in problems.items() if found} == {}


def test_access_token_is_mapped_only_into_step_env(project):
    pipeline = read_pipeline(project)
    assert "System.AccessToken" not in str(pipeline["variables"])
    for step in steps(pipeline):
        outside_env = {k: v for k, v in step.items() if k != "env"}
        assert "System.AccessToken" not in str(outside_env)
        for name, value in step.get("env", {}).items():
            if "System.AccessToken" in value:
                assert name.endswith("_PASSWORD") or name == "PIP_INDEX_URL"


def test_no_prompts_and_no_python_downloads_in_ci(project):
    variables = read_pipeline(project)["variables"]
    assert variables["UV_KEYRING_PROVIDER"] == "disabled"
    assert variables["UV_INDEX_AZURE_DEVOPS_USERNAME"] == "VssSessionToken"
    assert variables["UV_PYTHON_DOWNLOADS"] == "never"


def test_uv_is_pinned_once_and_installed_from_the_feed(project):
    pipeline = read_pipeline(project)
    pinned = PINNED_UV
    assert pipeline["variables"]["UV_VERSION"] == pinned
    assert pipeline["variables"]["PIPELINE_UV_DIR"] == "$(Pipeline.Workspace)/uv-$(UV_VERSION)"
    installs = [s for s in steps(pipeline) if "install_uv.py" in s.get("script", "")]
    (index,) = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["index"]
    from_the_feed = index["url"].replace(
        "VssSessionToken@", "VssSessionToken:$(System.AccessToken)@"
    )
    assert len(installs) == len(list(jobs(pipeline))) and all(
        s["script"] == "python .azure-pipelines/install_uv.py"
        and s["env"] == {"PIP_INDEX_URL": from_the_feed, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        for s in installs
    )
    major, minor, _ = pinned.split(".")
    build_requires = (project / "pyproject.toml").read_text()
    assert f'"uv_build>={major}.{minor}.0,<{major}.{int(minor) + 1}"' in build_requires


def test_uv_and_its_cache_come_back_keyed_on_uv_the_pythons_and_the_lock(project):
    """On hosted agents each job restores uv itself (keyed on its version) before it would
    install it, and the uv cache keyed on its Pythons, .python-version and uv.lock."""
    pipeline = read_pipeline(project)
    pythons = pythons_of(project)
    for job_, job_pythons in zip(jobs(pipeline), [pythons, pythons[:1]], strict=True):
        uv, uv_cache = [s for s in job_step_list(job_) if s.get("task") == "Cache@2"]
        names = [s.get("displayName") for s in job_step_list(job_)]
        assert names.index(uv["displayName"]) < names.index("Install uv $(UV_VERSION)")
        assert uv["inputs"] == {
            "key": '"uv" | "$(Agent.OS)" | "$(UV_VERSION)"',
            "path": "$(PIPELINE_UV_DIR)",
        }
        key, restore_keys = cache_keys("python " + " ".join(job_pythons))
        assert uv_cache["inputs"]["key"] == key
        assert uv_cache["inputs"]["restoreKeys"].splitlines() == restore_keys
        assert uv_cache["inputs"]["path"] == "$(UV_CACHE_DIR)"
    assert pipeline["variables"]["UV_CACHE_DIR"].startswith("$(Pipeline.Workspace)/")


def test_cache_is_pruned_without_dropping_downloaded_wheels(project):
    scripts = [s["script"] for s in steps(read_pipeline(project)) if "script" in s]
    assert "uv cache prune" in scripts
    assert not any("--ci" in script for script in scripts)
    assert scripts.index("uv cache prune") == len(scripts_of_test_job(project)) - 1


def test_test_job_syncs_lints_tests_every_python_and_builds_in_order(project):
    answers = answers_of(project)
    pythons = pythons_of(project)
    assert scripts_of_test_job(project) == [
        "python .azure-pipelines/install_uv.py",
        "uv sync --locked",
        "uv run --no-sync ruff check",
        "uv run --no-sync ruff format --check",
        "uv run --no-sync mypy",
        *itertools.chain.from_iterable(
            [
                f"uv sync --locked --python {python}",
                f"uv run --no-sync pytest --junitxml=test-results-{python}.xml --cov",
            ]
            for python in pythons
        ),
        "uv run --no-sync coverage combine",
        "uv run --no-sync coverage xml -o coverage.xml",
        "uv build --no-sources",
        *(
            [
                "python .azure-pipelines/check_upload.py dist"
                " --keep $(Build.ArtifactStagingDirectory)/dist"
            ]
            if answers["publish"]
            else []
        ),
        "python .azure-pipelines/trim_uv_cache.py",
        "uv cache prune",
    ]
    # What the release promotes, kept last: a rerun of a failed job never publishes it twice.
    (linux, _windows) = jobs(read_pipeline(project))
    kept = [s for s in job_step_list(linux) if s.get("task") == "PublishPipelineArtifact@1"]
    assert kept == (
        [
            {
                "task": "PublishPipelineArtifact@1",
                "displayName": "Keep the build for the release",
                "inputs": {
                    "targetPath": "$(Build.ArtifactStagingDirectory)/dist",
                    "artifact": "dist",
                },
            }
        ]
        if answers["publish"]
        else []
    )
    assert not kept or job_step_list(linux)[-1] == kept[0]
    # Each Python's results are a test run of their own, named after it.
    results = [s for s in job_step_list(linux) if s.get("task") == "PublishTestResults@2"]
    assert [(s["inputs"]["testResultsFiles"], s["inputs"]["testRunTitle"]) for s in results] == [
        (f"test-results-{python}.xml", f"Python {python} on $(Agent.OS)") for python in pythons
    ]
    # Each Python's environment and coverage file are its own; every Python runs even
    # after another one's tests failed.
    for python in pythons:
        (test,) = [
            s for s in job_step_list(linux) if s.get("displayName") == f"Test with Python {python}"
        ]
        assert test["env"]["UV_PROJECT_ENVIRONMENT"] == f"$(Agent.TempDirectory)/python-{python}"
        assert test["env"]["COVERAGE_FILE"] == f".coverage.{python}"
        assert test["condition"] == "succeededOrFailed()"
    (coverage,) = [
        s for s in job_step_list(linux) if s.get("task") == "PublishCodeCoverageResults@2"
    ]
    assert coverage["inputs"]["summaryFileLocation"] == "coverage.xml"


def used_pythons(job_: dict) -> list[str]:
    return [
        s["inputs"]["versionSpec"]
        for s in job_step_list(job_)
        if s.get("task") == "UsePythonVersion@0"
    ]


def test_a_hosted_build_is_two_jobs_every_python_on_linux_and_the_lowest_on_windows(render):
    pipeline = read_pipeline(render(python_version="3.12", python_floor="3.12"))
    linux, windows = jobs(pipeline)
    assert (linux["job"], linux["pool"]) == ("Linux", {"vmImage": "ubuntu-latest"})
    assert used_pythons(linux) == ["3.12", "3.13", "3.14", "3.15"]
    assert (windows["job"], windows["pool"]) == ("Windows", {"vmImage": "windows-latest"})
    assert used_pythons(windows) == ["3.12"]
    assert [s["displayName"] for s in job_step_list(windows) if "script" in s] == [
        "Install uv $(UV_VERSION)",
        "Install dependencies for Python 3.12",
        "Test with Python 3.12",
        "Trim the uv cache to uv.lock",
        "Prune the uv cache",
    ]
    assert "strategy" not in str(pipeline)


@pytest.mark.parametrize(
    "answers",
    [{"agent_pool": "Linux Agents"}, {"azure_host": "https://devops.contoso.com/tfs"}],
    ids=["services-pool", "server"],
)
def test_a_self_hosted_pool_runs_the_build_with_every_python_in_one_job(render, answers):
    pipeline = read_pipeline(render(python_version="3.13", python_floor="3.13", **answers))
    pool = answers.get("agent_pool", "Default")
    (only,) = jobs(pipeline)
    assert only["pool"] == {"name": pool}
    assert used_pythons(only) == ["3.13", "3.14", "3.15"]
    assert "vmImage" not in str(pipeline)
    # uv stays in the agents' tool cache, beside the Pythons.
    assert pipeline["variables"]["PIPELINE_UV_DIR"] == "$(Agent.ToolsDirectory)/uv/$(UV_VERSION)"


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {},
            {
                "Linux_Python_3_13": {"imageName": "ubuntu-latest", "UV_PYTHON": "3.13"},
                "Linux_Python_3_14": {"imageName": "ubuntu-latest", "UV_PYTHON": "3.14"},
                "Linux_Python_3_15": {"imageName": "ubuntu-latest", "UV_PYTHON": "3.15"},
                "Windows_Python_3_13": {"imageName": "windows-latest", "UV_PYTHON": "3.13"},
            },
        ),
        (
            {"agent_pool": "Linux Agents"},
            {
                "Python_3_13": {"UV_PYTHON": "3.13"},
                "Python_3_14": {"UV_PYTHON": "3.14"},
                "Python_3_15": {"UV_PYTHON": "3.15"},
            },
        ),
    ],
    ids=["hosted", "pool"],
)
def test_job_per_python_goes_back_to_a_job_for_each_python(render, answers, expected):
    pipeline = read_pipeline(
        render(python_version="3.13", python_floor="3.13", job_per_python=True, **answers)
    )
    (only,) = jobs(pipeline)
    assert only["strategy"]["matrix"] == expected
    assert used_pythons(only) == ["$(UV_PYTHON)"]
    key, _ = cache_keys("python$(UV_PYTHON)")
    assert [s["inputs"]["key"] for s in job_step_list(only) if s.get("task") == "Cache@2"] == (
        [] if answers else ['"uv" | "$(Agent.OS)" | "$(UV_VERSION)"', key]
    )
    titles = [s["inputs"]["testRunTitle"] for s in job_step_list(only) if "testRunTitle" in str(s)]
    assert titles == ["Python $(UV_PYTHON) on $(Agent.OS)"]


@pytest.mark.parametrize("publish", [True, False], ids=["publish", "consume"])
def test_a_server_render_runs_on_every_release_from_the_floor_up_and_on_no_older(
    render, agent, publish
):
    """Microsoft's task reference decides: the runner, standing in for each release,
    compiles the render for a branch, a pull request and a tag, and refuses what the
    release lacks (tasks, inputs, input values, or what only Services serves)."""
    project = render(azure_host="https://devops.contoso.com/tfs", publish=publish)
    assert agent(project).release == SERVER_FLOOR
    refs = ["refs/heads/main", "refs/pull/1/merge", "refs/tags/v0.1.0"]
    pipelines = ["azure-pipelines.yml", *([".azure-pipelines/release.yml"] if publish else [])]
    for release in SERVER_RELEASES:
        refusals = []
        for pipeline, ref in itertools.product(pipelines, refs):
            runner = agent(project, release=release, pipeline_file=pipeline)
            try:
                runner.compiled({"Build.SourceBranch": ref})
            except NotOnThisHost as refused:
                assert RELEASES[release] in str(refused)
                refusals.append(pipeline)
        # The build pipeline alone already needs 2022.2; the release one, 2022.1.
        assert ("azure-pipelines.yml" in refusals) == (release not in SUPPORTED_RELEASES)


def test_pull_requests_are_built_by_a_build_validation_policy_not_pr(project):
    """Azure Repos Git ignores `pr:`: the pipeline has none and says what builds them."""
    pipeline = read_pipeline(project)
    assert pipeline["trigger"]["branches"]["include"] == ["main"]
    assert "pr" not in pipeline
    header = (project / "azure-pipelines.yml").read_text().split("\ntrigger:")[0]
    assert "Build Validation" in header and "docs/pipeline.md" in header
    page = (project / "docs/pipeline.md").read_text()
    assert "Branch Policies > `main` > Build Validation" in page.replace("\n", " ")


RELEASE_POOLS = {
    "services": ({}, {"vmImage": "ubuntu-latest"}),
    "services with pools": (
        {"agent_pool": "Linux Agents", "release_pool": "Releases"},
        {"name": "Releases"},
    ),
    "server": (EXAMPLE_SERVER_ANSWERS, {"name": "Releases"}),
}


@pytest.mark.parametrize(("answers", "pool"), RELEASE_POOLS.values(), ids=RELEASE_POOLS)
def test_the_release_promotes_mains_tested_build_on_agents_no_pull_request_uses(
    render, answers, pool
):
    """Started by main's build completing, never by a push; a first stage decides with no
    protected resource; the release stage exists only in a run main's build started, asks
    its checks only for a new version, and never builds: it uploads main's files."""
    project = render(publish=True, **answers)
    text = yaml.safe_load((project / ".azure-pipelines/release.yml").read_text())
    assert text["trigger"] == "none" and text["pr"] == "none"
    (resource,) = text["resources"]["pipelines"]
    assert resource == {
        "pipeline": "build",
        "source": "contoso-widgets",
        "trigger": {"branches": {"include": ["main"]}},
    }
    by_hand = compiled(text, "refs/heads/main", "Manual")
    assert [stage["stage"] for stage in by_hand["stages"]] == ["Decide"]
    release = compiled(text, "refs/heads/main", "ResourceTrigger")
    decide, deploy = release["stages"]
    (decide_job,) = decide["jobs"]
    assert "deployment" not in decide_job and "environment" not in decide_job
    assert not any("ServiceConnection" in str(step) for step in job_step_list(decide_job))
    (decider,) = [s for s in job_step_list(decide_job) if s.get("name") == "decide"]
    assert decider["script"] == 'python .azure-pipelines/release.py decide "$(RELEASE_FILES)"'
    assert deploy["dependsOn"] == "Decide" and deploy["lockBehavior"] == "sequential"
    assert "dependencies.Decide.outputs['Decide.decide.NEW_VERSION']" in deploy["condition"]
    (deployment,) = deploy["jobs"]
    assert deployment["environment"] == "contoso-widgets-release"
    # Decide and release run where no build runs: a pool of their own, or a new machine.
    assert decide_job["pool"] == deployment["pool"] == pool
    assert all(job_["pool"] != pool for job_ in jobs(read_pipeline(project)) if "name" in pool)
    assert release["variables"]["UV_CACHE_DIR"].startswith("$(Agent.TempDirectory)/")
    assert release["variables"]["RELEASE_TOOLS"].startswith("$(Agent.TempDirectory)/")
    names = [
        s.get("task") or s.get("script") or f"{', '.join(f'{k}: {v}' for k, v in s.items())}"
        for s in job_step_list(deployment)
    ]
    download = (
        "DownloadBuildArtifacts@1" if "azure_host" in answers else "DownloadPipelineArtifact@2"
    )
    assert names == [
        "download: none",
        "checkout: self",
        "UsePythonVersion@0",
        'python -m pip install --target "$(RELEASE_TOOLS)" uv==$(UV_VERSION)',
        download,
        'python .azure-pipelines/release.py check "$(RELEASE_FILES)"',
        "python .azure-pipelines/keep_release_run.py",
        "TwineAuthenticate@1",
        'python .azure-pipelines/upload_release.py azure-devops "$(RELEASE_FILES)"',
        'python .azure-pipelines/release.py tag "$(RELEASE_FILES)"',
    ]
    assert "uv build" not in str(release) and "UV_PUBLISH_TOKEN" not in str(release)


def test_pull_requests_keep_their_own_uv_cache_on_a_pool(render):
    project = render(agent_pool="Linux Agents")
    folders = {
        reason: read_pipeline(project, "refs/heads/main", reason)["variables"]["UV_CACHE_DIR"]
        for reason in ("IndividualCI", "PullRequest")
    }
    assert folders["IndividualCI"] == "$(Agent.WorkFolder)/uv-cache/$(System.DefinitionId)"
    assert folders["PullRequest"] == folders["IndividualCI"] + "-pull-requests"


@pytest.mark.parametrize(
    ("answers", "pipeline_variable", "pyproject_setting"),
    [
        ({}, False, False),  # Microsoft-hosted agents: public CAs only
        ({"agent_pool": "Linux Agents"}, True, False),  # agents in the company network
        (EXAMPLE_SERVER_ANSWERS, False, True),  # every machine: the server's own CA
    ],
    ids=["hosted", "pool", "server"],
)
def test_uv_trusts_the_system_certificates_where_a_company_ca_is_likely(
    render, answers, pipeline_variable, pyproject_setting
):
    project = render(**answers)
    variables = read_pipeline(project)["variables"]
    assert (variables.get("UV_SYSTEM_CERTS") == "true") == pipeline_variable
    uv_settings = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]
    assert uv_settings.get("system-certs", False) == pyproject_setting


def test_an_applications_image_is_built_on_every_run_and_pushed_from_main_alone(render):
    """Every run builds the image with the job's token as the build secret; only main's
    runs name the registry's service connection and push, tagged with the version and the
    commit, after the tests."""
    project = render(project_kind="application", publish=False)

    def image_steps(ref: str, reason: str) -> tuple[dict, list[dict]]:
        (job,) = [job for job in jobs(read_pipeline(project, ref, reason)) if job["job"] == "Image"]
        return job, [step for step in job["steps"] if step.get("task") == "Docker@2"]

    job, pull_request = image_steps("refs/pull/1/merge", "PullRequest")
    assert job["dependsOn"] == ["Linux", "Windows"]
    (build,) = pull_request
    assert build["inputs"]["command"] == "build" and "containerRegistry" not in build["inputs"]
    assert build["inputs"]["arguments"] == "--secret id=azure-artifacts,env=AZURE_ARTIFACTS_TOKEN"
    assert build["env"]["AZURE_ARTIFACTS_TOKEN"] == "$(System.AccessToken)"
    _, main = image_steps("refs/heads/main", "IndividualCI")
    assert [step["inputs"]["command"] for step in main] == ["build", "push"]
    for step in main:
        assert step["inputs"]["containerRegistry"] == "contoso-widgets-registry"
        assert step["inputs"]["repository"] == "contoso-widgets"
        assert step["inputs"]["tags"].split() == ["$(IMAGE_VERSION)", "$(Build.SourceVersion)"]
    library = read_pipeline(render(publish=False), "refs/heads/main", "IndividualCI")
    assert "Image" not in [job["job"] for job in jobs(library)]
