"""Runs across a project's pipelines, as Azure DevOps keeps them: one pipeline's completion
triggering another, stage output variables, variables set at queue time, "Rerun failed jobs",
pool permissions, and the record of each run the Build REST API serves. Fast checks, no uv."""

import yaml

from azure_standins.git_repo import commit_as_new_repository, git
from azure_standins.pipeline import CacheStore, PipelineRunner, ToolCache
from azure_standins.pipeline.protected import Pool
from azure_standins.pipeline.results import Runs
from azure_standins.uv_environment import system_path
from tests.standins.test_pipeline_runner import TOKEN, stage

PUBLISH_OUT = {
    "task": "PublishPipelineArtifact@1",
    "inputs": {"targetPath": "out", "artifact": "out"},
}


def project_with(
    tmp_path, pipelines: dict[str, dict], **options
) -> tuple[dict[str, PipelineRunner], Runs]:
    """A git repository holding one YAML file per pipeline, committed on main, and a runner
    for each pipeline (named as the dict's keys), sharing the project's record of runs."""
    project = tmp_path / "project"
    project.mkdir()
    for name, pipeline in pipelines.items():
        (project / f"{name}.yml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    commit_as_new_repository(project, "First")
    runs = Runs()
    runners = {
        name: PipelineRunner(
            project,
            tmp_path / "agent",
            cache=CacheStore(tmp_path / "pipeline-cache"),
            tools=ToolCache(),
            access_token=TOKEN,
            env={"PATH": system_path()},
            pipeline_file=f"{name}.yml",
            name=name,
            runs=runs,
            **options,
        )
        for name in pipelines
    }
    return runners, runs


def built_on_main(*steps: dict) -> dict:
    return {"trigger": {"branches": {"include": ["main"]}}, "stages": [stage("Build", *steps)]}


def released_after(source: str, *steps: dict, trigger=None) -> dict:
    resource = {"pipeline": "build", "source": source}
    resource["trigger"] = trigger or {"branches": {"include": ["main"]}}
    return {
        "trigger": "none",
        "resources": {"pipelines": [resource]},
        "stages": [stage("Release", *steps)],
    }


def test_a_successful_run_on_a_filtered_branch_triggers_the_pipelines_that_name_it(tmp_path):
    say = {
        "script": 'echo "$BUILD_REASON $BUILD_SOURCEVERSION $RESOURCES_PIPELINE_BUILD_RUNID '
        '$RESOURCES_PIPELINE_BUILD_PIPELINENAME"',
        "displayName": "say",
    }
    runners, _ = project_with(
        tmp_path,
        {
            "build": {
                "trigger": {"branches": {"include": ["*"]}},
                "stages": [stage("Build", {"script": "test ! -e fail"})],
            },
            "release": released_after("build", say),
        },
    )
    build, release = runners["build"], runners["release"]
    project = build.project
    # A push starts only the build: the release's own trigger is none.
    assert not release.triggered("refs/heads/main", "IndividualCI")
    main = build.run()
    assert main.succeeded, main.log
    git(project, "commit", "-q", "--allow-empty", "-m", "After the build")
    triggered = release.completed(main)
    assert triggered.succeeded, triggered.log
    # The same commit as the run that triggered it, not main's newer head.
    said = triggered.job("Release").step("say").output.split()
    assert said == ["ResourceTrigger", main.commit, str(main.run_id), "build"]
    assert triggered.run_id == main.run_id + 1
    # A failed run, or a run of a branch the filters leave out, triggers nothing.
    (project / "fail").write_text("")
    git(project, "add", "fail")
    git(project, "commit", "-q", "-m", "Fail the build")
    failed = build.run()
    assert failed.status == "failed"
    assert not release.completed(failed).triggered
    git(project, "rm", "-q", "fail")
    git(project, "commit", "-q", "-m", "Pass again")
    git(project, "switch", "-q", "-c", "feature")
    feature = build.run("refs/heads/feature")
    assert feature.succeeded
    assert not release.completed(feature).triggered


def test_a_branch_that_adds_itself_to_trigger_starts_a_run(tmp_path):
    """The trigger is read from the pushed commit, not from main or the working tree."""
    runners, _ = project_with(tmp_path, {"build": built_on_main({"script": "true"})})
    build = runners["build"]
    project = build.project
    git(project, "switch", "-q", "-c", "feature")
    pipeline = yaml.safe_load((project / "build.yml").read_text())
    pipeline["trigger"]["branches"]["include"].append("feature")
    (project / "build.yml").write_text(yaml.safe_dump(pipeline))
    git(project, "commit", "-q", "-am", "Build this branch too")
    git(project, "switch", "-q", "main")
    assert build.triggered("refs/heads/feature", "IndividualCI")
    # main's trigger does not list the branch; the branch's own commit does
    git(project, "switch", "-q", "-c", "plain", "main")
    assert not build.triggered("refs/heads/plain", "IndividualCI")


def test_a_stage_condition_reads_the_output_variables_of_the_stages_it_depends_on(tmp_path):
    def decide(answer: str) -> dict:
        setting = f"##vso[task.setvariable variable=GO;isOutput=true]{answer}"
        return {"script": f'echo "{setting}"', "name": "decide"}

    def pipeline(answer: str) -> dict:
        later = stage(
            "Later",
            {"script": "true"},
            dependsOn="First",
            condition="eq(dependencies.First.outputs['First.decide.GO'], 'true')",
        )
        in_job = {"script": 'test "$DECIDE_GO" = "' + answer + '"', "displayName": "in the job"}
        return built_on_main_stages(stage("First", decide(answer), in_job), later)

    runners, _ = project_with(tmp_path, {"yes": pipeline("true"), "no": pipeline("false")})
    yes = runners["yes"].run()
    assert yes.succeeded, yes.log
    assert yes.job("Later").status == "succeeded"
    assert yes.outputs["First"] == {"First.decide.GO": "true"}
    no = runners["no"].run()
    assert no.job("First").status == "succeeded", no.log
    assert no.job("Later").status == "skipped"


def built_on_main_stages(*stages: dict) -> dict:
    return {"trigger": {"branches": {"include": ["main"]}}, "stages": list(stages)}


def test_queue_time_variables_reach_every_step_read_only_and_never_override_the_yaml(tmp_path):
    pipeline = built_on_main(
        {"script": 'test "$WHO" = "queued"', "displayName": "sees it"},
        {"script": 'echo "##vso[task.setvariable variable=WHO]changed"', "displayName": "set"},
        {"script": 'test "$WHO" = "queued"', "displayName": "still"},
        {"script": 'test "$FIXED" = "yaml"', "displayName": "declared"},
        {"script": "true", "displayName": "bash runs BASH_ENV first"},
    )
    pipeline["variables"] = {"FIXED": "yaml"}
    runners, runs = project_with(tmp_path, {"build": pipeline})
    build = runners["build"]
    marker = tmp_path / "bash-env-ran"
    queued = {
        "WHO": "queued",
        "FIXED": "queue",
        # bash expands BASH_ENV (command substitution included) before every script step
        "BASH_ENV": f"$(echo ran >> {marker})",
    }
    result = build.run("refs/heads/main", "Manual", variables=queued)
    assert result.succeeded, result.log
    assert len(marker.read_text().splitlines()) == 5
    assert result.queued_with == {"WHO": "queued", "BASH_ENV": queued["BASH_ENV"]}
    assert runs.by_id[result.run_id] is result


def test_rerun_failed_jobs_runs_only_what_failed_in_the_same_run(tmp_path):
    built = stage(
        "Build", {"script": "mkdir out && echo built > out/file && echo x >> ../../built"}
    )
    built["jobs"][0]["steps"].append(PUBLISH_OUT)
    flaky = stage(
        "Release",
        {"task": "DownloadPipelineArtifact@2", "inputs": {"artifact": "out", "path": "out"}},
        {"script": 'test "$SYSTEM_JOBATTEMPT" = 2 && test -e out/file', "displayName": "flaky"},
    )
    runners, _ = project_with(tmp_path, {"build": built_on_main_stages(built, flaky)})
    build = runners["build"]
    first = build.run()
    assert first.job("Release").status == "failed"
    again = build.rerun_failed_jobs(first)
    assert again.succeeded, again.log
    assert again.run_id == first.run_id
    # The build job kept its result: it did not run again (nor publish its artifact twice).
    assert (first.folder / "built").read_text() == "x\n"
    assert again.job("Build") is first.job("Build")


def test_a_pool_permitted_to_one_pipeline_refuses_every_other_before_any_job(tmp_path):
    job_on = {"job": "Job", "pool": {"name": "Releases"}, "steps": [{"script": "true"}]}
    pipeline = built_on_main_stages({"stage": "S", "jobs": [job_on]})
    pools = {"Releases": Pool(pipelines=frozenset({"release"}))}
    runners, _ = project_with(tmp_path, {"release": pipeline, "build": pipeline}, pools=pools)
    assert runners["release"].run().succeeded
    refused = runners["build"].run()
    assert refused.status == "failed" and refused.jobs == []
    assert "Could not find a pool with name Releases" in refused.log


def test_a_pools_branch_control_stops_a_job_of_another_branch(tmp_path):
    job_on = {"job": "Job", "pool": {"name": "Releases"}, "steps": [{"script": "true"}]}
    pipeline = {
        "trigger": {"branches": {"include": ["*"]}},
        "stages": [{"stage": "S", "jobs": [job_on]}],
    }
    pools = {"Releases": Pool(allowed_branches=("refs/heads/main",))}
    runners, _ = project_with(tmp_path, {"release": pipeline}, pools=pools)
    runner = runners["release"]
    git(runner.project, "switch", "-q", "-c", "feature")
    result = runner.run("refs/heads/feature")
    assert result.job("Job").status == "failed" and result.job("Job").steps == []
    assert "Branch control on agent pool 'Releases' failed" in result.job("Job").note
    assert runner.run("refs/heads/main").succeeded


def test_a_run_downloads_the_artifact_of_the_pipeline_run_that_triggered_it(tmp_path):
    make = {"script": "mkdir out && echo $BUILD_BUILDID > out/file"}
    download = {
        "task": "DownloadPipelineArtifact@2",
        "inputs": {
            "source": "specific",
            "project": "$(System.TeamProject)",
            "pipeline": "$(resources.pipeline.build.pipelineID)",
            "runVersion": "specific",
            "runId": "$(resources.pipeline.build.runID)",
            "artifact": "out",
            "path": "$(Pipeline.Workspace)/out",
        },
    }
    check = {"script": 'test "$(cat ../out/file)" = "$RESOURCES_PIPELINE_BUILD_RUNID"'}
    runners, _ = project_with(
        tmp_path,
        {
            "build": built_on_main(make, PUBLISH_OUT),
            "other": built_on_main(make, PUBLISH_OUT),
            "release": released_after("build", download, check),
        },
    )
    main = runners["build"].run()
    released = runners["release"].completed(main)
    assert released.succeeded, released.log
    # A run of another pipeline is not a run of `build`.
    other = runners["other"].run()
    download["inputs"]["runId"] = str(other.run_id)
    (runners["release"].project / "release.yml").write_text(
        yaml.safe_dump(released_after("build", download))
    )
    git(runners["release"].project, "commit", "-q", "-am", "Download another pipeline's run")
    wrong = runners["release"].completed(runners["build"].run())
    (failed,) = [step for step in wrong.job("Release").steps if step.status == "failed"]
    assert f"Run {other.run_id} is not a run of pipeline 1." in failed.output


def test_caches_are_scoped_to_a_pipeline_and_branch_and_a_pull_request_writes_only_its_own(
    tmp_path,
):
    cache = {"task": "Cache@2", "inputs": {"key": '"deps"', "path": "$(Pipeline.Workspace)/c"}}
    fill = {"script": 'mkdir -p ../c && echo "$BUILD_SOURCEBRANCH" > ../c/from'}
    said = {"script": "cat ../c/from || true", "displayName": "said"}
    pipeline = {
        "trigger": {"branches": {"include": ["*"]}},
        "stages": [stage("Build", cache, said, fill)],
    }
    runners, _ = project_with(
        tmp_path, {"build": pipeline, "other": pipeline}, build_validation=frozenset({"main"})
    )
    build = runners["build"]
    git(build.project, "branch", "feature")

    def events(result) -> list[str]:
        return [event for _, event in result.cache_events]

    pull_request = build.run("refs/heads/feature", "PullRequest", "main")
    assert events(pull_request) == ["miss", "saved"]
    # main never reads what a pull request wrote...
    main = build.run("refs/heads/main")
    assert events(main) == ["miss", "saved"]
    # ...a pull request reads main's, once it has none of its own...
    git(build.project, "branch", "feature-2", "main")
    second = build.run("refs/heads/feature-2", "PullRequest", "main")
    assert events(second) == ["restored: exact", "not saved: exact hit"]
    assert second.job("Build").step("said").output.strip() == "refs/heads/main"
    # ...and another pipeline reads neither.
    assert events(runners["other"].run("refs/heads/main")) == ["miss", "saved"]


def test_a_compile_time_if_cannot_see_runtime_only_variables(tmp_path):
    """Build.BuildId, Agent.OS and the pipeline resources' variables exist only at run time:
    a `${{ if }}` on them sees null."""
    pipeline = built_on_main_stages(
        stage("Always", {"script": "true"}),
        {"${{ if eq(variables['Build.BuildId'], '1') }}": [stage("ById", {"script": "true"})]},
        {"${{ if eq(variables['Agent.OS'], 'Linux') }}": [stage("ByOs", {"script": "true"})]},
        {
            "${{ if eq(variables['Build.Reason'], 'IndividualCI') }}": [
                stage("ByReason", {"script": "true"})
            ]
        },
    )
    runners, _ = project_with(tmp_path, {"build": pipeline})
    result = runners["build"].run()
    assert result.run_id == 1
    assert [job.stage for job in result.jobs] == ["Always", "ByReason"]
