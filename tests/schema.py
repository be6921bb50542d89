"""Validate rendered pipelines with Microsoft's Azure Pipelines schema (via check-jsonschema).

Two gaps of the schema shipped with check-jsonschema are bridged with Microsoft's task
reference (azure_standins/task_reference) instead:

- it names PublishCodeCoverageResults@2 but only defines inputs for @1, so any @2 step fails
  validation whatever its inputs. Microsoft recommends @2 (@1 is deprecated): the step is
  taken out before validation, and its inputs are checked by hand here instead;
- its UsePythonVersion@0 `architecture` admits x86 and x64 only, while the task reference
  lists arm64 on Azure DevOps Services: arm64 is checked against the reference, then
  validated as x64.
"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from azure_standins import COMMAND_TIMEOUT
from azure_standins.pipeline.compile_time import (
    compile_pipeline,
    declared_variables,
    template_steps,
)
from azure_standins.task_reference import SERVICES, task_problems

COVERAGE_TASK = "PublishCodeCoverageResults@2"


# A release tag's run compiles every stage in: the pipeline as a reviewer reads it whole.
TAG_REF = "refs/tags/v0.1.0"


def read_pipeline(project: Path, ref: str = TAG_REF, reason: str = "IndividualCI") -> dict:
    """The project's pipeline as Azure compiles it for a run of `ref`, with each steps
    template's steps in place of the step that includes it."""
    text = (project / "azure-pipelines.yml").read_text(encoding="utf-8")
    return with_templates(compiled(yaml.safe_load(text), ref, reason), project)


def with_templates(pipeline: dict, folder: Path) -> dict:
    """Each `- template:` step replaced by the template's steps, its parameters inserted
    (paths are relative to the including file's folder)."""
    for job in jobs(pipeline):
        job_step_list(job)[:] = list(_included(job_step_list(job), folder))
    return pipeline


def _included(steps_of: list[dict], folder: Path):
    def read(path: str) -> str:
        return (folder / path).read_text(encoding="utf-8")

    for step in steps_of:
        if "template" in step:
            yield from _included(template_steps(step, read), folder)
        else:
            yield step


def compiled(pipeline: dict, ref: str = TAG_REF, reason: str = "IndividualCI") -> dict:
    predefined = {"Build.SourceBranch": ref, "Build.Reason": reason}
    return compile_pipeline(pipeline, {**declared_variables(pipeline), **predefined})


def jobs(pipeline: dict):
    """Every job (and deployment job) of every stage, in order."""
    for stage in pipeline.get("stages", []):
        yield from stage.get("jobs", [])


def job_step_list(job: dict) -> list[dict]:
    """A job's steps: a deployment job keeps them in its runOnce strategy's deploy hook."""
    if "deployment" in job:
        return job["strategy"]["runOnce"]["deploy"]["steps"]
    return job.get("steps", [])


def steps(pipeline: dict):
    """Every step of every job of every stage, in order."""
    for job in jobs(pipeline):
        yield from job_step_list(job)


def for_the_schema(pipeline: dict) -> dict:
    """The pipeline without what the schema cannot judge (checked by known_gap_errors)."""
    for job in jobs(pipeline):
        kept = [s for s in job_step_list(job) if s.get("task") != COVERAGE_TASK]
        job_step_list(job)[:] = kept
        for step in kept:
            if step.get("task") == "UsePythonVersion@0" and "architecture" in step["inputs"]:
                step["inputs"]["architecture"] = "x64"
    return pipeline


def known_gap_errors(pipeline: dict) -> list[str]:
    errors = [
        problem
        for step in steps(pipeline)
        if step.get("task") == "UsePythonVersion@0"
        for problem in task_problems(step["task"], step.get("inputs") or {}, SERVICES)
    ]
    for step in steps(pipeline):
        if step.get("task") == COVERAGE_TASK:
            inputs = step.get("inputs", {})
            if not inputs.get("summaryFileLocation"):
                errors.append(f"{COVERAGE_TASK} needs inputs.summaryFileLocation")
            unknown = set(inputs) - {"summaryFileLocation", "pathToSources", "failIfCoverageEmpty"}
            if unknown:
                errors.append(f"{COVERAGE_TASK} has unknown inputs {sorted(unknown)}")
    return errors


def validate_pipelines(files: list[Path], workdir: Path) -> dict[Path, list[str]]:
    """Validate many pipelines, each with its steps templates in place, in one
    check-jsonschema run; map each file to its errors. Pipelines that come out the same
    (variants that differ elsewhere) are validated once."""
    prepared: dict[str, list[Path]] = {}
    by_text: dict[str, str] = {}
    errors: dict[Path, list[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        pipeline = with_templates(compiled(yaml.safe_load(text)), path.parent)
        errors[path] = known_gap_errors(pipeline)
        text = yaml.safe_dump(for_the_schema(pipeline))
        if text not in by_text:
            copy = workdir / f"pipeline-{len(by_text)}.yml"
            copy.write_text(text, encoding="utf-8")
            by_text[text] = str(copy)
            prepared[str(copy)] = []
        prepared[by_text[text]].append(path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.azure-pipelines",
            "--data-transform",
            "azure-pipelines",
            # The schema's git-ref pattern crashes the default regex engine on branch filters.
            "--regex-variant",
            "nonunicode",
            "--output-format",
            "json",
            *prepared,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT,
    )
    report = json.loads(result.stdout)
    for error in report.get("errors", []):
        deepest = error.get("best_deep_match") or error
        for path in prepared[error["filename"]]:
            errors[path].append(f"{deepest['path']}: {deepest['message'][:300]}")
    for error in report.get("parse_errors", []):
        for path in prepared[error["filename"]]:
            errors[path].append(f"parse error: {error}")
    return errors
